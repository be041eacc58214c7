// Raw TCP probes of the opening handshake against our WebSocketServer (hosts/sim,
// in-process on 127.0.0.1; under npm run test:moddable the same options' servers in the
// Moddable simulator, peers/targets.ts): bad requests get the exact status line and headers, a
// Content-Length body, and the server closes TCP after the response. A stalled
// request is dropped after handshakeTimeout; browser-style requests are accepted.

import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installSimPlatform } from '../../hosts/sim/platform';
import { startEchoTarget } from './peers/targets';
import type { EchoTarget } from './peers/targets';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HANDSHAKE_TIMEOUT = 400;
const MAX_HEADER = 2048;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Exchange {
  /** Everything the server sent. */
  bytes: Buffer;
  /** The server closed with FIN (not a reset). */
  gotFin: boolean;
  error: string | null;
  /** ms from the last write to the TCP close. */
  closedAfter: number;
  /** ms from before connecting (before the server could arm any timer) to the TCP close. */
  elapsed: number;
  /** How many of the request's pieces were written before the server closed. */
  written: number;
}

interface Response {
  statusLine: string;
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

const sockets: net.Socket[] = [];

/**
 * Connect, write `request` (one string/buffer, or pieces written `delay` ms apart),
 * and collect what the server sends until it closes TCP (bounded by `timeout`).
 */
async function exchange(port: number, request: string | Buffer | Array<string | Buffer>, options: { delay?: number; timeout?: number } = {}): Promise<Exchange> {
  const started = Date.now();
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let gotFin = false;
  let error: string | null = null;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('end', () => (gotFin = true));
  socket.on('error', (e) => (error = (e as NodeJS.ErrnoException).code ?? e.message));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const pieces = Array.isArray(request) ? request : [request];
  let written = 0;
  for (let i = 0; i < pieces.length; i++) {
    if (socket.destroyed) break;
    written++;
    socket.write(typeof pieces[i] === 'string' ? Buffer.from(pieces[i] as string, 'latin1') : (pieces[i] as Buffer));
    if (options.delay && i < pieces.length - 1) await sleep(options.delay);
  }
  const sent = Date.now();
  const timeout = options.timeout ?? 5000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeout))),
  ]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`the server did not close within ${timeout} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`);
  const now = Date.now();
  return { bytes: Buffer.concat(chunks), gotFin, error, closedAfter: now - sent, elapsed: now - started, written };
}

