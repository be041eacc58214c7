// What `npm run soak` (scripts/stress/soak.mjs) and `npm run fuzz` (scripts/stress/fuzz.mjs)
// share: the servers under test, started and stopped by PID; their RSS and open fds from
// /proc; a raw WebSocket client over node:net that can send any bytes (bad frames, frames
// split anywhere, a reset in the middle of a frame) and checks every frame the server
// sends back; a frame builder, an independent UTF-8 checker, a seeded random source,
// options and the report tables.
//
// The targets, on 127.0.0.1 only:
// - on the sim host (Node): the LED app, `node hosts/sim/run.mjs hosts/sim/led-main.ts
//   --port 0` (WebSocket at /ws behind the HTTP server), and the echo testee,
//   `node scripts/testee.mjs server --port 0` (stream-mode echo at /); both on a port the
//   system picks, read back from the line each prints;
// - in Moddable's simulator (needs $MODDABLE): the same two apps, built and run only
//   through scripts/moddable.mjs (mcconfig -d, make's build target, never -m; Xvfb and
//   mcsim stopped by PID): the echo app hosts/moddable/echo (config portBase = the first
//   port of a block reservePorts() holds for this run; its stream echo is base + 1, see
//   hosts/moddable/echo/servers.ts) and the LED app of the root manifest.json (config
//   port = base + 90, past the echo app's PORT_SPAN of 40). STRESS_TRACE=1 prints every
//   trace line of the simulated apps, prefixed with [led] or [echo].
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import * as moddable from '../moddable.mjs';

export const root = moddable.root;
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();

// ---- options ---------------------------------------------------------------------------

/**
 * Parses the command line with node:util parseArgs (`options` as it takes them, all
 * strings or booleans) and the common --target sim|moddable|both. Exits 2 with `usage` on
 * an unknown option. Returns { values, hosts } where hosts lists 'sim' and/or 'moddable':
 * the default is both with $MODDABLE set, else sim; --target moddable without $MODDABLE
 * prints SKIPPED and exits 0 (as npm run test:moddable does).
 */
/** Open fds a server may hold after a run beyond what it held before (listeners, timers' fds). */
export const FD_SLACK = 3;

