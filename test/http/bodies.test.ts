// HttpServer (sim host, real sockets on 127.0.0.1): POST with a bounded body
// (maxBodySize). The body is read into the connection's head buffer and shown to the
// route as request.body; over the limit 413 at once, chunked 411, stalls 408.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, destroyClients, get, sampleStore, sleep, startServer, stopServers, waitFor } from './helpers';
import { HttpServer, methodNotAllowed } from '../../src/net/http-server';
import type { HttpRequest, HttpServerOptions, RouteHandler } from '../../src/net/http-server';
import { STALL_HEAD } from '../../src/net/http-connection';
import type { HttpConnection } from '../../src/net/http-connection';

afterEach(() => {
  destroyClients();
  stopServers();
});

const post = (path: string, body: string | null, extra = ''): string =>
  get(path, (body === null ? '' : `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n`) + extra, 'POST') + (body ?? '');

interface Seen {
  method: string;
  body: string | undefined;
}

/** A server whose /api/echo route records what it saw and answers with the body it got. */
function echoServer(options: HttpServerOptions = {}): ReturnType<typeof startServer> & { seen: Seen[] } {
  const seen: Seen[] = [];
  const echo: RouteHandler = (request: HttpRequest) => {
    // decoded during the call: the view is valid only until the route returns
    const body = request.body ? Buffer.from(request.body).toString('latin1') : undefined;
    seen.push({ method: request.method, body });
    if (request.method !== 'POST') return methodNotAllowed('POST');
    return { contentType: 'application/json', body: `{"got":${JSON.stringify(body)}}` };
  };
  const started = startServer({ store: sampleStore(), maxBodySize: 64, routes: { '/api/echo': echo }, ...options });
  return { ...started, seen };
}

describe('POST bodies: delivered to the route', () => {
  it('a body delivered whole reaches the route; the connection stays open for the next request', async () => {
    const { port, seen, requests } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request(post('/api/echo', '{"on":true}'));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ got: '{"on":true}' });
    expect(r.headers.connection).toBeUndefined();
    expect((await client.request(get('/style.css'))).status).toBe(200);
    expect(seen).toEqual([{ method: 'POST', body: '{"on":true}' }]);
    expect(requests.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['POST /api/echo 200', 'GET /style.css 200']);
  });

  it('a head and body split byte by byte across writes are read whole', async () => {
    const { port, seen } = echoServer({ requestTimeout: 60_000 });
    const client = await RawClient.connect(port);
    client.socket.setNoDelay(true); // one segment per write, as far as the host allows
    const text = post('/api/echo', '{"color":"#20b060"}');
    for (const ch of text) {
      client.write(ch);
      await sleep(1);
    }
    const r = await client.response({ timeoutMs: 30_000 });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ got: '{"color":"#20b060"}' });
    expect(seen).toEqual([{ method: 'POST', body: '{"color":"#20b060"}' }]);
  });

  it('a GET pipelined after a POST body on the same connection is answered next, in order', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    client.write(post('/api/echo', 'GET / HTTP/1.1\r\n') + get('/style.css') + post('/api/echo', 'second'));
    const first = await client.response();
    expect(JSON.parse(first.body.toString())).toEqual({ got: 'GET / HTTP/1.1\r\n' }); // a body that looks like a head is a body
    const second = await client.response();
    expect(second.status).toBe(200);
    expect(second.body.toString()).toBe('body { color: red }\n');
    const third = await client.response();
    expect(JSON.parse(third.body.toString())).toEqual({ got: 'second' });
    expect(seen.map((s) => s.body)).toEqual(['GET / HTTP/1.1\r\n', 'second']);
  });

  it('a body of exactly maxBodySize is read', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    const body = 'x'.repeat(64);
    expect((await client.request(post('/api/echo', body))).status).toBe(200);
    expect(seen[0]!.body).toBe(body);
  });

  it('POST without Content-Length: the route sees an empty body (and GET none)', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request(post('/api/echo', null));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ got: '' });
    const g = await client.request(get('/api/echo'));
    expect(g.status).toBe(405); // the route's own refusal
    expect(g.headers.allow).toBe('POST');
    expect(seen).toEqual([
      { method: 'POST', body: '' },
      { method: 'GET', body: undefined },
    ]);
  });

  it('Expect: 100-continue is ignored: no interim response; the body sent afterwards is read', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    client.write(get('/api/echo', 'Content-Length: 4\r\nExpect: 100-continue\r\n', 'POST'));
    await sleep(100);
    expect(client.pending.length).toBe(0);
    client.write('ping');
    const r = await client.response();
    expect(r.status).toBe(200);
    expect(seen).toEqual([{ method: 'POST', body: 'ping' }]);
  });

  it('HTTP/1.0 POST: answered, then closed', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request('POST /api/echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi');
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(10_000);
    expect(seen).toEqual([{ method: 'POST', body: 'hi' }]);
  });
});

