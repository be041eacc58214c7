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
    return this.r.verdict(this.limits);
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

function reader(size = 2048, maxRequestLine = 512, maxHeaders = 32): LimitedReader {
  return new LimitedReader(size, { maxRequestLine, maxHeaders });
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
    expect([r.verdict().status, r.verdict().linger]).toEqual([431, true]);
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