export function parseOptions(tag, usage, options) {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { ...options, target: { type: 'string' }, app: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    console.error(`${tag}: ${error.message}\nusage: ${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  const target = values.target ?? (process.env.MODDABLE ? 'both' : 'sim');
  if (!['sim', 'moddable', 'both'].includes(target)) {
    console.error(`${tag}: --target ${target}: sim, moddable or both\nusage: ${usage}`);
    process.exit(2);
  }
  const apps = values.app === undefined || values.app === 'both' ? ['led', 'echo'] : [values.app];
  if (!apps.every((a) => a === 'led' || a === 'echo')) {
    console.error(`${tag}: --app ${values.app}: led, echo or both`);
    process.exit(2);
  }
  const seed = values.seed ?? String(Math.floor(Math.random() * 1e9));
  const hosts = target === 'both' ? ['sim', 'moddable'] : [target];
  if (hosts.includes('moddable') && !process.env.MODDABLE) {
    if (target === 'moddable') {
      console.log(`${tag}: SKIPPED: --target moddable needs $MODDABLE (the Moddable SDK's directory).`);
      process.exit(0);
    }
    hosts.splice(hosts.indexOf('moddable'), 1);
  }
  return { values, hosts, apps, seed };
}

/** A whole number option within [min, max], or exit 2. */
export function intOption(tag, name, text, fallback, min, max = Number.MAX_SAFE_INTEGER) {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`${tag}: --${name} ${text}: a number from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}

// ---- a seeded random source ----------------------------------------------------------------

/** 32-bit FNV-1a of a string: seeds from text. */
function fnv(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** sfc32: small, fast, deterministic; `Rng.of(...parts)` seeds one from any values. */
export class Rng {
  constructor(a, b, c, d) {
    this.s = [a >>> 0, b >>> 0, c >>> 0, d >>> 0];
    for (let i = 0; i < 12; i++) this.u32();
  }

  static of(...parts) {
    const text = parts.join('/');
    return new Rng(fnv(text), fnv(`a${text}`), fnv(`b${text}`), fnv(`c${text}`) | 1);
  }

  u32() {
    const s = this.s;
    const t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  /** 0 <= n < max. */
  int(max) {
    return max <= 1 ? 0 : Math.floor((this.u32() / 4294967296) * max);
  }

  /** min <= n <= max. */
  range(min, max) {
    return min + this.int(max - min + 1);
  }

  chance(p) {
    return this.u32() / 4294967296 < p;
  }

  pick(list) {
    return list[this.int(list.length)];
  }

  /** A weighted choice: [[weight, value], ...]. */
  weighted(entries) {
    let total = 0;
    for (const [w] of entries) total += w;
    let x = this.int(total);
    for (const [w, value] of entries) {
      if (x < w) return value;
      x -= w;
    }
    return entries[entries.length - 1][1];
  }

  bytes(n) {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** Valid UTF-8 text of about `n` bytes: ASCII with 2-, 3- and 4-byte characters mixed in. */
  text(n) {
    const chars = [];
    let size = 0;
    while (size < n) {
      const kind = this.int(10);
      let c;
      if (kind < 6) c = String.fromCharCode(0x20 + this.int(95));
      else if (kind < 8) c = String.fromCodePoint(0x80 + this.int(0x780));
      else if (kind < 9) {
        c = String.fromCodePoint(0x800 + this.int(0xf800 - 0x800));
        if (c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff) c = '€';
      } else c = String.fromCodePoint(0x10000 + this.int(0x100000));
      chars.push(c);
      size += Buffer.byteLength(c);
    }
    return Buffer.from(chars.join(''), 'utf8');
  }
}

// ---- UTF-8, independently of src/ ------------------------------------------------------------

/**
 * Incremental UTF-8 check written from RFC 3629's table (no overlong forms, no surrogates,
 * nothing above U+10FFFF): update() returns the index of the first byte that cannot be
 * valid, or -1; `complete` is false inside a sequence.
 */
export class Utf8Check {
  need = 0;
  lo = 0x80;
  hi = 0xbf;

  reset() {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  update(bytes, start = 0, end = bytes.length) {
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (this.need === 0) {
        if (c < 0x80) continue;
        if (c >= 0xc2 && c <= 0xdf) this.set(1, 0x80, 0xbf);
        else if (c === 0xe0) this.set(2, 0xa0, 0xbf);
        else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) this.set(2, 0x80, 0xbf);
        else if (c === 0xed) this.set(2, 0x80, 0x9f);
        else if (c === 0xf0) this.set(3, 0x90, 0xbf);
        else if (c >= 0xf1 && c <= 0xf3) this.set(3, 0x80, 0xbf);
        else if (c === 0xf4) this.set(3, 0x80, 0x8f);
        else return i;
      } else {
        if (c < this.lo || c > this.hi) return i;
        this.set(this.need - 1, 0x80, 0xbf);
      }
    }
    return -1;
  }

  set(need, lo, hi) {
    this.need = need;
    this.lo = lo;
    this.hi = hi;
  }

  get complete() {
    return this.need === 0;
  }
}

export function isValidUtf8(bytes) {
  const check = new Utf8Check();
  return check.update(bytes) < 0 && check.complete;
}

/** Close codes a close frame may carry (RFC 6455 7.4, strict as this project and Autobahn). */
export function isWireCloseCode(code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

// ---- frames ---------------------------------------------------------------------------------

export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };
const EMPTY = Buffer.alloc(0);

/**
 * One frame's bytes, any header bits: fin (default true), rsv (0-7), opcode, payload,
 * mask (4-byte key, or null: unmasked), form ('min', '16' or '64': the length encoding),
 * declared (a length, number or bigint, written instead of the payload's; the payload is
 * still appended as given).
 */
export function frame({ fin = true, rsv = 0, opcode, payload = EMPTY, mask = null, form = 'min', declared }) {
  const length = declared ?? payload.length;
  const big = BigInt(length);
  let lengthForm = form;
  if (lengthForm === 'min') lengthForm = big < 126n ? '7' : big < 65536n ? '16' : '64';
  if (lengthForm === '16' && big > 65535n) lengthForm = '64';
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f))];
  const maskBit = mask ? 0x80 : 0;
  if (lengthForm === '7') head.push(maskBit | Number(big));
  else if (lengthForm === '16') head.push(maskBit | 126, Number(big >> 8n) & 0xff, Number(big) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((big >> shift) & 0xffn));
  }
  if (mask) head.push(mask[0], mask[1], mask[2], mask[3]);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from(head), body]);
}

export function closePayload(code, reason = EMPTY) {
  if (code === undefined) return EMPTY;
  const out = Buffer.alloc(2 + reason.length);
  out.writeUInt16BE(code, 0);
  Buffer.from(reason).copy(out, 2);
  return out;
}

export const hexOf = (bytes, max = Infinity) => {
  const b = Buffer.from(bytes.subarray(0, Math.min(bytes.length, max)));
  return b.toString('hex') + (bytes.length > max ? `... (${bytes.length} bytes)` : '');
};

// ---- the raw client ---------------------------------------------------------------------------

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class HandshakeError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Opens a WebSocket to `target` (127.0.0.1:target.port, target.path) with a raw HTTP
 * upgrade and resolves to a WsClient; rejects with a HandshakeError (status 503, 421...,
 * or 0 when no answer came within timeoutMs or the connection failed). `handlers` are
 * the WsClient's (attached before any frame is read).
 */
export function connectWs(target, handlers = {}, { timeoutMs = 10_000, path = target.path } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: target.port });
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    let head = EMPTY;
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) {
        socket.destroy();
        reject(error);
      }
    };
    const timer = setTimeout(() => finish(new HandshakeError(0, `no answer to the upgrade within ${timeoutMs} ms`)), timeoutMs);
    const onError = (error) => finish(new HandshakeError(0, `upgrade: ${error.code ?? error.message}`));
    const onClose = () => finish(new HandshakeError(0, 'upgrade: the server closed the connection without an answer'));
    const onData = (chunk) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16384) finish(new HandshakeError(0, 'upgrade: answer head over 16 KiB'));
        return;
      }
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0])?.[1] ?? 0);
      if (status !== 101) return finish(new HandshakeError(status, `upgrade answered ${JSON.stringify(lines[0])}`));
      const accept = lines.find((l) => /^sec-websocket-accept:/i.test(l))?.replace(/^[^:]*:\s*/, '').trim();
      const want = createHash('sha1').update(key + GUID).digest('base64');
      if (accept !== want) return finish(new HandshakeError(101, `upgrade: Sec-WebSocket-Accept ${accept}, expected ${want}`));
      finish(null);
      const client = new WsClient(socket, handlers);
      resolve(client);
      if (head.length > end + 4) client.receive(head.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  });
}

/**
 * A client end of an open WebSocket over a net.Socket. It sends whatever it is given
 * (write() raw bytes, or sendFrame() with a fresh mask key) and parses what the server
 * sends, checking it as a client must (no RSV bits, no mask, known opcodes, control
 * frames whole and <= 125 bytes, fragments in order, text and close reasons valid UTF-8,
 * nothing after a close frame); a breach is recorded in `violations`.
 * Handlers: onData(type, payload, fin, first), onPing(payload), onPong(payload),
 * onClose(code, reason), onEnd(). autoPong (default true) answers pings until we sent a
 * close; autoReplyClose (default true) answers the server's close frame with the same
 * code and then ends our side (FIN).
 * `outcome`: { code: the server's close code (1005: an empty close; 1006: none), clean:
 * a close frame came and the connection then ended with FIN, no reset and no violation }.
 */
export class WsClient {
  constructor(socket, handlers = {}) {
    this.socket = socket;
    this.h = handlers;
    this.autoPong = handlers.autoPong ?? true;
    this.autoReplyClose = handlers.autoReplyClose ?? true;
    this.localPort = socket.localPort;
    this.closeFrame = null;
    this.closeSent = false;
    this.peerEnded = false;
    this.error = null;
    this.closed = false;
    this.reset = false;
    this.violations = [];
    this.lastProgress = now();
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.pending = EMPTY;
    this.inMessage = false;
    this.messageType = 'binary';
    this.utf8 = new Utf8Check();
    this.paused = false;
    this.done = new Promise((resolve) => socket.once('close', () => {
      this.closed = true;
      resolve();
    }));
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('end', () => {
      this.peerEnded = true;
      this.lastProgress = now();
      this.h.onEnd?.();
    });
    socket.on('error', (error) => {
      this.error ??= error;
    });
  }

  receive(chunk) {
    this.lastProgress = now();
    this.bytesIn += chunk.length;
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let p = 0;
    while (buf.length - p >= 2) {
      const b0 = buf[p];
      const b1 = buf[p + 1];
      const len7 = b1 & 0x7f;
      const masked = (b1 & 0x80) !== 0;
      const head = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (buf.length - p < head) break;
      let length = len7;
      if (len7 === 126) length = buf.readUInt16BE(p + 2);
      else if (len7 === 127) {
        const high = buf.readUInt32BE(p + 2);
        if (high > 0) {
          this.violate(`a frame of ${high} * 2^32 bytes or more`);
          return;
        }
        length = buf.readUInt32BE(p + 6);
      }
      if (length > 64 * 1024 * 1024) {
        this.violate(`a frame of ${length} bytes`);
        return;
      }
      if (buf.length - p < head + length) break;
      const payload = Buffer.from(buf.subarray(p + head, p + head + length));
      if (masked) {
        const key = buf.subarray(p + head - 4, p + head);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      p += head + length;
      this.frame(b0, masked, payload);
      if (this.closed || this.socket.destroyed) return;
    }
    this.pending = p === buf.length ? EMPTY : Buffer.from(buf.subarray(p));
  }

  violate(what) {
    this.violations.push(what);
    this.socket.destroy();
  }

  frame(b0, masked, payload) {
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (b0 & 0x70) return this.violate(`RSV bits 0x${(b0 & 0x70).toString(16)} from the server`);
    if (masked) return this.violate('a masked frame from the server');
    if (this.closeFrame) return this.violate(`a frame (opcode ${opcode}) after the server's close frame`);
    if (opcode >= 8) {
      if (!fin || payload.length > 125) return this.violate(`a ${fin ? '' : 'fragmented '}control frame of ${payload.length} bytes`);
      if (opcode === OP.ping) {
        this.h.onPing?.(payload);
        if (this.autoPong && !this.closeSent) this.sendFrame({ opcode: OP.pong, payload });
      } else if (opcode === OP.pong) this.h.onPong?.(payload);
      else if (opcode === OP.close) {
        if (payload.length === 1) return this.violate('a close frame with a 1-byte payload');
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.subarray(2);
        if (payload.length >= 2 && !isWireCloseCode(code)) return this.violate(`close code ${code} on the wire`);
        if (!isValidUtf8(reason)) return this.violate('a close reason that is not UTF-8');
        this.closeFrame = { code, reason: reason.toString('utf8') };
        this.h.onClose?.(code, this.closeFrame.reason);
        if (this.autoReplyClose) {
          if (!this.closeSent) this.sendClose(code === 1005 ? undefined : code);
          this.end();
        }
      } else return this.violate(`reserved control opcode ${opcode}`);
      return;
    }
    if (opcode === OP.cont) {
      if (!this.inMessage) return this.violate('a continuation frame with no message to continue');
    } else if (opcode === OP.text || opcode === OP.binary) {
      if (this.inMessage) return this.violate('a new message inside a fragmented one');
      this.inMessage = true;
      this.messageType = opcode === OP.text ? 'text' : 'binary';
      this.utf8.reset();
    } else return this.violate(`reserved data opcode ${opcode}`);
    if (this.messageType === 'text' && (this.utf8.update(payload) >= 0 || (fin && !this.utf8.complete))) {
      return this.violate('a text message that is not UTF-8');
    }
    if (fin) this.inMessage = false;
    this.h.onData?.(this.messageType, payload, fin, opcode !== OP.cont);
  }

  /** Raw bytes; resolves (true) once handed to the kernel, false if the socket is gone. */
  write(bytes) {
    return new Promise((resolve) => {
      const s = this.socket;
      if (s.destroyed || s.writableEnded) return resolve(false);
      this.bytesOut += bytes.length;
      s.write(bytes, (error) => {
        this.lastProgress = now();
        resolve(!error);
      });
    });
  }

  /** A frame masked with a fresh random key (a client's frames must be masked). */
  sendFrame(f) {
    return this.write(frame({ mask: randomBytes(4), ...f }));
  }

  sendClose(code, reason = '') {
    this.closeSent = true;
    return this.sendFrame({ opcode: OP.close, payload: closePayload(code, Buffer.from(reason)) });
  }

  /** Half-close: FIN after what was written. */
  end() {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  /** TCP RST now (the kernel drops whatever is unsent). */
  resetNow() {
    this.reset = true;
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  destroy() {
    this.socket.destroy();
  }

  pauseReading() {
    this.paused = true;
    this.socket.pause();
  }

  resumeReading() {
    this.paused = false;
    this.lastProgress = now();
    this.socket.resume();
  }

  /** Resolves true once the socket is closed, false after timeoutMs (then it is destroyed if `destroy`). */
  async closedWithin(timeoutMs, destroy = true) {
    let timer;
    const ok = await Promise.race([this.done.then(() => true), new Promise((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    if (!ok && destroy) this.socket.destroy();
    return ok;
  }

  get outcome() {
    const code = this.closeFrame ? this.closeFrame.code : 1006;
    const resetByPeer = this.error && /ECONNRESET|EPIPE/.test(this.error.code ?? '');
    return { code, clean: !!this.closeFrame && this.peerEnded && !resetByPeer && !this.reset && this.violations.length === 0 };
  }
}

// ---- the servers under test -------------------------------------------------------------------

/** Reads a child's stream line by line. */
function lineReader(stream, onLine) {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) onLine(line);
  });
}

/** What a target records of its output: LED changes and its error lines. */
function outputState() {
  return { ledColour: null, ledChanges: 0, lastChangeAt: 0, behind: 0, caughtUp: 0, writeFailed: 0, errorLines: 0, lastErrors: [] };
}

function noteLine(target, line) {
  // The SDK's lin sockets trace "write failed" with no newline: it can prefix a line.
  while (line.startsWith('write failed')) {
    target.out.writeFailed++;
    line = line.slice('write failed'.length);
  }
  const led = /^LED (#[0-9a-f]{6})$/.exec(line);
  if (led) {
    target.out.ledColour = led[1];
    target.out.ledChanges++;
    target.out.lastChangeAt = now();
  } else if (/^led: .* missed a colour/.test(line)) target.out.behind++;
  else if (/^led: .* caught up$/.test(line)) target.out.caughtUp++;
  else if (/# (Exception|Break)|^error |^websocket |^http: |Error/.test(line)) {
    target.out.errorLines++;
    target.out.lastErrors.push(line);
    if (target.out.lastErrors.length > 5) target.out.lastErrors.shift();
  }
}

/**
 * A target: { name, host ('sim' | 'moddable'), app ('led' | 'echo'), port, path, pid,
 * alive, exitStatus, limits { maxClients, maxMessage, stream }, out (LED colour and
 * changes, error lines), stop() }.
 */
function simTarget(app, args, banner, limits) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.PORT;
    delete env.HOST;
    delete env.LED_TOKEN;
    const child = moddable.track(spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env }));
    const target = {
      name: `sim ${app}`,
      host: 'sim',
      app,
      port: 0,
      path: app === 'led' ? '/ws' : '/',
      pid: child.pid,
      limits,
      out: outputState(),
      exitStatus: null,
      get alive() {
        return child.exitCode === null && child.signalCode === null;
      },
      async stop() {
        if (!this.alive) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => this.alive && child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      },
    };
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      target.exitStatus = signal ?? `exit ${code}`;
      resolve();
    }));
    const timer = setTimeout(() => reject(new Error(`${target.name}: no start line within 30 s`)), 30_000);
    let stderr = '';
    lineReader(child.stdout, (line) => {
      const m = banner.exec(line);
      if (m && !target.port) {
        target.port = Number(m[1]);
        clearTimeout(timer);
        resolve(target);
      }
      noteLine(target, line);
    });
    lineReader(child.stderr, (line) => {
      if (!target.port) stderr += line + '\n';
      noteLine(target, line);
    });
    exited.then(() => {
      clearTimeout(timer);
      if (!target.port) reject(new Error(`${target.name} exited at start (${target.exitStatus}): ${stderr}`));
    });
  });
}

