// HttpRequestReader alone (sans-IO): bytes and a clock in, the head's end and one verdict
// out. No sockets: what the HTTP server decides per request, checked at the unit where it
// is decided (test/http/limits.test.ts checks the same over real sockets).
import { describe, expect, it } from 'vitest';
import { HEAD_MORE, HttpRequestReader } from '../../src/http/request-reader';
import type { RequestLimits, RequestVerdict } from '../../src/http/request-reader';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** A reader with its limits at hand (the server passes its own to every call). */
class LimitedReader {
  readonly r: HttpRequestReader;
  constructor(size: number, readonly limits: RequestLimits) {
    this.r = new HttpRequestReader(new Uint8Array(size));
  }
  push(data: Uint8Array, start: number, end: number, now: number): number {
    return this.r.push(data, start, end, now, this.limits);
  }
  verdict(): RequestVerdict {
    return this.r.verdict();
  }
  reset(): void {
    this.r.reset();
  }
  get inProgress(): boolean {
    return this.r.inProgress;
  }
  get startedAt(): number {
    return this.r.startedAt;
  }
}

function reader(size = 2048, maxRequestLine = 512, maxHeaders = 32, maxBodySize?: number): LimitedReader {
  return new LimitedReader(size, { maxRequestLine, maxHeaders, maxBodySize });
}

/** Push the whole text at once; expects the head to end exactly at its end. */
function verdictOf(text: string, r = reader()): RequestVerdict {
  const bytes = ascii(text);
  expect(r.push(bytes, 0, bytes.length, 0)).toBe(bytes.length);
  return r.verdict();
}