describe('POST bodies: refusals', () => {
  it('Content-Length over maxBodySize -> 413 at once (the body never sent), then close', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request(get('/api/echo', 'Content-Length: 65\r\n', 'POST'));
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(10_000);
    expect(seen).toEqual([]);
  });

  it('Content-Length over the limit with Expect: 100-continue -> 413 at once', async () => {
    const { port } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request(get('/api/echo', 'Content-Length: 100000\r\nExpect: 100-continue\r\n', 'POST'));
    expect(r.status).toBe(413);
    await client.waitClosed(10_000);
  });

  it('a large body sent anyway after the head: 413 arrives whole, no reset under it', async () => {
    const { port } = echoServer();
    const client = await RawClient.connect(port);
    client.write(get('/api/echo', 'Content-Length: 300000\r\n', 'POST'));
    client.write(Buffer.alloc(300000, 0x41));
    const r = await client.response();
    expect(r.status).toBe(413);
    await client.waitClosed(10_000);
  });

  it('chunked POST -> 411 Length Required, then close', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request(get('/api/echo', 'Transfer-Encoding: chunked\r\n', 'POST') + '2\r\nhi\r\n0\r\n\r\n');
    expect(r.status).toBe(411);
    expect(r.reason).toBe('Length Required');
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(10_000);
    expect(seen).toEqual([]);
  });

  it('malformed or conflicting Content-Length on a POST -> 400 and close', async () => {
    const { port } = echoServer();
    for (const extra of ['Content-Length: 2x\r\n', 'Content-Length: 2\r\nContent-Length: 3\r\n', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n']) {
      const client = await RawClient.connect(port);
      const r = await client.request(get('/api/echo', extra, 'POST') + 'hi');
      expect(r.status, extra).toBe(400);
      await client.waitClosed(10_000);
    }
  });

  it('POST to a static path (or nothing) -> 405 with Allow: GET, HEAD after the body; the connection goes on', async () => {
    const { port, seen } = echoServer();
    const client = await RawClient.connect(port);
    for (const path of ['/style.css', '/nothing-here']) {
      const r = await client.request(post(path, '{"a":1}'));
      expect(r.status, path).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.headers.connection).toBeUndefined();
    }
    expect((await client.request(get('/style.css'))).status).toBe(200); // the bodies were read, not taken for heads
    expect(seen).toEqual([]);
  });

  it('an unknown method -> 405 with Allow: GET, HEAD, POST, then close', async () => {
    const { port } = echoServer();
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const client = await RawClient.connect(port);
      const r = await client.request(get('/api/echo', 'Content-Length: 2\r\n', method) + 'hi');
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD, POST');
      expect(r.headers.connection).toBe('close');
      await client.waitClosed(10_000);
    }
  });

  it('GET or HEAD with a body keeps 413', async () => {
    const { port } = echoServer();
    for (const method of ['GET', 'HEAD']) {
      const client = await RawClient.connect(port);
      const r = await client.request(get('/api/echo', 'Content-Length: 2\r\n', method) + 'hi', { head: method === 'HEAD' });
      expect(r.status, method).toBe(413);
      await client.waitClosed(10_000);
    }
  });

  it('a POST upgrade -> 400 and close', async () => {
    const { port } = echoServer();
    const client = await RawClient.connect(port);
    const r = await client.request(post('/api/echo', 'hi', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'));
    expect(r.status).toBe(400);
    await client.waitClosed(10_000);
  });

  it('a body that stalls -> 408 (requestTimeout counts from the head) and close', async () => {
    const { port, seen, requests } = echoServer({ requestTimeout: 300, idleTimeout: 60_000 });
    const client = await RawClient.connect(port);
    client.write(get('/api/echo', 'Content-Length: 20\r\n', 'POST') + 'only part');
    const r = await client.response({ timeoutMs: 10_000 });
    expect(r.status).toBe(408);
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(10_000);
    expect(seen).toEqual([]);
    expect(requests.at(-1)!.status).toBe(408);
  });

  it('a full server evicts a connection whose body trickles in, as a trickling head (slowloris)', async () => {
    const { port, server } = echoServer({ maxConnections: 1 });
    const slow = await RawClient.connect(port);
    slow.write(get('/api/echo', 'Content-Length: 20\r\n', 'POST') + 'part');
    // the server classes it as a request in progress (what it evicts first), once read
    const connections = (server as unknown as { connections: Set<HttpConnection> }).connections;
    await waitFor(() => [...connections].some((c) => c.stall === STALL_HEAD), 'the head and part of the body read');
    const newcomer = await RawClient.connect(port);
    expect((await newcomer.request(get('/style.css'))).status).toBe(200);
    await slow.waitClosed(10_000);
    expect(slow.pending.length).toBe(0); // closed without a response
  });
});