/** The LED app and/or the echo testee on the sim host: apps is a list of 'led', 'echo'. */
export async function startSimTargets(apps) {
  moddable.installExitHandlers();
  const targets = [];
  if (apps.includes('led')) {
    moddable.buildWeb(); // web/dist, which the sim host's LED app serves
    targets.push(
      await simTarget('led', [join(root, 'hosts/sim/run.mjs'), join(root, 'hosts/sim/led-main.ts'), '--port', '0', '--ephemeral'], /^LED app: http:\/\/127\.0\.0\.1:(\d+)\//, {
        maxClients: 8,
        maxMessage: 64,
        stream: false,
      }),
    );
  }
  if (apps.includes('echo')) {
    // scripts/testee.mjs imports hosts/sim/run.mjs into its own process: the PID is the server's
    targets.push(
      await simTarget('echo', [join(root, 'scripts/testee.mjs'), 'server', '--port', '0'], /^echo testee listening on ws:\/\/127\.0\.0\.1:(\d+)\//, {
        maxClients: 64,
        maxMessage: 64 * 1024 * 1024,
        stream: true,
      }),
    );
  }
  return targets;
}

/**
 * The same apps in Moddable's simulator (Linux): builds (incrementally, into
 * build/moddable/stress/<app>, under a lock so two runs in one clone never share it),
 * Xvfb, one mcsim per app; everything through scripts/moddable.mjs. Throws a SetupError
 * (moddable.SetupError) with what is missing.
 */
