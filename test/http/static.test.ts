// HttpServer (sim host, real sockets on 127.0.0.1): static files, HEAD, ETag/304,
// gzip negotiation, keep-alive and pipelining, Connection: close, HTTP/1.0, routes.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, destroyClients, fetchOnce, get, pattern, sampleStore, startServer, stopServers, waitFor } from './helpers';
import { acceptsGzip, etagMatches } from '../../src/net/http-server';
import { MemoryStore, etagOf } from '../../src/http/static-store';

afterEach(() => {
  destroyClients();
  stopServers();
});

describe('static files', () => {
  it('GET / serves /index.html with Content-Type, Content-Length, quoted ETag, Cache-Control: no-cache', async () => {
    const store = sampleStore();
    const { port, requests } = startServer({ store, serverName: 'atom/1' });
    const { response, client } = await fetchOnce(port, get('/'));
    expect(response.status).toBe(200);
    expect(response.reason).toBe('OK');
    expect(response.body.toString()).toBe('<!doctype html><title>home</title>\n');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-length']).toBe(String(response.body.length));
    expect(response.headers.etag).toBe(`"${store.get('/index.html')!.etag}"`);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers.server).toBe('atom/1');
    expect(response.headers.connection).toBeUndefined(); // HTTP/1.1 keep-alive by default
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers.vary).toBeUndefined(); // no .gz variant
    expect(client.closed).toBe(false);
    expect(requests).toEqual([{ method: 'GET', path: '/', status: 200 }]);
  });

  it('a path ending in / maps to its index.html; the query is ignored', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    expect((await client.request(get('/dir/'))).body.toString()).toBe('<p>dir</p>\n');
    const q = await client.request(get('/app.js?v=123&x=/../../etc'));
    expect(q.status).toBe(200);
    expect(q.body.toString()).toBe('console.log("plain");\n');
    expect((await client.request(get('/?a=b'))).body.toString()).toContain('home');
  });

  it('percent-decodes the path (spaces, UTF-8, escaped letters)', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    expect((await client.request(get('/a%20b.txt'))).body.toString()).toBe('space\n');
    expect((await client.request(get('/caf%C3%A9.txt'))).body.toString()).toBe('utf8 name\n');
    expect((await client.request(get('/%61pp.js'))).status).toBe(200);
    expect((await client.request(get('/%2Findex.html'))).status).toBe(404); // "//index.html": no such key
  });

  it('binary files arrive byte for byte', async () => {
    const { port } = startServer({ store: sampleStore() });
    const { response } = await fetchOnce(port, get('/data.bin'));
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(response.body, Buffer.from(pattern(3000)))).toBe(0);
  });

  it('404 for a missing file keeps the connection alive', async () => {
    const { port, requests } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    const missing = await client.request(get('/nope.html'));
    expect(missing.status).toBe(404);
    expect(missing.headers.connection).toBeUndefined();
    expect(missing.body.toString()).toBe('404 Not Found\n');
    const next = await client.request(get('/app.js'));
    expect(next.status).toBe(200);
    expect(requests.map((r) => r.status)).toEqual([404, 200]);
  });

  it('a server without a store answers 404', async () => {
    const { port } = startServer({});
    expect((await fetchOnce(port, get('/'))).response.status).toBe(404);
  });

  it('HEAD: the same headers as GET and no body (also for 404)', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    const full = await client.request(get('/data.bin'));
    const head = await client.request(get('/data.bin', '', 'HEAD'), { head: true });
    expect(head.status).toBe(200);
    expect(head.headers).toEqual(full.headers);
    expect(head.body.length).toBe(0);
    const missingHead = await client.request(get('/none', '', 'HEAD'), { head: true });
    expect(missingHead.status).toBe(404);
    expect(Number(missingHead.headers['content-length'])).toBeGreaterThan(0);
    // Nothing stray after the HEAD responses: the next response parses cleanly.
    const after = await client.request(get('/style.css'));
    expect(after.body.toString()).toBe('body { color: red }\n');
    expect(client.pending.length).toBe(0);
  });

  it('If-None-Match with the ETag -> 304 without a body (weak, lists and * too); a stale tag -> 200', async () => {
    const store = sampleStore();
    const { port } = startServer({ store });
    const etag = store.get('/style.css')!.etag;
    const client = await RawClient.connect(port);
    for (const inm of [`"${etag}"`, `W/"${etag}"`, `"other", "${etag}"`, '*']) {
      const r = await client.request(get('/style.css', `If-None-Match: ${inm}\r\n`));
      expect(r.status, inm).toBe(304);
      expect(r.headers.etag).toBe(`"${etag}"`);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['content-length']).toBeUndefined();
      expect(r.body.length).toBe(0);
    }
    const stale = await client.request(get('/style.css', 'If-None-Match: "stale"\r\n'));
    expect(stale.status).toBe(200);
    expect(stale.body.toString()).toBe('body { color: red }\n');
    expect(client.pending.length).toBe(0);
  });
});

