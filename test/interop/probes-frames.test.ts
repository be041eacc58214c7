// Raw TCP probes against our WebSocketServer (hosts/sim, in-process on 127.0.0.1; under
// npm run test:moddable the same options' server in the Moddable simulator, peers/targets.ts):
// the upgrade is done by hand with node:net, then each RFC 6455 violation is sent as
// bytes and the exact close frame the server answers with is decoded from the socket
// (opcode 8, code, reason), followed by the server closing TCP. Valid but unusual
// inputs (non-minimal lengths, 1-byte TCP writes, a frame in the handshake's write)
// must be accepted and echoed. Every case runs against message and stream mode.

import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installSimPlatform } from '../../hosts/sim/platform';
import { startEchoTarget } from './peers/targets';
import type { EchoTarget } from './peers/targets';

const MAX_MESSAGE = 1024;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// --- Client-side frame building (masked unless told otherwise) -------------------

interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** RSV bits as a 3-bit number (4 = RSV1, 2 = RSV2, 1 = RSV3). */
  rsv?: number;
  mask?: boolean;
  /** Force the 16-bit (126) or 64-bit (127) length form, minimal or not. */
  lengthForm?: 7 | 16 | 64;
}

function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : Buffer.from(spec.payload ?? []);
  const mask = spec.mask ?? true;
  const n = payload.length;
  const form = spec.lengthForm ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const parts: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const m = mask ? 0x80 : 0;
  if (form === 7) parts.push(m | n);
  else if (form === 16) parts.push(m | 126, n >> 8, n & 0xff);
  else parts.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  const header = Buffer.from(parts);
  if (!mask) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([header, key, body]);
}

function closePayload(code: number, reason: Uint8Array | string = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason);
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), r]);
}

// --- Server frames, decoded from the socket bytes --------------------------------

interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Complete frames in data and the bytes they span; a partial tail is left. */
function decodeFrames(data: Buffer): { frames: ServerFrame[]; consumed: number } {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (data.length - at >= 2) {
    const b0 = data[at];
    const b1 = data[at + 1];
    let n = b1 & 0x7f;
    let h = 2;
    if (n === 126) {
      if (data.length - at < 4) break;
      n = data.readUInt16BE(at + 2);
      h = 4;
    } else if (n === 127) {
      if (data.length - at < 10) break;
      n = Number(data.readBigUInt64BE(at + 2));
      h = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) h += 4;
    if (data.length - at < h + n) break;
    let payload = Buffer.from(data.subarray(at + h, at + h + n));
    if (masked) {
      const key = data.subarray(at + h - 4, at + h);
      payload = Buffer.from(payload.map((byte, i) => byte ^ key[i & 3]));
    }
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    at += h + n;
  }
  return { frames, consumed: at };
}

// --- A raw client ------------------------------------------------------------------