export async function startModdableTargets(apps, tag, log = console.log) {
  const sdk = moddable.findSdk();
  if (sdk.host !== 'lin') throw new moddable.SetupError(`the Moddable targets run the Linux simulator under Xvfb; this is ${sdk.host}`);
  moddable.installExitHandlers();
  const out = join(root, 'build', 'moddable', 'stress'); // git-ignored
  mkdirSync(out, { recursive: true });
  if (!moddable.takeLock(join(out, 'run.lock'))) {
    throw new moddable.SetupError(`another soak or fuzz run in this clone (pid ${readFileSync(join(out, 'run.lock'), 'utf8')}) is using ${relative(root, out)}`);
  }
  // The echo app listens on base .. base + 39 (hosts/moddable/echo/servers.ts PORT_SPAN);
  // the LED app on base + 90.
  const block = await moddable.reservePorts(100);
  const builds = {};
  const build = (app, manifestDir, config) => {
    const t = now();
    const result = moddable.buildSimulatorApp(sdk, { manifestDir, outputDir: join(out, app), config, quiet: true, log: join(out, app) });
    log(`${tag}: built the ${app} app for mcsim (${relative(root, manifestDir) || 'manifest.json'} ${Object.entries(config).map(([k, v]) => `${k}=${v}`).join(' ')}) in ${((now() - t) / 1000).toFixed(1)} s`);
    builds[app] = result.app;
  };
  if (apps.includes('led')) {
    moddable.buildWeb();
    build('led', root, { port: block.base + 90 });
  }
  if (apps.includes('echo')) build('echo', join(root, 'hosts', 'moddable', 'echo'), { portBase: block.base });
  const display = await moddable.startXvfb();
  const targets = [];
  for (const app of apps) {
    const ready = app === 'led' ? /^LED app: / : /test servers ready/;
    let target = null;
    let resolveReady;
    const started = new Promise((resolve) => (resolveReady = resolve));
    const early = [];
    const sim = await moddable.startSimulator(sdk, {
      app: builds[app],
      display,
      onLine: (line) => {
        if (ready.test(line)) resolveReady();
        if (process.env.STRESS_TRACE) console.log(`[${app}] ${line}`);
        if (target) noteLine(target, line);
        else early.push(line);
      },
    });
    target = {
      name: `moddable ${app}`,
      host: 'moddable',
      app,
      port: app === 'led' ? block.base + 90 : block.base + 1,
      path: app === 'led' ? '/ws' : '/',
      pid: sim.pid,
      // hosts/moddable/led-main.ts (maxClients 8, maxMessageSize 64); hosts/moddable/echo/main.ts's stream echo
      limits: app === 'led' ? { maxClients: 8, maxMessage: 64, stream: false } : { maxClients: 8, maxMessage: 64 * 1024 * 1024, stream: true },
      out: outputState(),
      exitStatus: null,
      get alive() {
        return sim.running;
      },
      stop: () => sim.stop(),
    };
    for (const line of early) noteLine(target, line);
    sim.exited.then((how) => (target.exitStatus = `mcsim exited (${how})`));
    let timer;
    const how = await Promise.race([
      started.then(() => null),
      sim.exited.then((h) => `mcsim exited (${h})`),
      new Promise((resolve) => (timer = setTimeout(() => resolve('no start line within 60 s'), 60_000))),
    ]);
    clearTimeout(timer);
    if (how) throw new Error(`${target.name}: ${how}`);
    targets.push(target);
  }
  return { targets, display, ports: block };
}