describe('gzip', () => {
  it('serves path.gz with Content-Encoding: gzip and Vary only when gzip is accepted', async () => {
    const store = sampleStore();
    const { port } = startServer({ store });
    const client = await RawClient.connect(port);
    const gz = await client.request(get('/app.js', 'Accept-Encoding: deflate, gzip;q=0.8, br\r\n'));
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gz.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(gz.headers.etag).toBe(`"${store.get('/app.js.gz')!.etag}"`);
    expect([...gz.body]).toEqual([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]);

    const plain = await client.request(get('/app.js'));
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.toString()).toBe('console.log("plain");\n');

    for (const ae of ['gzip;q=0', 'GZIP; q=0.000', 'br, deflate', '*;q=0', 'gzip;q=0, *', 'identity', 'gzip;q=2']) {
      const r = await client.request(get('/app.js', `Accept-Encoding: ${ae}\r\n`));
      expect(r.headers['content-encoding'], ae).toBeUndefined();
      expect(r.body.toString(), ae).toBe('console.log("plain");\n');
    }
    for (const ae of ['*', 'x-gzip', 'br;q=1, gzip;q=0.001', 'gzip;q=0,gzip;q=1']) {
      const r = await client.request(get('/app.js', `Accept-Encoding: ${ae}\r\n`));
      expect(r.headers['content-encoding'], ae).toBe('gzip');
    }
  });

  it('a gzip-only file: served to clients that accept gzip, 406 to others; 304 on the .gz ETag', async () => {
    const store = sampleStore();
    const { port } = startServer({ store });
    const client = await RawClient.connect(port);
    const ok = await client.request(get('/only.js', 'Accept-Encoding: gzip\r\n'));
    expect(ok.status).toBe(200);
    expect(ok.headers['content-encoding']).toBe('gzip');
    const refused = await client.request(get('/only.js'));
    expect(refused.status).toBe(406);
    const etag = store.get('/only.js.gz')!.etag;
    const cached = await client.request(get('/only.js', `Accept-Encoding: gzip\r\nIf-None-Match: "${etag}"\r\n`));
    expect(cached.status).toBe(304);
    expect(cached.headers.vary).toBe('Accept-Encoding');
  });

  it('acceptsGzip and etagMatches', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('gzip;q=0.0')).toBe(false);
    expect(acceptsGzip('*;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=bad')).toBe(false);
    expect(etagMatches('"a", W/"b"', 'b')).toBe(true);
    expect(etagMatches('"a"', 'b')).toBe(false);
    expect(etagMatches('b', 'b')).toBe(false); // unquoted is malformed
  });
});

describe('keep-alive and pipelining', () => {
  it('two requests on one socket, one after the other', async () => {
    const { port, server } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    const a = await client.request(get('/app.js'));
    const b = await client.request(get('/style.css'));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.toString()).toBe('body { color: red }\n');
    expect(client.closed).toBe(false);
    expect(server.connectionsCount).toBe(1);
  });

  it('pipelined requests in one write are answered in order', async () => {
    const { port, requests } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    client.write(get('/app.js') + get('/nope') + get('/style.css', '', 'HEAD') + get('/data.bin') + get('/'));
    const r1 = await client.response();
    const r2 = await client.response();
    const r3 = await client.response({ head: true });
    const r4 = await client.response();
    const r5 = await client.response();
    expect([r1.status, r2.status, r3.status, r4.status, r5.status]).toEqual([200, 404, 200, 200, 200]);
    expect(r1.body.toString()).toBe('console.log("plain");\n');
    expect(Buffer.compare(r4.body, Buffer.from(pattern(3000)))).toBe(0);
    expect(r5.body.toString()).toContain('home');
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /app.js', 'GET /nope', 'HEAD /style.css', 'GET /data.bin', 'GET /']);
  });

  it('many pipelined requests beyond the read buffer (64 x GET in one write, 32-byte read buffer)', async () => {
    const { port } = startServer({ store: sampleStore(), readBufferSize: 32 });
    const client = await RawClient.connect(port);
    let all = '';
    for (let i = 0; i < 64; i++) all += get(i % 2 ? '/app.js' : '/style.css');
    client.write(all);
    for (let i = 0; i < 64; i++) {
      const r = await client.response();
      expect(r.body.toString()).toBe(i % 2 ? 'console.log("plain");\n' : 'body { color: red }\n');
    }
  });

  it('Connection: close is honoured: answered with Connection: close, then closed', async () => {
    const { port, server } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    const r = await client.request(get('/app.js', 'Connection: keep-alive, close\r\n'));
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(2000);
    await waitFor(() => server.connectionsCount === 0, 'connection released');
  });

  it('HTTP/1.0 GET is served (Host optional) and closed after the response', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    const r = await client.request('GET /style.css HTTP/1.0\r\n\r\n');
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    expect(r.body.toString()).toBe('body { color: red }\n');
    await client.waitClosed(2000);
  });

  it('leading empty lines before a request line are skipped; bare LF line ends are accepted', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    expect((await client.request('\r\n\r\n' + get('/style.css'))).status).toBe(200);
    expect((await client.request('GET /app.js HTTP/1.1\nHost: x\n\n')).status).toBe(200);
  });
});

