// HttpResponseWriter and the static/route responders alone (sans-IO): a response
// composed into a fixed buffer and taken out in pieces no larger than asked for, as
// net/http-connection.ts does under onWritable. No sockets.
import { describe, expect, it } from 'vitest';
import { HttpResponseWriter } from '../../src/http/response-writer';
import { HAND_OFF, methodNotAllowed, respond } from '../../src/http/static-response';
import { hostName } from '../../src/http/head';
import type { Site } from '../../src/http/static-response';
import { HttpRequestReader } from '../../src/http/request-reader';
import type { RequestVerdict } from '../../src/http/request-reader';
import { MemoryStore } from '../../src/http/static-store';
import type { StaticEntry } from '../../src/http/static-store';

const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** Everything the writer has to send, taken `max` bytes at a time; also the pieces' sizes. */
function drain(writer: HttpResponseWriter, max: number): { all: string; sizes: number[] } {
  let all = '';
  const sizes: number[] = [];
  while (writer.pending) {
    const n = writer.nextSize(max);
    const piece = writer.next(n);
    const bytes = piece instanceof Uint8Array ? piece : new Uint8Array(piece as ArrayBuffer);
    expect(bytes.length).toBe(n);
    all += text(bytes);
    sizes.push(n);
    writer.advance(n);
  }
  return { all, sizes };
}

/** The verdict on a whole request (POST bodies up to 64 bytes), read into `buf` (the head buffer a writer may share). */
function verdict(request: string, buf = new Uint8Array(1024)): RequestVerdict {
  const limits = { maxRequestLine: 512, maxHeaders: 32, maxBodySize: 64 };
  const reader = new HttpRequestReader(buf);
  const bytes = Uint8Array.from(request, (c) => c.charCodeAt(0));
  expect(reader.push(bytes, 0, bytes.length, 0, limits)).toBe(bytes.length);
  return reader.verdict();
}