/** Starts the targets of one host ('sim' or 'moddable'). */
export async function startTargets(host, apps, tag, log) {
  if (host === 'sim') return { targets: await startSimTargets(apps) };
  return startModdableTargets(apps, tag, log);
}

// ---- RSS and open files -------------------------------------------------------------------

/** { rss (bytes), fds } of a process from /proc, or null when it is gone. */
export function probe(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rss, fds };
  } catch {
    return null;
  }
}

/**
 * After the clients are gone: waits at least `minMs`, then until the process holds at
 * most `fds` + slack open files (sockets the server is still closing), at most
 * `maxMs`; returns the last probe (null: the process is gone).
 */
export async function settle(pid, { fds, slack, minMs, maxMs }) {
  const start = now();
  await sleep(minMs);
  let p = probe(pid);
  while (p && p.fds > fds + slack && now() - start < maxMs) {
    await sleep(100);
    p = probe(pid);
  }
  return p;
}

/**
 * Watches a server's RSS while it runs: sampled every 250 ms from start() to stop().
 * `warm` is the highest RSS of the first half of the run: by then the process has grown
 * to what the load needs (V8 enlarges its heap for the first seconds of load and keeps
 * it), so growth past it by the end is what the load leaves behind.
 */
export function startMonitor(target) {
  const before = probe(target.pid);
  const samples = [];
  const t0 = now();
  const take = () => {
    const p = probe(target.pid);
    if (p) samples.push({ at: now() - t0, rss: p.rss });
  };
  take();
  const timer = setInterval(take, 250);
  return {
    before,
    samples,
    /** Stops sampling at the end of the load; returns { before, warm, peak }. */
    stop() {
      clearInterval(timer);
      take();
      const half = (now() - t0) / 2;
      const first = samples.filter((s) => s.at <= half);
      const warm = Math.max(before.rss, ...first.map((s) => s.rss));
      const peak = Math.max(before.rss, ...samples.map((s) => s.rss));
      return { before, warm, peak };
    },
  };
}