describe('routes', () => {
  it('dynamic GET endpoints: status, content type, headers, string and bytes bodies; HEAD sends no body', async () => {
    let seen: { path: string; query: string; host: string | undefined } | null = null;
    const { port } = startServer({
      store: sampleStore(),
      routes: {
        '/api/state': (request) => {
          seen = { path: request.path, query: request.query, host: request.headers.get('host')?.[0] };
          return { status: 200, contentType: 'application/json', body: '{"on":true,"name":"é"}', headers: { 'X-Led': 'red' } };
        },
        '/api/bytes': () => ({ status: 201, contentType: 'application/octet-stream', body: new Uint8Array([1, 2, 3]) }),
        '/index.html': () => ({ status: 200, contentType: 'text/plain', body: 'route wins' }),
      },
    });
    const client = await RawClient.connect(port);
    const a = await client.request(get('/api/state?x=1'));
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['x-led']).toBe('red');
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.body.toString('utf8')).toBe('{"on":true,"name":"é"}');
    expect(Number(a.headers['content-length'])).toBe(Buffer.byteLength('{"on":true,"name":"é"}'));
    expect(seen).toEqual({ path: '/api/state', query: 'x=1', host: '127.0.0.1' });
    const b = await client.request(get('/api/bytes'));
    expect(b.status).toBe(201);
    expect([...b.body]).toEqual([1, 2, 3]);
    const h = await client.request(get('/api/state', '', 'HEAD'), { head: true });
    expect(h.headers['content-length']).toBe(a.headers['content-length']);
    expect((await client.request(get('/index.html'))).body.toString()).toBe('route wins');
    expect((await client.request(get('/'))).body.toString()).toContain('home'); // routes match the path as requested
    expect(client.pending.length).toBe(0);
  });

  it('an exception in a route -> 500 and an error event; the connection keeps working', async () => {
    const { port, errors } = startServer({
      store: sampleStore(),
      routes: {
        '/boom': () => {
          throw new Error('route failed');
        },
        '/bad-header': () => ({ status: 200, contentType: 'text/plain', body: 'x', headers: { 'X-Evil': 'a\r\nSet-Cookie: b' } }),
        '/bad-status': () => ({ status: 99, contentType: 'text/plain', body: 'x' }),
      },
    });
    const client = await RawClient.connect(port);
    for (const path of ['/boom', '/bad-header', '/bad-status']) {
      const r = await client.request(get(path));
      expect(r.status, path).toBe(500);
      expect(r.headers.connection).toBeUndefined();
      expect(r.head).not.toContain('Set-Cookie');
    }
    expect(errors.map((e) => e.message)[0]).toBe('route failed');
    expect(errors.length).toBe(3);
    expect((await client.request(get('/app.js'))).status).toBe(200);
  });
});

describe('MemoryStore', () => {
  it('content types by extension, .gz entries marked gzip, stable ETags', () => {
    const store = new MemoryStore({ '/a.svg': '<svg/>', '/b.css.gz': new Uint8Array([1]), '/c': 'x' });
    expect(store.get('/a.svg')!.contentType).toBe('image/svg+xml');
    expect(store.get('/b.css.gz')!.contentType).toBe('text/css; charset=utf-8');
    expect(store.get('/b.css.gz')!.encoding).toBe('gzip');
    expect(store.get('/c')!.contentType).toBe('application/octet-stream');
    expect(store.get('/missing')).toBeNull();
    expect(etagOf(new Uint8Array([1, 2]))).toBe(etagOf(new Uint8Array([1, 2])));
    expect(etagOf(new Uint8Array([1, 2]))).not.toBe(etagOf(new Uint8Array([2, 1])));
  });
});