const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: device\r\n${extra}\r\n`;

describe('HttpRequestReader: finding the head', () => {
  it('ends the head at the blank line whatever the split, and leaves the next request unread', () => {
    const text = get('/a?x=1', 'Accept: */*\r\n') + get('/b');
    const bytes = ascii(text);
    const first = get('/a?x=1', 'Accept: */*\r\n').length;
    for (let cut = 0; cut <= first; cut++) {
      const r = reader();
      const a = r.push(bytes, 0, cut, 5);
      const ended = a === HEAD_MORE ? r.push(bytes, cut, bytes.length, 9) : a;
      expect(ended, `cut at ${cut}`).toBe(first);
      const v = r.verdict();
      expect(v.request?.path).toBe('/a');
      expect(v.request?.query).toBe('x=1');
      r.reset();
      expect(r.push(bytes, ended, bytes.length, 10)).toBe(bytes.length);
      expect(r.verdict().request?.path).toBe('/b');
    }
  });

  it('takes bare LF line ends, skips empty lines before the request line, and starts the clock at the first head byte', () => {
    const r = reader();
    expect(r.push(ascii('\r\n\r\n'), 0, 4, 100)).toBe(HEAD_MORE);
    expect(r.inProgress).toBe(false);
    expect(r.push(ascii('GET / HTTP/1.1\nHost: x\n'), 0, 23, 250)).toBe(HEAD_MORE);
    expect(r.inProgress).toBe(true);
    expect(r.startedAt).toBe(250);
    expect(r.push(ascii('\n'), 0, 1, 900)).toBe(1);
    expect(r.inProgress).toBe(false); // a verdict is due: no request timeout runs now
    expect(r.startedAt).toBe(250);
    expect(r.verdict().status).toBe(0);
  });

  it('a request line of exactly maxRequestLine bytes is fine; one more byte is 414 at once, before the line ends', () => {
    const line = (n: number): string => 'GET /' + 'a'.repeat(n - 'GET / HTTP/1.1'.length) + ' HTTP/1.1';
    expect(verdictOf(line(64) + '\r\nHost: x\r\n\r\n', reader(2048, 64)).status).toBe(0);
    const r = reader(2048, 64);
    const long = ascii(line(65));
    expect(r.push(long, 0, long.length, 0)).toBe(long.length); // no CRLF yet: decided on size alone
    const v = r.verdict();
    expect([v.status, v.linger, v.close]).toEqual([414, true, true]);
  });

  it('a head larger than its buffer is 431 (414 when the buffer ends inside the request line)', () => {
    const big = ascii(get('/', 'X-Pad: ' + 'p'.repeat(300) + '\r\n'));
    const r = reader(256, 512);
    expect(r.push(big, 0, big.length, 0)).toBe(big.length);
    const v = r.verdict();
    expect([v.status, v.linger]).toEqual([431, true]);
    expect(() => r.verdict()).toThrow(/verdict was taken/); // once per request
    const long = ascii('GET /' + 'a'.repeat(300));
    const s = reader(256, 512);
    s.push(long, 0, long.length, 0);
    expect(s.verdict().status).toBe(414);
  });

  it('more than maxHeaders fields is 431', () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(verdictOf(get('/', fields(3)), reader(2048, 512, 4)).status).toBe(0); // Host + 3
    expect(verdictOf(get('/', fields(4)), reader(2048, 512, 4)).status).toBe(431);
  });
});

describe('HttpRequestReader: verdicts', () => {
  const cases: [string, string, number, boolean][] = [
    ['garbage', 'hello\r\n\r\n', 400, false],
    ['HTTP/2.0 request line', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505, false],
    ['HTTP/2 without minor', 'GET / HTTP/2\r\nHost: x\r\n\r\n', 505, false],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400, false],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, false],
    ['POST without body', 'POST / HTTP/1.1\r\nHost: x\r\n\r\n', 405, false],
    ['POST with a body', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n', 405, true],
    ['Content-Length > 0', get('/', 'Content-Length: 3\r\n'), 413, true],
    ['Transfer-Encoding', get('/', 'Transfer-Encoding: chunked\r\n'), 413, true],
    ['Content-Length with Transfer-Encoding', get('/', 'Content-Length: 0\r\nTransfer-Encoding: chunked\r\n'), 400, false],
    ['conflicting Content-Length', get('/', 'Content-Length: 0\r\nContent-Length: 1\r\n'), 400, false],
    ['malformed Content-Length', get('/', 'Content-Length: -1\r\n'), 400, false],
    ['fragment', get('/a#b'), 400, false],
    ['dot-dot segment', get('/a/../b'), 400, false],
    ['encoded dot-dot', get('/a/%2e%2E/b'), 400, false],
    ['encoded backslash', get('/a%5cb'), 400, false],
    ['bad escape', get('/a%zz'), 400, false],
    ['truncated escape', get('/a%4'), 400, false],
    ['encoded control', get('/a%00'), 400, false],
    ['invalid UTF-8', get('/%ff'), 400, false],
    ['not a path', get('*'), 400, false],
  ];
  for (const [name, text, status, linger] of cases) {
    it(`${name} -> ${status}${linger ? ', linger' : ''}, close`, () => {
      const v = verdictOf(text);
      expect(v.request).toBeNull();
      expect([v.status, v.linger, v.close]).toEqual([status, linger, true]);
    });
  }

  it('a good request: decoded path, raw query, keep-alive unless asked; HTTP/1.0 always closes', () => {
    const v = verdictOf(get('/caf%C3%A9/x%20y?q=%20'));
    expect(v.request).toMatchObject({ method: 'GET', path: '/café/x y', query: 'q=%20', version: 'HTTP/1.1' });
    expect([v.status, v.close, v.upgrade, v.linger]).toEqual([0, false, false, false]);
    expect(verdictOf(get('/', 'Connection: keep-alive, close\r\n')).close).toBe(true);
    expect(verdictOf('GET / HTTP/1.0\r\n\r\n').close).toBe(true);
    expect(verdictOf('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n').request?.method).toBe('HEAD');
  });

  it('absolute-form targets give their path; Upgrade: websocket is flagged', () => {
    expect(verdictOf(get('http://device/led?x')).request?.path).toBe('/led');
    expect(verdictOf(get('https://device')).request?.path).toBe('/');
    expect(verdictOf(get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n')).upgrade).toBe(true);
    expect(verdictOf(get('/ws', 'Upgrade: h2c\r\n')).upgrade).toBe(false);
  });

  it('reuses its buffer: a long head then a short one decode independently', () => {
    const r = reader();
    expect(verdictOf(get('/' + 'x'.repeat(200)), r).request?.path).toBe('/' + 'x'.repeat(200));
    r.reset();
    expect(verdictOf(get('/y'), r).request?.path).toBe('/y');
  });
});

describe('HttpRequestReader: POST bodies (maxBodySize > 0)', () => {
  const post = (target: string, extra = ''): string => `POST ${target} HTTP/1.1\r\nHost: device\r\n${extra}\r\n`;
  const bodyReader = (maxBodySize = 64, size = 2048): LimitedReader => reader(size, 512, 32, maxBodySize);
  const text = (bytes: Uint8Array | undefined): string | undefined => (bytes ? String.fromCharCode(...bytes) : undefined);

  it('reads Content-Length bytes after the head whatever the split, stays in progress until the last, and leaves the next request unread', () => {
    const first = post('/api/state', 'Content-Length: 11\r\n') + '{"on":true}';
    const bytes = ascii(first + get('/next'));
    for (let cut = 0; cut <= first.length; cut++) {
      const r = bodyReader();
      expect(r.push(bytes, 0, cut, 10), `cut at ${cut}`).toBe(cut === first.length ? first.length : HEAD_MORE);
      if (cut < first.length) {
        expect(r.inProgress).toBe(cut > 0);
        expect(r.push(bytes, cut, bytes.length, 20)).toBe(first.length);
      }
      expect(r.inProgress).toBe(false);
      expect(r.startedAt).toBe(cut > 0 ? 10 : 20); // the head's first byte: the body runs on its clock
      const v = r.verdict();
      expect(v.request).toMatchObject({ method: 'POST', path: '/api/state' });
      expect(text(v.request?.body)).toBe('{"on":true}');
      r.reset();
      expect(r.push(bytes, first.length, bytes.length, 30)).toBe(bytes.length);
      expect(r.verdict().request?.body).toBeUndefined();
    }
  });

  it('a body byte by byte: HEAD_MORE and in progress until its last byte, no verdict before', () => {
    const r = bodyReader();
    const head = ascii(post('/p', 'Content-Length: 3\r\n'));
    expect(r.push(head, 0, head.length, 5)).toBe(HEAD_MORE);
    expect(r.inProgress).toBe(true);
    expect(() => r.verdict()).toThrow(/not complete/); // not before the body's last byte
    expect(r.push(ascii('a'), 0, 1, 6)).toBe(HEAD_MORE);
    expect(r.push(ascii('b'), 0, 1, 7)).toBe(HEAD_MORE);
    expect(r.inProgress).toBe(true);
    expect(r.startedAt).toBe(5);
    expect(r.push(ascii('cGET'), 0, 4, 8)).toBe(1);
    expect(text(r.verdict().request?.body)).toBe('abc');
  });

  it('no Content-Length or Content-Length: 0 -> an empty body at once; GET and HEAD have none', () => {
    for (const extra of ['', 'Content-Length: 0\r\n']) {
      const v = verdictOf(post('/p', extra), bodyReader());
      expect(v.status).toBe(0);
      expect(v.request?.body).toBeInstanceOf(Uint8Array);
      expect(v.request?.body?.length).toBe(0);
    }
    expect(verdictOf(get('/p'), bodyReader()).request?.body).toBeUndefined();
    expect(verdictOf('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', bodyReader()).request?.body).toBeUndefined();
  });

  it('a body of exactly maxBodySize is read; one byte more is 413 at once, from the head alone (Expect: 100-continue or not)', () => {
    const r = bodyReader(8);
    const ok = ascii(post('/p', 'Content-Length: 8\r\n') + '12345678');
    expect(r.push(ok, 0, ok.length, 0)).toBe(ok.length);
    expect(text(r.verdict().request?.body)).toBe('12345678');
    for (const expect100 of ['', 'Expect: 100-continue\r\n']) {
      const head = post('/p', `Content-Length: 9\r\n${expect100}`);
      const s = bodyReader(8);
      const bytes = ascii(head + '123456789');
      expect(s.push(bytes, 0, bytes.length, 0)).toBe(head.length); // the body is not taken
      const v = s.verdict();
      expect([v.status, v.linger, v.close, v.request]).toEqual([413, true, true, null]);
    }
    // never beyond the buffer, whatever the limits say
    expect(verdictOf(post('/p', 'Content-Length: 300\r\n'), bodyReader(1000, 256)).status).toBe(413);
  });

  const refusals: [string, string, number, boolean][] = [
    ['chunked', post('/p', 'Transfer-Encoding: chunked\r\n'), 411, true],
    ['Transfer-Encoding with Content-Length', post('/p', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'), 400, false],
    ['malformed Content-Length', post('/p', 'Content-Length: 3x\r\n'), 400, false],
    ['conflicting Content-Length', post('/p', 'Content-Length: 3\r\nContent-Length: 4\r\n'), 400, false],
    ['a bad path before a body', post('/a/../b', 'Content-Length: 3\r\n'), 400, true],
    ['a bad path without a body', post('/a/../b'), 400, false],
    ['an upgrade with a body', post('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 2\r\n'), 400, true],
    ['an upgrade', post('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\n'), 400, false],
    ['PUT', 'PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n', 405, true],
    ['GET with a body', get('/', 'Content-Length: 3\r\n'), 413, true],
    ['GET chunked', get('/', 'Transfer-Encoding: chunked\r\n'), 413, true],
  ];
  for (const [name, request, status, linger] of refusals) {
    it(`${name} -> ${status}${linger ? ', linger' : ''}, close`, () => {
      const v = verdictOf(request, bodyReader());
      expect(v.request).toBeNull();
      expect([v.status, v.linger, v.close]).toEqual([status, linger, true]);
    });
  }

  it('without maxBodySize (or 0) POST is 405 as before', () => {
    expect(verdictOf(post('/p'), reader(2048, 512, 32, 0)).status).toBe(405);
    expect(verdictOf(post('/p', 'Content-Length: 3\r\n'), reader()).status).toBe(405);
  });
});