/**
 * The RSS bound: how far the end of the run may exceed the first half's peak. The sim
 * host is Node: V8 goes on enlarging its heap for the first 5-10 s of load (a 7 s fuzz
 * run of the LED app grew 23 MiB after its first half) and keeps what it took, so 48 MiB
 * (or half the peak, if more); a leak of the deliberately broken kind (every byte kept:
 * ~100 MiB per minute of soak) is far beyond it, a small per-connection leak shows in
 * the fds first. mcsim: the XS heap is fixed per app, so 8 MiB (or a fifth).
 */
export function rssBound(host, warm) {
  return host === 'sim' ? Math.max(48 * 1024 * 1024, warm * 0.5) : Math.max(8 * 1024 * 1024, warm * 0.2);
}

/**
 * The leak verdicts for one target: open fds after the settle > before + fdSlack; RSS
 * after > the first half's peak (warm) + rssBound. A list of failure sentences.
 */
export function leakFailures(target, { before, warm }, after, { fdSlack, rssBound }) {
  if (!after) return [`${target.name}: the process is gone (${target.exitStatus ?? 'no exit status'})`];
  const failures = [];
  if (after.fds > before.fds + fdSlack) failures.push(`${target.name}: fd leak: ${before.fds} open files before, ${after.fds} after the clients left (slack ${fdSlack})`);
  if (after.rss > warm + rssBound) failures.push(`${target.name}: RSS leak: ${mib(after.rss)} at the end, ${mib(after.rss - warm)} over the first half's peak of ${mib(warm)} (bound ${mib(rssBound)})`);
  return failures;
}