describe('HttpResponseWriter', () => {
  it('composes a head with Server and Connection: close, and refuses control characters and overflow', () => {
    const w = new HttpResponseWriter(new Uint8Array(128), 'atom/1');
    w.closing = true;
    w.start(204);
    w.field('X-A', 'b\tc');
    w.endHead();
    expect(drain(w, 1000).all).toBe('HTTP/1.1 204 No Content\r\nServer: atom/1\r\nX-A: b\tc\r\nConnection: close\r\n\r\n');
    w.reset();
    w.start(200);
    expect(() => w.field('X-Bad', 'a\r\nInjected: 1')).toThrow(/control character/);
    w.start(200);
    expect(() => w.field('X-Long', 'v'.repeat(200))).toThrow(/larger than maxHeaderSize/);
    expect(() => new HttpResponseWriter(new Uint8Array(64), 'bad\nname')).toThrow(/serverName/);
  });

  it('error responses: a short text body (none for HEAD); 405 names the allowed methods', () => {
    const w = new HttpResponseWriter(new Uint8Array(256));
    w.error(404, false);
    expect(drain(w, 7).all).toBe('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n404 Not Found\n');
    w.error(405, true);
    const head = drain(w, 1000).all;
    expect(head).toContain('\r\nAllow: GET, HEAD\r\n');
    expect(head.endsWith('\r\n\r\n')).toBe(true);
    w.error(405, false, 'GET, HEAD, POST');
    expect(drain(w, 1000).all).toContain('\r\nAllow: GET, HEAD, POST\r\n');
  });

  it('coalesces a small body behind the head: one piece when the socket takes it all', () => {
    const w = new HttpResponseWriter(new Uint8Array(256));
    w.start(200);
    w.field('Content-Length', '5');
    w.endHead();
    w.bodyFromBytes(Uint8Array.of(104, 101, 108, 108, 111));
    w.coalesce();
    const { all, sizes } = drain(w, 1536);
    expect(sizes).toEqual([all.length]);
    expect(all.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('streams a body larger than the buffer in pieces of at most the count asked, the body never copied', () => {
    const body = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
    const w = new HttpResponseWriter(new Uint8Array(100));
    w.start(200);
    w.endHead();
    w.bodyFromBytes(body);
    w.coalesce();
    const { all, sizes } = drain(w, 1536);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1536);
    const headLength = 'HTTP/1.1 200 OK\r\n\r\n'.length;
    expect(all.length).toBe(headLength + 5000);
    expect(all.slice(headLength)).toBe(text(body));
  });

  it('a store that gives the wrong number of bytes is an error (the head promised a length)', () => {
    const entry: StaticEntry = { size: 10, contentType: 'text/plain', etag: 'e', body: () => new Uint8Array(3) };
    const w = new HttpResponseWriter(new Uint8Array(64));
    w.start(200);
    w.endHead();
    w.bodyFromEntry(entry);
    w.coalesce(); // 3 bytes for 10 asked: not copied, left to next()
    const n = w.nextSize(1000);
    w.advance(n); // the head
    expect(() => w.next(w.nextSize(1000))).toThrow(/returned 3 bytes/);
  });
});

describe('respond: what a request is answered with', () => {
  const store = new MemoryStore({ '/index.html': '<p>hi</p>', '/app.js': 'x()', '/app.js.gz': 'GZ', '/only.css.gz': 'GZ' });
  const site: Site = { store, routes: { '/api': () => ({ body: '{"on":true}', contentType: 'application/json' }) }, websocket: { path: '/ws' } };
  const answer = (request: string, max = 4096): { status: number; all: string } => {
    const w = new HttpResponseWriter(new Uint8Array(1024));
    const status = respond(w, verdict(request), site);
    w.coalesce();
    return { status, all: drain(w, max).all };
  };

  it('static: index.html for "/", gzip when accepted with Vary, 406 for a gzip-only file the client cannot take, 404, 304', () => {
    const home = answer('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(home.status).toBe(200);
    expect(home.all).toMatch(/Content-Type: text\/html; charset=utf-8\r\n[\s\S]*<p>hi<\/p>$/);
    const gz = answer('GET /app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n');
    expect(gz.all).toContain('Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n');
    expect(gz.all.endsWith('GZ')).toBe(true);
    expect(answer('GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n').all).toContain('Vary: Accept-Encoding');
    expect(answer('GET /only.css HTTP/1.1\r\nHost: x\r\n\r\n').status).toBe(406);
    expect(answer('GET /nope HTTP/1.1\r\nHost: x\r\n\r\n').status).toBe(404);
    const etag = /ETag: ("[^"]+")/.exec(home.all)![1];
    const cached = answer(`GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/${etag}\r\n\r\n`);
    expect(cached.status).toBe(304);
    expect(cached.all.endsWith('\r\n\r\n')).toBe(true);
    expect(answer('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n').all.endsWith('no-cache\r\n\r\n')).toBe(true);
  });

  it('routes before the store, no-store by default; a throwing route or a forbidden header throws (the caller answers 500)', () => {
    const api = answer('GET /api HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(api.status).toBe(200);
    expect(api.all).toContain('Cache-Control: no-store\r\n');
    expect(api.all.endsWith('{"on":true}')).toBe(true);
    const w = new HttpResponseWriter(new Uint8Array(1024));
    const bad: Site = { routes: { '/a': () => ({ body: 'x', headers: { 'Content-Length': '9' } }), '/b': () => { throw new Error('boom'); } } };
    expect(() => respond(w, verdict('GET /a HTTP/1.1\r\nHost: x\r\n\r\n'), bad)).toThrow(/not allowed/);
    expect(() => respond(w, verdict('GET /b HTTP/1.1\r\nHost: x\r\n\r\n'), bad)).toThrow(/boom/);
  });

  it('upgrades: HAND_OFF at the WebSocket path; 404 elsewhere and 400 for HEAD, both closing', () => {
    const up = 'Upgrade: websocket\r\nConnection: Upgrade\r\n';
    const w = new HttpResponseWriter(new Uint8Array(1024));
    expect(respond(w, verdict(`GET /ws HTTP/1.1\r\nHost: x\r\n${up}\r\n`), site)).toBe(HAND_OFF);
    expect(w.pending).toBe(false);
    expect(respond(w, verdict(`GET /other HTTP/1.1\r\nHost: x\r\n${up}\r\n`), site)).toBe(404);
    expect(w.closing).toBe(true);
    expect(drain(w, 4096).all).toContain('Connection: close\r\n');
    w.reset();
    expect(respond(w, verdict(`HEAD /ws HTTP/1.1\r\nHost: x\r\n${up}\r\n`), site)).toBe(400);
    expect(respond(w, verdict(`GET /ws HTTP/1.1\r\nHost: x\r\n${up}\r\n`), { store })).toBe(404);
  });

  it('POST: a route sees the body; elsewhere 405 "Allow: GET, HEAD" keeping the connection', () => {
    const seen: (string | undefined)[] = [];
    const posting: Site = {
      store,
      routes: {
        '/api': (request) => {
          seen.push(request.body ? text(request.body) : undefined);
          return request.method === 'POST' ? { body: 'ok' } : methodNotAllowed('POST');
        },
      },
    };
    const w = new HttpResponseWriter(new Uint8Array(1024));
    expect(respond(w, verdict('POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n{"a"'), posting)).toBe(200);
    expect(drain(w, 4096).all.endsWith('\r\n\r\nok')).toBe(true);
    expect(respond(w, verdict('GET /api HTTP/1.1\r\nHost: x\r\n\r\n'), posting)).toBe(405);
    const refused = drain(w, 4096).all;
    expect(refused).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(refused).toContain('\r\nAllow: POST\r\n');
    expect(seen).toEqual(['{"a"', undefined]);
    for (const path of ['/index.html', '/nope']) {
      expect(respond(w, verdict(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi`), posting)).toBe(405);
      expect(w.closing).toBe(false);
      const all = drain(w, 4096).all;
      expect(all).toContain('\r\nAllow: GET, HEAD\r\n');
      expect(all).not.toContain('Connection: close');
    }
  });

  it('a route answering with a view of request.body gets it copied: the head buffer takes the response head', () => {
    const buf = new Uint8Array(1024); // shared by the reader and the writer, as on a connection
    const echo: Site = { routes: { '/echo': (request) => ({ body: request.body!.subarray(1), contentType: 'application/octet-stream' }) } };
    const w = new HttpResponseWriter(buf);
    expect(respond(w, verdict('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n[body]', buf), echo)).toBe(200);
    w.coalesce();
    expect(drain(w, 4096).all.endsWith('\r\n\r\nbody]')).toBe(true);
  });
});

describe('Host names (DNS rebinding)', () => {
  it('hostName: lower-case, no port, no trailing dot, IPv6 in brackets; null when malformed', () => {
    expect(hostName('Atom-LED.local.:80')).toBe('atom-led.local');
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName('192.168.1.20')).toBe('192.168.1.20');
    for (const bad of [undefined, '', 'a b', 'x:80a', '[::1]x', '-x', 'a/b']) expect(hostName(bad), String(bad)).toBeNull();
  });

  it('a site with allowHost answers 421 (and closes) for another Host or none, pages and upgrades alike', () => {
    const site: Site = { allowHost: (name) => name === 'device.local', store: new MemoryStore({ '/index.html': 'hi' }), websocket: { path: '/ws' } };
    const w = new HttpResponseWriter(new Uint8Array(1024));
    expect(respond(w, verdict('GET / HTTP/1.1\r\nHost: Device.local:80\r\n\r\n'), site)).toBe(200);
    w.reset();
    for (const request of [
      'GET / HTTP/1.1\r\nHost: evil.example:9501\r\n\r\n',
      'GET /ws HTTP/1.1\r\nHost: evil.example:9501\r\nOrigin: http://evil.example:9501\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'GET / HTTP/1.0\r\n\r\n',
    ]) {
      expect(respond(w, verdict(request), site), request).toBe(421);
      expect(w.closing).toBe(true);
      expect(drain(w, 4096).all).toMatch(/^HTTP\/1\.1 421 Misdirected Request\r\n/);
      w.reset();
    }
  });
});