function parseResponse(bytes: Buffer): Response {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  expect(end, `a complete response head in ${JSON.stringify(text)}`).toBeGreaterThan(0);
  const lines = text.slice(0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    expect(colon).toBeGreaterThan(0);
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  const statusLine = lines[0];
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/** A refused handshake: status line, the error headers, Content-Length matching the body, then FIN. */
async function expectRefusal(port: number, request: string | Buffer | Array<string | Buffer>, statusLine: string, body: string, extra: Record<string, string> = {}): Promise<Response> {
  const result = await exchange(port, request);
  const response = parseResponse(result.bytes);
  expect(response.statusLine).toBe(statusLine);
  expect(response.headers.get('connection')).toEqual(['close']);
  expect(response.headers.get('content-type')).toEqual(['text/plain']);
  expect(response.headers.get('content-length')).toEqual([String(Buffer.byteLength(response.body, 'latin1'))]);
  expect(response.body).toBe(body + '\n');
  for (const [name, value] of Object.entries(extra)) expect(response.headers.get(name.toLowerCase()), name).toEqual([value]);
  expect(response.headers.has('upgrade')).toBe(false);
  expect(response.headers.has('sec-websocket-accept')).toBe(false);
  expect(result.error).toBeNull();
  expect(result.gotFin).toBe(true);
  return response;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455 section 1.3
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A request from header lines; `omit` drops headers by name, `set` replaces or adds them. */
function request(options: { method?: string; target?: string; version?: string; omit?: string[]; set?: Record<string, string>; eol?: string } = {}): string {
  const eol = options.eol ?? '\r\n';
  const fields: Array<[string, string]> = [
    ['Host', '127.0.0.1'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', KEY],
    ['Sec-WebSocket-Version', '13'],
  ];
  const omit = (options.omit ?? []).map((n) => n.toLowerCase());
  const set = options.set ?? {};
  let lines = fields.filter(([n]) => !omit.includes(n.toLowerCase()) && !(n in set));
  lines = [...lines, ...Object.entries(set)];
  return `${options.method ?? 'GET'} ${options.target ?? '/'} ${options.version ?? 'HTTP/1.1'}${eol}` + lines.map(([n, v]) => `${n}: ${v}${eol}`).join('') + eol;
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const key = randomBytes(4);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, Buffer.from(payload.map((b, i) => b ^ key[i & 3]))]);
}

/** Open (101 checked), send one text message, expect it echoed. */
async function expectAccepted(port: number, req: string | string[], key = KEY, delay?: number): Promise<Response> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  socket.setNoDelay(true);
  let data = Buffer.alloc(0);
  let waiting: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    waiting?.();
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const until = async (test: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(data.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        waiting = resolve;
        setTimeout(resolve, 20);
      });
    }
  };
  for (const piece of Array.isArray(req) ? req : [req]) {
    socket.write(piece, 'latin1');
    if (delay) await sleep(delay);
  }
  await until(() => data.indexOf('\r\n\r\n') >= 0, 'the response');
  const end = data.indexOf('\r\n\r\n') + 4;
  const response = parseResponse(data.subarray(0, end));
  expect(response.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
  expect(response.headers.get('upgrade')).toEqual(['websocket']);
  expect(response.headers.get('connection')).toEqual(['Upgrade']);
  expect(response.headers.get('sec-websocket-accept')).toEqual([createHash('sha1').update(key + GUID).digest('base64')]);
  expect(response.headers.has('sec-websocket-extensions')).toBe(false);
  expect(response.body).toBe('');
  socket.write(maskedText('after the handshake'));
  await until(() => data.length >= end + 2 + 19, 'the echo');
  expect(data.subarray(end).equals(Buffer.concat([Buffer.from([0x81, 19]), Buffer.from('after the handshake')]))).toBe(true);
  socket.destroy();
  return response;
}

beforeAll(() => installSimPlatform());

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