// ---- the echo app's speed -----------------------------------------------------------------------

/**
 * Bytes per second through a stream echo with one binary message of `size` bytes (sent
 * as frames of 16 KiB, timed until the last byte is back): the one-way rate of the
 * host's sockets (the Moddable simulator polls its sockets: ~75 KB/s each way on lin).
 */
export async function echoRate(target, size) {
  let got = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const client = await connectWs(target, {
    onData: (_type, payload) => {
      got += payload.length;
      if (got >= size) resolveDone();
    },
  });
  const t0 = now();
  const message = Buffer.alloc(size, 0x5a);
  for (let at = 0; at < size; at += 16384) {
    const end = Math.min(size, at + 16384);
    client.sendFrame({ opcode: at === 0 ? OP.binary : OP.cont, fin: end === size, payload: message.subarray(at, end) });
  }
  let timer;
  const ok = await Promise.race([done.then(() => true), new Promise((resolve) => (timer = setTimeout(() => resolve(false), 120_000)))]);
  clearTimeout(timer);
  const seconds = (now() - t0) / 1000;
  await client.sendClose(1000);
  await client.closedWithin(5000);
  if (!ok) throw new Error(`${target.name}: the echo of ${size} bytes did not come back within 120 s (${got} did)`);
  return size / seconds;
}