class Probe {
  readonly socket: net.Socket;
  private data = Buffer.alloc(0);
  private headEnd = -1;
  /** The server sent FIN. */
  gotFin = false;
  /** The socket failed (e.g. ECONNRESET). */
  error: Error | null = null;
  isClosed = false;
  readonly closed: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      if (this.headEnd < 0) {
        const i = this.data.indexOf('\r\n\r\n');
        if (i >= 0) this.headEnd = i + 4;
      }
      this.wake();
    });
    socket.on('end', () => {
      this.gotFin = true;
      this.wake();
    });
    socket.on('error', (error) => {
      this.error = error;
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static async connect(port: number): Promise<Probe> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const probe = new Probe(socket);
    probes.push(probe);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return probe;
  }

  /** Connect and complete the opening handshake, checking the 101 response. */
  static async open(port: number, firstBytes?: Buffer): Promise<Probe> {
    const probe = await Probe.connect(port);
    const key = randomBytes(16).toString('base64');
    const request =
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    probe.write(firstBytes ? Buffer.concat([Buffer.from(request, 'latin1'), firstBytes]) : Buffer.from(request, 'latin1'));
    await probe.until(() => probe.headEnd >= 0, 'the 101 response');
    const head = probe.data.subarray(0, probe.headEnd).toString('latin1');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    expect(head).toContain(`\r\nSec-WebSocket-Accept: ${accept}\r\n`);
    return probe;
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Write bytes in pieces of `size` with `delay` ms between them; stops early once closed. Returns bytes written. */
  async writeSlowly(bytes: Buffer, size: number, delay: number, stopWhen?: () => boolean): Promise<number> {
    let at = 0;
    while (at < bytes.length) {
      if (this.isClosed || this.gotFin || stopWhen?.()) break;
      this.write(bytes.subarray(at, at + size));
      at = Math.min(bytes.length, at + size);
      await sleep(delay);
    }
    return at;
  }

  /** Frames received after the handshake response. */
  frames(): ServerFrame[] {
    return this.headEnd < 0 ? [] : decodeFrames(this.data.subarray(this.headEnd)).frames;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async until(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received ${this.data.length} bytes, closed=${this.isClosed}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Wait for a frame matching opcode (after `skip` frames of that opcode). */
  async frame(opcode: number, skip = 0): Promise<ServerFrame> {
    let found: ServerFrame | undefined;
    await this.until(() => {
      found = this.frames().filter((f) => f.opcode === opcode)[skip];
      return found !== undefined;
    }, `a frame with opcode ${opcode}`);
    return found!;
  }

  /**
   * The server's close frame is the last frame, the server then closes TCP (FIN),
   * and nothing else came. Returns the close code and reason.
   */
  async expectCloseAndEnd(): Promise<{ code: number; reason: string }> {
    await this.until(() => this.isClosed, 'the server to close TCP');
    const frames = this.frames();
    const last = frames[frames.length - 1];
    expect(last, 'a close frame').toBeDefined();
    expect(last.opcode).toBe(8);
    expect(last.fin).toBe(true);
    expect(last.rsv).toBe(0);
    expect(last.masked).toBe(false);
    // The server closed the connection (FIN), not us, and not by reset.
    expect(this.error?.message ?? null).toBeNull();
    expect(this.gotFin).toBe(true);
    // Nothing after the close frame.
    expect(this.headEnd + decodeFrames(this.data.subarray(this.headEnd)).consumed).toBe(this.data.length);
    if (last.payload.length === 0) return { code: 1005, reason: '' };
    expect(last.payload.length).toBeGreaterThanOrEqual(2);
    const reason = new TextDecoder('utf-8', { fatal: true }).decode(last.payload.subarray(2));
    return { code: last.payload.readUInt16BE(0), reason };
  }
}

const probes: Probe[] = [];

beforeAll(() => installSimPlatform());

afterEach(() => {
  for (const p of probes.splice(0)) p.socket.destroy();
});

const BIN = 2;
const TEXT = 1;
const CONT = 0;
const CLOSE = 8;
const PING = 9;
const PONG = 10;

for (const mode of ['message', 'stream'] as const) {
  describe(`raw frame probes against our server (${mode} mode)`, () => {
    let server: EchoTarget;
    let port: number;
    const serverErrors: string[] = [];

    beforeAll(async () => {
      server = await startEchoTarget(`frames-${mode}`, {
        port: 0,
        maxMessageSize: MAX_MESSAGE,
        receiveMode: mode,
        chunkSize: 64, // stream mode: many chunks per message
        sendQueueSize: 16384,
        keepAliveInterval: 0,
        maxClients: 64,
        log: (line) => {
          if (line.startsWith('error')) serverErrors.push(line);
        },
      });
      port = server.port;
    });

    afterAll(async () => {
      await server.stop();
    });

    afterEach(async () => {
      // Every probe's connection is gone on the server side too.
      for (const p of probes.splice(0)) p.socket.destroy();
      const deadline = Date.now() + 2000;
      while ((await server.clientsCount()) > 0 && Date.now() < deadline) await sleep(5);
      expect(await server.clientsCount()).toBe(0);
    });

    /** Open, send `bytes`, expect the server's close frame (code, reason) and its TCP close. */
    async function violation(bytes: Buffer | Buffer[], code: number, reason: string): Promise<Probe> {
      const probe = await Probe.open(port);
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) probe.write(b);
      expect(await probe.expectCloseAndEnd()).toEqual({ code, reason });
      return probe;
    }

    describe('1002 protocol errors', () => {
      for (const rsv of [4, 2, 1, 7]) {
        it(`RSV bits ${rsv.toString(2).padStart(3, '0')} on a text frame`, async () => {
          await violation(frame({ opcode: TEXT, payload: 'hi', rsv }), 1002, 'reserved bits set without an extension');
        });
      }
      it('RSV1 on a ping', async () => {
        await violation(frame({ opcode: PING, payload: 'x', rsv: 4 }), 1002, 'reserved bits set without an extension');
      });
      for (const opcode of [3, 4, 5, 6, 7]) {
        it(`reserved data opcode ${opcode.toString(16).toUpperCase()}`, async () => {
          await violation(frame({ opcode, payload: 'x' }), 1002, 'reserved data opcode');
        });
      }
      for (const opcode of [0xb, 0xc, 0xd, 0xe, 0xf]) {
        it(`reserved control opcode ${opcode.toString(16).toUpperCase()}`, async () => {
          await violation(frame({ opcode, payload: 'x' }), 1002, 'reserved control opcode');
        });
      }
      it('ping with a 126-byte payload', async () => {
        await violation(frame({ opcode: PING, payload: Buffer.alloc(126, 0x61) }), 1002, 'control frame payload over 125 bytes');
      });
      it('ping with 125 bytes is fine (boundary) and is answered with the same payload', async () => {
        const payload = randomBytes(125);
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: PING, payload }));
        const pong = await probe.frame(PONG);
        expect(pong.payload.equals(payload)).toBe(true);
        probe.write(frame({ opcode: CLOSE, payload: closePayload(1000) }));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1000, reason: '' });
      });
      it('fragmented ping (FIN clear)', async () => {
        await violation(frame({ opcode: PING, payload: 'a', fin: false }), 1002, 'fragmented control frame');
      });
      it('fragmented ping inside a fragmented text message', async () => {
        await violation(
          [frame({ opcode: TEXT, payload: 'ab', fin: false }), frame({ opcode: PING, payload: 'p', fin: false })],
          1002,
          'fragmented control frame',
        );
      });
      it('continuation without a start', async () => {
        await violation(frame({ opcode: CONT, payload: 'orphan' }), 1002, 'continuation frame without a message to continue');
      });
      it('continuation after a completed message', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: TEXT, payload: 'done' }));
        const echo = await probe.frame(TEXT);
        expect(echo.payload.toString()).toBe('done');
        probe.write(frame({ opcode: CONT, payload: 'more' }));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1002, reason: 'continuation frame without a message to continue' });
      });
      it('new text frame inside a fragmented message', async () => {
        await violation(
          [frame({ opcode: TEXT, payload: 'first', fin: false }), frame({ opcode: TEXT, payload: 'second' })],
          1002,
          'new data frame inside a fragmented message',
        );
      });
      it('new binary frame inside a fragmented text message', async () => {
        await violation(
          [frame({ opcode: TEXT, payload: 'first', fin: false }), frame({ opcode: BIN, payload: 'second' })],
          1002,
          'new data frame inside a fragmented message',
        );
      });
      it('unmasked client frame', async () => {
        await violation(frame({ opcode: TEXT, payload: 'plain', mask: false }), 1002, 'unmasked frame from a client');
      });
      it('unmasked client close frame', async () => {
        await violation(frame({ opcode: CLOSE, payload: closePayload(1000), mask: false }), 1002, 'unmasked frame from a client');
      });
      it('close with a 1-byte payload', async () => {
        await violation(frame({ opcode: CLOSE, payload: Buffer.from([0x03]) }), 1002, 'close frame with a 1-byte payload');
      });
      for (const code of [0, 999, 1004, 1005, 1006, 1012, 1016, 2999, 5000, 65535]) {
        it(`close code ${code}`, async () => {
          await violation(frame({ opcode: CLOSE, payload: closePayload(code, 'x') }), 1002, 'invalid close code');
        });
      }
      it('64-bit length with the top bit set (only the header is sent)', async () => {
        const key = randomBytes(4);
        const header = Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, ...key]);
        await violation(header, 1002, '64-bit length with the top bit set');
      });
    });

    describe('1007 invalid payload data', () => {
      const bad = Buffer.from([0x68, 0x69, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65]); // ..., U+D800 as UTF-8
      it('invalid UTF-8 in a single text frame', async () => {
        await violation(frame({ opcode: TEXT, payload: bad }), 1007, 'invalid UTF-8 in text message');
      });
      it('invalid bytes: 0xff, 0xc0 0x80 (overlong), 0xf5 (above U+10FFFF)', async () => {
        for (const payload of [Buffer.from([0x61, 0xff]), Buffer.from([0xc0, 0x80]), Buffer.from([0xf5, 0x80, 0x80, 0x80])]) {
          const probe = await violation(frame({ opcode: TEXT, payload }), 1007, 'invalid UTF-8 in text message');
          probe.socket.destroy();
        }
      });
      it('text ending inside a UTF-8 sequence', async () => {
        await violation(frame({ opcode: TEXT, payload: Buffer.from([0x61, 0xe2, 0x82]) }), 1007, 'text message ends inside a UTF-8 sequence');
      });
      it('invalid UTF-8 split across frames (a sequence broken at the frame boundary)', async () => {
        // "€" is e2 82 ac: the first frame ends after e2 82, the continuation brings 0x28.
        await violation(
          [frame({ opcode: TEXT, payload: Buffer.from([0x61, 0xe2, 0x82]), fin: false }), frame({ opcode: CONT, payload: Buffer.from([0x28, 0x62]) })],
          1007,
          'invalid UTF-8 in text message',
        );
      });
      it('valid UTF-8 split across frames inside a sequence is accepted and echoed', async () => {
        const probe = await Probe.open(port);
        const text = Buffer.from('a€😀b', 'utf8');
        probe.write(frame({ opcode: TEXT, payload: text.subarray(0, 2), fin: false }));
        probe.write(frame({ opcode: CONT, payload: text.subarray(2, 6), fin: false }));
        probe.write(frame({ opcode: CONT, payload: text.subarray(6) }));
        await probe.until(() => probe.frames().some((f) => f.fin && f.opcode !== PONG), 'the echo');
        const echoed = Buffer.concat(probe.frames().map((f) => f.payload));
        expect(echoed.toString('utf8')).toBe('a€😀b');
        expect(probe.frames()[0].opcode).toBe(TEXT);
      });
      it('fails fast: an invalid first fragment is refused before the message ends', async () => {
        // The message is never finished: the 1007 must come from the first fragment.
        await violation(frame({ opcode: TEXT, payload: Buffer.from([0x61, 0xed, 0xa0, 0x80]), fin: false }), 1007, 'invalid UTF-8 in text message');
      });
      it('invalid UTF-8 arriving across delayed TCP writes is refused at the bad byte', async () => {
        const good = Buffer.from('valid text before the bad byte, quite a few bytes of it ', 'utf8');
        const payload = Buffer.concat([good, Buffer.from([0xf0, 0x28, 0x8c, 0x28]), Buffer.alloc(200, 0x61)]);
        const bytes = frame({ opcode: TEXT, payload });
        const probe = await Probe.open(port);
        const written = await probe.writeSlowly(bytes, 16, 25, () => probe.frames().some((f) => f.opcode === CLOSE));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1007, reason: 'invalid UTF-8 in text message' });
        // The close came while most of the frame was still unsent.
        expect(written).toBeLessThan(bytes.length);
      });
      it('invalid UTF-8 split across frames and delayed TCP writes', async () => {
        const bytes = Buffer.concat([
          frame({ opcode: TEXT, payload: Buffer.from('ok so far \xce', 'latin1'), fin: false }),
          frame({ opcode: CONT, payload: Buffer.from([0xba, 0xf4]), fin: false }),
          frame({ opcode: CONT, payload: Buffer.from([0x90, 0x80, 0x80]) }), // U+110000: invalid at 0x90
        ]);
        const probe = await Probe.open(port);
        await probe.writeSlowly(bytes, 3, 10);
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1007, reason: 'invalid UTF-8 in text message' });
      });
      it('invalid UTF-8 in a close reason', async () => {
        await violation(frame({ opcode: CLOSE, payload: closePayload(1000, Buffer.from([0x62, 0x79, 0xff])) }), 1007, 'close reason is not valid UTF-8');
      });
      it('a close reason cut inside a UTF-8 sequence', async () => {
        await violation(frame({ opcode: CLOSE, payload: closePayload(1000, Buffer.from([0xe2, 0x82])) }), 1007, 'close reason is not valid UTF-8');
      });
    });

    describe('1009 message too big', () => {
      it(`a frame of ${MAX_MESSAGE + 1} bytes is refused from its header (no payload sent)`, async () => {
        const key = randomBytes(4);
        const n = MAX_MESSAGE + 1;
        await violation(Buffer.from([0x82, 0xfe, n >> 8, n & 0xff, ...key]), 1009, 'frame too big');
      });
      it(`a whole frame of ${MAX_MESSAGE + 1} bytes`, async () => {
        await violation(frame({ opcode: BIN, payload: Buffer.alloc(MAX_MESSAGE + 1, 1) }), 1009, 'frame too big');
      });
      it(`a fragmented message adding up to ${MAX_MESSAGE + 1} bytes`, async () => {
        await violation(
          [
            frame({ opcode: TEXT, payload: Buffer.alloc(MAX_MESSAGE / 2, 0x61), fin: false }),
            frame({ opcode: CONT, payload: Buffer.alloc(MAX_MESSAGE / 2, 0x62), fin: false }),
            frame({ opcode: CONT, payload: Buffer.alloc(1, 0x63) }),
          ],
          1009,
          'message too big',
        );
      });
      it(`exactly ${MAX_MESSAGE} bytes is accepted and echoed`, async () => {
        const payload = randomBytes(MAX_MESSAGE);
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: BIN, payload }));
        await probe.until(() => probe.frames().some((f) => f.fin), 'the echo');
        expect(Buffer.concat(probe.frames().map((f) => f.payload)).equals(payload)).toBe(true);
      });
    });

    describe('valid but unusual input is accepted', () => {
      it('non-minimal 16-bit length (126 form) for 5 bytes is echoed', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: TEXT, payload: 'hello', lengthForm: 16 }));
        const echo = await probe.frame(TEXT);
        expect(echo.payload.toString()).toBe('hello');
        expect(echo.fin).toBe(true);
      });
      it('non-minimal 64-bit length (127 form) for 200 bytes is echoed', async () => {
        const payload = randomBytes(200);
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: BIN, payload, lengthForm: 64 }));
        await probe.until(() => probe.frames().some((f) => f.fin), 'the echo');
        expect(Buffer.concat(probe.frames().map((f) => f.payload)).equals(payload)).toBe(true);
      });
      it('non-minimal 64-bit length on a ping is answered', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: PING, payload: 'pp', lengthForm: 64 }));
        expect((await probe.frame(PONG)).payload.toString()).toBe('pp');
      });
      it('a frame split into 1-byte TCP writes with delays is echoed', async () => {
        const probe = await Probe.open(port);
        const text = 'byte by byte: ü€😀';
        const bytes = Buffer.concat([frame({ opcode: TEXT, payload: text, lengthForm: 16 }), frame({ opcode: PING, payload: 'x' })]);
        await probe.writeSlowly(bytes, 1, 2);
        await probe.frame(PONG);
        const echoed = Buffer.concat(probe.frames().filter((f) => f.opcode !== PONG).map((f) => f.payload));
        expect(echoed.toString('utf8')).toBe(text);
      });
      it('the handshake and the first frames in the same TCP write', async () => {
        const first = Buffer.concat([frame({ opcode: TEXT, payload: 'early' }), frame({ opcode: BIN, payload: Buffer.from([1, 2, 3]) })]);
        const probe = await Probe.open(port, first);
        await probe.until(() => probe.frames().filter((f) => f.fin).length >= 2, 'two echoes');
        const frames = probe.frames();
        expect(frames[0].opcode).toBe(TEXT);
        expect(frames[0].payload.toString()).toBe('early');
        expect(frames[frames.length - 1].payload.equals(Buffer.from([1, 2, 3]))).toBe(true);
      });
      it('the handshake, a message and a close in the same TCP write', async () => {
        const first = Buffer.concat([frame({ opcode: TEXT, payload: 'hi' }), frame({ opcode: CLOSE, payload: closePayload(4000, 'done') })]);
        const probe = await Probe.open(port, first);
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 4000, reason: '' });
        expect(probe.frames()[0].payload.toString()).toBe('hi');
      });
      it('interleaved ping inside a fragmented message is answered and the message echoed', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: TEXT, payload: 'frag', fin: false }));
        probe.write(frame({ opcode: PING, payload: 'mid' }));
        probe.write(frame({ opcode: CONT, payload: 'mented' }));
        await probe.until(() => probe.frames().some((f) => f.fin && f.opcode !== PONG), 'the echo');
        expect((await probe.frame(PONG)).payload.toString()).toBe('mid');
        const data = probe.frames().filter((f) => f.opcode !== PONG);
        expect(Buffer.concat(data.map((f) => f.payload)).toString()).toBe('fragmented');
      });
    });

    describe('close handshake', () => {
      it('close 1000 with a reason: the code is echoed, then the server closes TCP', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: CLOSE, payload: closePayload(1000, 'bye now') }));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1000, reason: '' });
      });
      it('an empty close is answered with an empty close', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: CLOSE }));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1005, reason: '' });
        expect(probe.frames().at(-1)!.payload.length).toBe(0);
      });
      it('application code 4999 and a 123-byte reason are accepted', async () => {
        const probe = await Probe.open(port);
        probe.write(frame({ opcode: CLOSE, payload: closePayload(4999, 'r'.repeat(123)) }));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 4999, reason: '' });
      });
      it('frames after the close are ignored', async () => {
        const probe = await Probe.open(port);
        probe.write(Buffer.concat([frame({ opcode: CLOSE, payload: closePayload(1001) }), frame({ opcode: TEXT, payload: 'late' })]));
        expect(await probe.expectCloseAndEnd()).toEqual({ code: 1001, reason: '' });
        expect(probe.frames().length).toBe(1);
      });
    });

    it('the server reported no unexpected errors', () => {
      // Protocol failures of opened clients are reported through 'closed', not 'error'.
      expect(serverErrors).toEqual([]);
    });
  });
}