describe('maxBodySize', () => {
  it('0 (the default) keeps today: any body on GET is 413, POST is 405 with Allow: GET, HEAD', async () => {
    const { port, seen } = echoServer({ maxBodySize: 0 });
    const a = await RawClient.connect(port);
    expect((await a.request(get('/style.css', 'Content-Length: 2\r\n') + 'hi')).status).toBe(413);
    await a.waitClosed(10_000);
    for (const body of ['hi', null]) {
      const b = await RawClient.connect(port);
      const r = await b.request(post('/api/echo', body));
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      await b.waitClosed(10_000);
    }
    const c = await RawClient.connect(port);
    expect((await c.request(get('/x', '', 'PUT'))).headers.allow).toBe('GET, HEAD');
    expect(seen).toEqual([]);
  });

  it('must be at most maxHeaderSize, and not negative: the constructor throws a RangeError', () => {
    expect(() => new HttpServer({ maxBodySize: 2049 })).toThrow(RangeError);
    expect(() => new HttpServer({ maxBodySize: 2049 })).toThrow(/maxBodySize must be at most maxHeaderSize/);
    expect(() => new HttpServer({ maxHeaderSize: 512, maxBodySize: 513 })).toThrow(RangeError);
    expect(() => new HttpServer({ maxBodySize: -1 })).toThrow(RangeError);
    expect(() => new HttpServer({ maxBodySize: Number.NaN })).toThrow(RangeError);
    expect(() => new HttpServer({ maxHeaderSize: 512, maxBodySize: 512 })).not.toThrow();
    expect(() => new HttpServer({ maxBodySize: 2048 })).not.toThrow();
  });

  it('a body as large as the head buffer (maxBodySize = maxHeaderSize) is read whole', async () => {
    const { port, seen } = echoServer({ maxHeaderSize: 512, maxBodySize: 512 });
    const client = await RawClient.connect(port);
    const body = 'b'.repeat(512);
    const r = await client.request(post('/api/echo', body));
    expect(r.status).toBe(200);
    expect(seen[0]!.body).toBe(body);
  });
});