// ---- the report ----------------------------------------------------------------------------

export const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
export const kib = (n) => (n >= 1048576 ? mib(n) : `${(n / 1024).toFixed(1)} KiB`);

/** A text table: headers and rows (cells as strings or numbers), numbers right-aligned. */
export function table(headers, rows, indent = '    ') {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r) => indent + r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** The meaning of a close code, for the tables. */
export function codeName(code) {
  return (
    {
      1000: 'normal',
      1001: 'going away',
      1002: 'protocol error',
      1003: 'unsupported data',
      1005: 'empty close',
      1006: 'no close frame',
      1007: 'invalid payload',
      1008: 'policy',
      1009: 'too big',
      1011: 'server error',
    }[code] ?? (code >= 3000 && code <= 4999 ? 'application' : '')
  );
}

/** The server's RSS and fds before and after, as a table row. */
export function resourceRow(target, rss, after, bounds) {
  return [target.name, target.pid, mib(rss.before.rss), mib(rss.warm), mib(rss.peak), after ? mib(after.rss) : 'gone', `${mib(rss.warm + bounds.rssBound)}`, rss.before.fds, after ? after.fds : 'gone', `${rss.before.fds + bounds.fdSlack}`];
}
export const RESOURCE_HEADERS = ['server', 'pid', 'RSS before', 'RSS warm', 'RSS peak', 'RSS after', 'RSS max', 'fds before', 'fds after', 'fds max'];

export { moddable };

