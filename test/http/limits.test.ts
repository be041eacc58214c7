// HttpServer (sim host, real sockets on 127.0.0.1): malformed requests, methods,
// bodies, size and count limits, versions, path traversal, the connection cap.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, destroyClients, fetchOnce, get, sampleStore, startServer, stopServers, waitFor } from './helpers';
import type { Response } from './helpers';

afterEach(() => {
  destroyClients();
  stopServers();
});

/** Send raw bytes on a fresh connection; expect one response and then the server's close. */
async function expectClosing(port: number, text: string, status: number, head = false): Promise<Response> {
  const client = await RawClient.connect(port);
  const response = await client.request(text, { head });
  expect(response.status, JSON.stringify(text.slice(0, 80))).toBe(status);
  expect(response.headers.connection).toBe('close');
  await client.waitClosed(10_000);
  return response;
}

describe('malformed requests -> 400 and close', () => {
  const cases: [string, string][] = [
    ['no version', 'GET /\r\nHost: x\r\n\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['lower-case version', 'GET / http/1.1\r\nHost: x\r\n\r\n'],
    ['control character in the target', 'GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['header without colon', 'GET / HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n'],
    ['bare CR inside a line', 'GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n'],
    ['missing Host (HTTP/1.1)', 'GET / HTTP/1.1\r\n\r\n'],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['asterisk-form', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['fragment', 'GET /index.html#top HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['bad percent escape', 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['truncated percent escape', 'GET /a% HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['invalid UTF-8 after decoding', 'GET /%C3%28 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['NUL after decoding', 'GET /index.html%00.png HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['unknown scheme (absolute-form)', 'GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['empty head (two blank lines with LF only)', 'GET\n\n'],
  ];
  for (const [name, text] of cases) {
    it(name, async () => {
      const { port, requests } = startServer({ store: sampleStore() });
      const r = await expectClosing(port, text, 400);
      expect(r.body.toString()).toBe('400 Bad Request\n');
      expect(requests.at(-1)!.status).toBe(400);
    });
  }

  it('absolute-form targets are accepted (the authority is ignored)', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    expect((await client.request(get('http://device.local/style.css'))).status).toBe(200);
    expect((await client.request(get('HTTP://device.local'))).body.toString()).toContain('home');
  });
});

describe('methods and bodies', () => {
  it('405 with Allow: GET, HEAD for other methods (body-less ones too), then close', async () => {
    const { port } = startServer({ store: sampleStore() });
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'get', 'BREW']) {
      const r = await expectClosing(port, get('/', method === 'POST' ? 'Content-Length: 5\r\n' : '', method) + (method === 'POST' ? 'hello' : ''), 405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('Content-Length > 0 on a GET -> 413; Content-Length: 0 is fine', async () => {
    const { port } = startServer({ store: sampleStore() });
    await expectClosing(port, get('/', 'Content-Length: 10\r\n') + '0123456789', 413);
    const { response } = await fetchOnce(port, get('/style.css', 'Content-Length: 0\r\n'));
    expect(response.status).toBe(200);
  });

  it('a large body the server never reads: 413 arrives whole, no reset under it', async () => {
    const { port } = startServer({ store: sampleStore() });
    const client = await RawClient.connect(port);
    client.write(get('/', 'Content-Length: 300000\r\n'));
    client.write(Buffer.alloc(300000, 0x41));
    const r = await client.response();
    expect(r.status).toBe(413);
    expect(r.reason).toBe('Content Too Large');
    await client.waitClosed(10_000);
  });

  it('Transfer-Encoding -> 413; with Content-Length too, or a malformed/conflicting Content-Length -> 400', async () => {
    const { port } = startServer({ store: sampleStore() });
    await expectClosing(port, get('/', 'Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n0\r\n\r\n', 413);
    await expectClosing(port, get('/', 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n') + '5\r\nhello\r\n0\r\n\r\n', 400);
    await expectClosing(port, get('/', 'Content-Length: -1\r\n'), 400);
    await expectClosing(port, get('/', 'Content-Length: 1x\r\n'), 400);
    await expectClosing(port, get('/', 'Content-Length: 0\r\nContent-Length: 1\r\n'), 400);
  });
});

describe('limits', () => {
  it('414 when the request line exceeds maxRequestLine (detected before the line ends)', async () => {
    const { port, requests } = startServer({ store: sampleStore(), maxRequestLine: 100 });
    // Exactly at the limit: fine (404, the file does not exist).
    const atLimit = `GET /${'a'.repeat(100 - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    expect(atLimit.length).toBe(100);
    const { response } = await fetchOnce(port, `${atLimit}\r\nHost: x\r\n\r\n`);
    expect(response.status).toBe(404);
    // One byte over.
    await expectClosing(port, `GET /${'a'.repeat(101 - 'GET / HTTP/1.1'.length)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414);
    // A line that never ends: answered as soon as it is too long.
    const client = await RawClient.connect(port);
    client.write(`GET /${'b'.repeat(200)}`);
    const r = await client.response();
    expect(r.status).toBe(414);
    expect(r.reason).toBe('URI Too Long');
    await client.waitClosed(10_000);
    expect(requests.at(-1)).toEqual({ method: '', path: '', status: 414 });
  });

  it('414 by default beyond 512 bytes', async () => {
    const { port } = startServer({ store: sampleStore() });
    await expectClosing(port, get(`/${'x'.repeat(600)}`), 414);
  });

  it('431 when the head exceeds maxHeaderSize', async () => {
    const { port } = startServer({ store: sampleStore(), maxHeaderSize: 512 });
    const fits = get('/style.css', `X-Pad: ${'p'.repeat(400)}\r\n`);
    expect(fits.length).toBeLessThanOrEqual(512);
    expect((await fetchOnce(port, fits)).response.status).toBe(200);
    const r = await expectClosing(port, get('/', `X-Pad: ${'p'.repeat(600)}\r\n`), 431);
    expect(r.reason).toBe('Request Header Fields Too Large');
    // Default 2048.
    const { port: port2 } = startServer({ store: sampleStore() });
    await expectClosing(port2, get('/', `X-Pad: ${'p'.repeat(2100)}\r\n`), 431);
  });

  it('431 when there are more than maxHeaders fields', async () => {
    const { port } = startServer({ store: sampleStore(), maxHeaders: 5 });
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    expect((await fetchOnce(port, get('/style.css', fields(4)))).response.status).toBe(200); // Host + 4 = 5
    await expectClosing(port, get('/', fields(5)), 431);
    // Default 32 (Host + 31 fine, Host + 32 not).
    const { port: port2 } = startServer({ store: sampleStore() });
    expect((await fetchOnce(port2, get('/style.css', fields(31)))).response.status).toBe(200);
    await expectClosing(port2, get('/', fields(32)), 431);
  });

  it('505 for HTTP/2+ and HTTP/0.x versions', async () => {
    const { port } = startServer({ store: sampleStore() });
    for (const version of ['HTTP/2.0', 'HTTP/2', 'HTTP/3', 'HTTP/0.9', 'HTTP/10.1']) {
      const r = await expectClosing(port, `GET / ${version}\r\nHost: x\r\n\r\n`, 505);
      expect(r.reason).toBe('HTTP Version Not Supported');
    }
    // HTTP/1.x with another minor is HTTP/1.1-compatible.
    expect((await fetchOnce(port, 'GET /style.css HTTP/1.9\r\nHost: x\r\n\r\n')).response.status).toBe(200);
  });

  it('HEAD error responses have no body', async () => {
    const { port } = startServer({ store: sampleStore() });
    const r = await expectClosing(port, 'HEAD / HTTP/2.0\r\nHost: x\r\n\r\n', 505, true);
    expect(Number(r.headers['content-length'])).toBeGreaterThan(0);
  });
});

describe('path traversal never leaves the store', () => {
  const attempts = [
    '/../index.html',
    '/a/../index.html',
    '/./index.html',
    '/..',
    '/%2e%2e/index.html',
    '/%2E%2E/%2e%2E/etc/passwd',
    '/.%2e/index.html',
    '/a/%2e%2e%2findex.html',
    '/%2e/index.html',
    '/..%2f..%2fetc%2fpasswd',
    '/a\\..\\index.html',
    '/a%5c..%5cindex.html',
    '/a%5Cb',
    '/dir/..',
  ];
  for (const path of attempts) {
    it(path, async () => {
      const store = sampleStore();
      const asked: string[] = [];
      const spy = { get: (p: string) => (asked.push(p), store.get(p)) };
      const { port } = startServer({ store: spy });
      const r = await expectClosing(port, get(path), 400);
      expect(r.body.toString()).toBe('400 Bad Request\n');
      expect(asked).toEqual([]);
    });
  }

  it('names that only look like traversal are plain keys: 404 (or the file)', async () => {
    const store = sampleStore().set('/..hidden', 'dots').set('/a..b', 'ab');
    const { port } = startServer({ store });
    const client = await RawClient.connect(port);
    expect((await client.request(get('/..hidden'))).body.toString()).toBe('dots');
    expect((await client.request(get('/a..b'))).body.toString()).toBe('ab');
    expect((await client.request(get('/%252e%252e/index.html'))).status).toBe(404); // double-encoded: literal "%2e%2e"
    expect((await client.request(get('/...'))).status).toBe(404);
  });
});

describe('connection cap', () => {
  it('beyond maxConnections: 503 (Retry-After) and close; a slot frees when a client leaves', async () => {
    const { port, server, errors } = startServer({ store: sampleStore(), maxConnections: 2 });
    const a = await RawClient.connect(port);
    const b = await RawClient.connect(port);
    await waitFor(() => server.connectionsCount === 2, 'two connections');
    const c = await RawClient.connect(port);
    const r = await c.request(get('/'));
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.headers.connection).toBe('close');
    await c.waitClosed(10_000);
    expect(errors.some((e) => /503/.test(e.message))).toBe(true);
    // The two admitted ones still work.
    expect((await a.request(get('/style.css'))).status).toBe(200);
    expect((await b.request(get('/style.css'))).status).toBe(200);
    a.destroy();
    await waitFor(() => server.connectionsCount === 1, 'a slot freed');
    const d = await RawClient.connect(port);
    expect((await d.request(get('/style.css'))).status).toBe(200);
  });

  it('full of fresh silent connections from one address: a newcomer from it gets 503, one from another address takes the newest', async () => {
    const { port, server } = startServer({ store: sampleStore(), maxConnections: 2 });
    const a = await RawClient.connect(port, '127.0.0.2');
    await waitFor(() => server.connectionsCount === 1, 'a');
    const b = await RawClient.connect(port, '127.0.0.2');
    await waitFor(() => server.connectionsCount === 2, 'b');
    // Same address as the holders: no one to evict, 503.
    const same = await RawClient.connect(port, '127.0.0.2');
    expect((await same.request(get('/'))).status).toBe(503);
    // Another address: 127.0.0.2 holds both slots, so its newest (b) makes room.
    const c = await RawClient.connect(port, '127.0.0.1');
    expect((await c.request(get('/style.css'))).status).toBe(200);
    await b.waitClosed(5000);
    expect(a.closed).toBe(false);
    expect((await a.request(get('/style.css'))).status).toBe(200);
  });

  it('with evictIdle, a newcomer closes the longest-idle keep-alive connection instead of getting 503', async () => {
    const { port, server } = startServer({ store: sampleStore(), maxConnections: 2, evictIdle: true });
    const a = await RawClient.connect(port);
    expect((await a.request(get('/style.css'))).status).toBe(200); // a: served, now idle
    await new Promise((r) => setTimeout(r, 30));
    const b = await RawClient.connect(port);
    expect((await b.request(get('/style.css'))).status).toBe(200); // b: idle since later
    await waitFor(() => server.connectionsCount === 2, 'two connections');
    const c = await RawClient.connect(port);
    expect((await c.request(get('/style.css'))).status).toBe(200);
    await a.waitClosed(10_000); // the oldest idle one made room
    expect(b.closed).toBe(false);
    expect((await b.request(get('/style.css'))).status).toBe(200);
  });

  it('with evictIdle, a burst of new connections gets 200 or 503, never a reset under its request', async () => {
    const { port, server } = startServer({ store: sampleStore(), maxConnections: 2, evictIdle: true });
    // All connect before any request is read: the first two are new, not idle.
    const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
    const results = await Promise.all(
      clients.map((c) => c.request(get('/style.css')).then((r) => r.status, (e: Error) => `error: ${e.message}`)),
    );
    // Two are admitted at once; the others get 503, or 200 if a served one fell idle first.
    for (const r of results) expect([200, 503], JSON.stringify(results)).toContain(r);
    expect(results.filter((r) => r === 200).length).toBeGreaterThanOrEqual(2);
    for (const c of clients) c.destroy();
    await waitFor(() => server.connectionsCount === 0, 'all gone');
  });

  it('with evictIdle, a new connection silent for over a second is evicted for a newcomer', async () => {
    const { port, server } = startServer({ store: sampleStore(), maxConnections: 1, evictIdle: true });
    const silent = await RawClient.connect(port); // a browser's speculative pre-connect
    await waitFor(() => server.connectionsCount === 1, 'one connection');
    const early = await RawClient.connect(port);
    expect((await early.request(get('/style.css'))).status).toBe(503); // within the grace
    await new Promise((r) => setTimeout(r, 1100));
    const late = await RawClient.connect(port);
    expect((await late.request(get('/style.css'))).status).toBe(200);
    await silent.waitClosed(10_000);
  });

  it('full: a newcomer takes the slot of the oldest head still arriving (slowloris), whatever evictIdle says', async () => {
    const { port, server } = startServer({ store: sampleStore(), maxConnections: 2 });
    const first = await RawClient.connect(port);
    first.socket.write('GET / HT'); // a head in progress
    await waitFor(() => server.connectionsCount === 1, 'one connection');
    await new Promise((r) => setTimeout(r, 20));
    const second = await RawClient.connect(port);
    second.socket.write('GET / HTTP/1.1\r\nHo');
    await waitFor(() => server.connectionsCount === 2, 'two connections');
    const newcomer = await RawClient.connect(port);
    expect((await newcomer.request(get('/style.css'))).status).toBe(200);
    await first.waitClosed(10_000); // the older trickling head made room, without a response
    expect(first.pending.length).toBe(0);
    expect(second.closed).toBe(false);
    // the younger one still finishes its request
    const r = await second.request('st: x\r\n\r\n');
    expect(r.status).toBe(200);
  });

  it('a rejected client that sends nothing is closed after a bounded linger', async () => {
    const { port, server } = startServer({ store: sampleStore(), maxConnections: 1 });
    const a = await RawClient.connect(port);
    await waitFor(() => server.connectionsCount === 1, 'one connection');
    const c = await RawClient.connect(port);
    await c.waitClosed(10_000);
    expect(c.pending.toString('latin1')).toMatch(/^HTTP\/1\.1 503 /);
    expect(a.closed).toBe(false);
  });
});