describe('handshake probes against our server', () => {
  let server: EchoTarget;
  let port: number;
  let prefixed: EchoTarget;
  let prefixedPort: number;

  beforeAll(async () => {
    const common = { port: 0, handshakeTimeout: HANDSHAKE_TIMEOUT, maxHeaderSize: MAX_HEADER, maxClients: 64, keepAliveInterval: 0 };
    server = await startEchoTarget('handshake', { ...common });
    port = server.port;
    prefixed = await startEchoTarget('handshake-prefixed', { ...common, prefix: '/ws' });
    prefixedPort = prefixed.port;
  });

  afterAll(async () => {
    await server.stop();
    await prefixed.stop();
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    const deadline = Date.now() + 2000;
    const counts = async (): Promise<number[]> => [await server.clientsCount(), await prefixed.clientsCount()];
    while ((await counts()).some((n) => n > 0) && Date.now() < deadline) await sleep(5);
    expect(await server.clientsCount()).toBe(0);
    expect(await prefixed.clientsCount()).toBe(0);
  });

  describe('accepted', () => {
    it('a minimal RFC 6455 request (the RFC example key gives the RFC example accept)', async () => {
      const response = await expectAccepted(port, request());
      expect(response.headers.get('sec-websocket-accept')).toEqual([ACCEPT]);
    });
    it('browser-style: Connection: keep-alive, Upgrade; Upgrade: WebSocket; extensions offered and declined', async () => {
      const key = randomBytes(16).toString('base64');
      await expectAccepted(
        port,
        request({
          target: '/?token=abc',
          set: {
            Host: `127.0.0.1:${port}`,
            Connection: 'keep-alive, Upgrade',
            Upgrade: 'WebSocket',
            Pragma: 'no-cache',
            'Cache-Control': 'no-cache',
            'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
            Origin: 'http://127.0.0.1:8080',
            'Sec-WebSocket-Version': '13',
            'Accept-Encoding': 'gzip, deflate, br, zstd',
            'Accept-Language': 'en-US,en;q=0.9',
            'Sec-WebSocket-Key': key,
            'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
          },
        }),
        key,
      );
    });
    it('Firefox-style: Connection: keep-alive, Upgrade with header names in other cases', async () => {
      await expectAccepted(port, request({ omit: ['Connection', 'Upgrade'], set: { connection: 'keep-alive, Upgrade', UPGRADE: 'websocket' } }));
    });
    it('a request written one byte at a time', async () => {
      const text = request();
      await expectAccepted(port, [...text], KEY, 0);
    });
    it('a request in three delayed pieces', async () => {
      const text = request();
      await expectAccepted(port, [text.slice(0, 10), text.slice(10, 60), text.slice(60)], KEY, 30);
    });
    it('bare LF line endings (RFC 7230 section 3.5)', async () => {
      await expectAccepted(port, request({ eol: '\n' }));
    });
    it('the prefix path, with a query', async () => {
      await expectAccepted(prefixedPort, request({ target: '/ws?room=1' }));
    });
    it(`a request head of exactly maxHeaderSize (${MAX_HEADER}) bytes, counting the blank line`, async () => {
      const base = request({ set: { 'X-Padding': '' } });
      const exact = request({ set: { 'X-Padding': 'p'.repeat(MAX_HEADER - base.length) } });
      expect(exact.length).toBe(MAX_HEADER);
      await expectAccepted(port, exact);
    });
    it('an open connection outlives handshakeTimeout', async () => {
      const socket = net.connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
      let closed = false;
      socket.on('close', () => (closed = true));
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(request(), 'latin1');
      await sleep(HANDSHAKE_TIMEOUT * 2);
      expect(closed).toBe(false);
      const end = data.indexOf('\r\n\r\n') + 4;
      expect(data.subarray(0, end).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
      socket.write(maskedText('still here'));
      const deadline = Date.now() + 2000;
      while (data.length < end + 12 && Date.now() < deadline) await sleep(5);
      expect(data.subarray(end).toString('latin1')).toBe('\x81\x0astill here');
    });
  });

  describe('refused with a status and closed', () => {
    it('no Sec-WebSocket-Key: 400', async () => {
      await expectRefusal(port, request({ omit: ['Sec-WebSocket-Key'] }), 'HTTP/1.1 400 Bad Request', 'invalid Sec-WebSocket-Key');
    });
    for (const [what, key] of [
      ['15 bytes', randomBytes(15).toString('base64')],
      ['17 bytes', randomBytes(17).toString('base64')],
      ['empty', ''],
      ['not base64', 'this is not base64!!!!=='],
    ] as const) {
      it(`Sec-WebSocket-Key ${what}: 400`, async () => {
        await expectRefusal(port, request({ set: { 'Sec-WebSocket-Key': key } }), 'HTTP/1.1 400 Bad Request', 'invalid Sec-WebSocket-Key');
      });
    }
    it('Sec-WebSocket-Version: 8: 426 with Sec-WebSocket-Version: 13', async () => {
      await expectRefusal(port, request({ set: { 'Sec-WebSocket-Version': '8' } }), 'HTTP/1.1 426 Upgrade Required', 'unsupported WebSocket version, expected 13', {
        'Sec-WebSocket-Version': '13',
      });
    });
    it('no Sec-WebSocket-Version: 426 with Sec-WebSocket-Version: 13', async () => {
      await expectRefusal(port, request({ omit: ['Sec-WebSocket-Version'] }), 'HTTP/1.1 426 Upgrade Required', 'unsupported WebSocket version, expected 13', {
        'Sec-WebSocket-Version': '13',
      });
    });
    it('POST: 405 with Allow: GET', async () => {
      await expectRefusal(port, request({ method: 'POST' }), 'HTTP/1.1 405 Method Not Allowed', 'method POST not allowed', { Allow: 'GET' });
    });
    it('HTTP/1.0: 400', async () => {
      await expectRefusal(port, request({ version: 'HTTP/1.0' }), 'HTTP/1.1 400 Bad Request', 'HTTP/1.0 is not HTTP/1.1 or later');
    });
    it('missing Host: 400', async () => {
      await expectRefusal(port, request({ omit: ['Host'] }), 'HTTP/1.1 400 Bad Request', 'missing or repeated Host header');
    });
    it('two Host headers: 400', async () => {
      const text = request().replace('Host: 127.0.0.1\r\n', 'Host: 127.0.0.1\r\nHost: evil.example\r\n');
      await expectRefusal(port, text, 'HTTP/1.1 400 Bad Request', 'missing or repeated Host header');
    });
    it('missing Upgrade: 400', async () => {
      await expectRefusal(port, request({ omit: ['Upgrade'] }), 'HTTP/1.1 400 Bad Request', 'Upgrade header lacks websocket');
    });
    it('Upgrade: h2c: 400', async () => {
      await expectRefusal(port, request({ set: { Upgrade: 'h2c' } }), 'HTTP/1.1 400 Bad Request', 'Upgrade header lacks websocket');
    });
    it('missing Connection: 400', async () => {
      await expectRefusal(port, request({ omit: ['Connection'] }), 'HTTP/1.1 400 Bad Request', 'Connection header lacks upgrade');
    });
    it('Connection: keep-alive (no upgrade): 400', async () => {
      await expectRefusal(port, request({ set: { Connection: 'keep-alive' } }), 'HTTP/1.1 400 Bad Request', 'Connection header lacks upgrade');
    });
    it('Connection: Upgraded (a token, not a substring match): 400', async () => {
      await expectRefusal(port, request({ set: { Connection: 'Upgraded' } }), 'HTTP/1.1 400 Bad Request', 'Connection header lacks upgrade');
    });
    it(`a request head one byte over maxHeaderSize: 431`, async () => {
      const base = request({ set: { 'X-Padding': '' } });
      const over = request({ set: { 'X-Padding': 'p'.repeat(MAX_HEADER - base.length + 1) } });
      expect(over.length).toBe(MAX_HEADER + 1);
      await expectRefusal(port, over, 'HTTP/1.1 431 Request Header Fields Too Large', 'request header fields too large');
    });
    it(`a 10 KB header (maxHeaderSize ${MAX_HEADER}): 431`, async () => {
      const big = request({ set: { 'X-Padding': 'p'.repeat(10 * 1024) } });
      await expectRefusal(port, big, 'HTTP/1.1 431 Request Header Fields Too Large', 'request header fields too large');
    });
    it('a 10 KB header written in delayed pieces: 431 as soon as the limit is passed', async () => {
      const big = request({ set: { 'X-Padding': 'p'.repeat(10 * 1024) } });
      const pieces: string[] = [];
      for (let i = 0; i < big.length; i += 1024) pieces.push(big.slice(i, i + 1024));
      const result = await exchange(port, pieces.slice(0, 3), { delay: 20 }); // 3 KB: past the limit, head unfinished
      expect(parseResponse(result.bytes).statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(result.gotFin).toBe(true);
    });
    it("wrong path (prefix '/ws', request '/'): 404", async () => {
      await expectRefusal(prefixedPort, request({ target: '/' }), 'HTTP/1.1 404 Not Found', 'no WebSocket endpoint at this path');
    });
    it("wrong path (prefix '/ws', request '/wsx'): 404", async () => {
      await expectRefusal(prefixedPort, request({ target: '/wsx' }), 'HTTP/1.1 404 Not Found', 'no WebSocket endpoint at this path');
    });
    it('a target with a fragment: 400', async () => {
      await expectRefusal(port, request({ target: '/#frag' }), 'HTTP/1.1 400 Bad Request', 'invalid request target');
    });
    it('an absolute-form target: 400', async () => {
      await expectRefusal(port, request({ target: 'http://127.0.0.1/' }), 'HTTP/1.1 400 Bad Request', 'invalid request target');
    });
    it('garbage bytes (not HTTP) ending in a blank line: 400', async () => {
      const garbage = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), Buffer.from('\r\n\r\n')]);
      await expectRefusal(port, garbage, 'HTTP/1.1 400 Bad Request', 'malformed request');
    });
    it('a request line with extra spaces: 400', async () => {
      await expectRefusal(port, request().replace('GET / HTTP/1.1', 'GET  / HTTP/1.1'), 'HTTP/1.1 400 Bad Request', 'malformed request');
    });
    it('a header line without a colon: 400', async () => {
      await expectRefusal(port, request().replace('\r\n\r\n', '\r\nno colon here\r\n\r\n'), 'HTTP/1.1 400 Bad Request', 'malformed request');
    });
    it('obs-fold (a continuation line): 400', async () => {
      await expectRefusal(port, request().replace('Upgrade: websocket\r\n', 'Upgrade:\r\n websocket\r\n'), 'HTTP/1.1 400 Bad Request', 'malformed request');
    });
    it('a NUL in a header value: 400', async () => {
      await expectRefusal(port, request({ set: { 'X-Evil': 'a\u0000b' } }), 'HTTP/1.1 400 Bad Request', 'malformed request');
    });
    it('binary garbage without line ends, longer than maxHeaderSize: 431', async () => {
      const garbage = Buffer.alloc(MAX_HEADER * 2, 0xa5);
      garbage.set([0x16, 0x03, 0x01], 0); // a TLS record header, as from wss:// to a ws:// port
      await expectRefusal(port, garbage, 'HTTP/1.1 431 Request Header Fields Too Large', 'request header fields too large');
    });
  });

  describe('server full', () => {
    it('maxClients 1: a second client gets 503 with Retry-After, the first keeps working', async () => {
      const full = await startEchoTarget('handshake-full', { port: 0, maxClients: 1, keepAliveInterval: 0 });
      try {
        const first = net.connect({ host: '127.0.0.1', port: full.port });
        sockets.push(first);
        let data = Buffer.alloc(0);
        first.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
        first.on('error', () => {});
        first.write(request(), 'latin1');
        const deadline = Date.now() + 2000;
        while (data.indexOf('\r\n\r\n') < 0 && Date.now() < deadline) await sleep(5);
        expect(data.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
        await expectRefusal(full.port, request(), 'HTTP/1.1 503 Service Unavailable', 'server full', { 'Retry-After': '5' });
        const end = data.length;
        first.write(maskedText('first'));
        while (data.length < end + 7 && Date.now() < deadline + 2000) await sleep(5);
        expect(data.subarray(end).toString('latin1')).toBe('\x81\x05first');
      } finally {
        await full.stop();
      }
    });
  });

  describe('handshake timeout', () => {
    it(`half a request, then silence: closed after handshakeTimeout (${HANDSHAKE_TIMEOUT} ms) without a response`, async () => {
      const half = request().slice(0, 40);
      const result = await exchange(port, half, { timeout: HANDSHAKE_TIMEOUT + 10_000 });
      expect(result.bytes.length).toBe(0); // no 408: the socket is just closed
      expect(result.gotFin).toBe(true);
      expect(result.error).toBeNull();
      expect(result.elapsed).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT - 50); // by the timeout, not before
    });
    it('a connection that sends nothing is closed after handshakeTimeout', async () => {
      const result = await exchange(port, Buffer.alloc(0), { timeout: HANDSHAKE_TIMEOUT + 10_000 });
      expect(result.bytes.length).toBe(0);
      expect(result.gotFin).toBe(true);
      expect(result.elapsed).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT - 50);
    });
    it('a slow-loris request (a byte every 50 ms) is cut off at handshakeTimeout', async () => {
      const text = request();
      const pieces = [...text].slice(0, 40); // 40 x 50 ms = 2 s, far beyond the timeout
      const result = await exchange(port, pieces, { delay: 50, timeout: 10_000 }).catch((e: Error) => e);
      expect(result).not.toBeInstanceOf(Error);
      expect((result as Exchange).bytes.length).toBe(0);
      // Ended by the server: a FIN, or a reset when the client's last bytes were still
      // unread when it closed (the Moddable simulator reads a socket every 20 ms, and
      // Linux answers close() over unread input with RST). Nothing is owed to this client,
      // and lingering for it would keep a slow-loris in its slot.
      const ended = result as Exchange;
      expect(ended.gotFin || ended.error === 'ECONNRESET', `FIN or reset, got ${ended.error ?? 'neither'}`).toBe(true);
      // Cut off while bytes were still arriving: the timeout counts from the connection, not
      // from the last byte (the exchange stops writing once the socket is closed).
      expect((result as Exchange).written).toBeLessThan(pieces.length);
      expect((result as Exchange).elapsed).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT - 50);
    });
  });
});
