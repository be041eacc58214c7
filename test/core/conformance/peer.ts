// The test-side peer: an RFC 6455 frame BUILDER and DECODER, UTF-8 helpers and a
// seeded PRNG, written independently of src/websocket/encoder.ts, src/websocket/parser.ts and src/bytes/utf8.ts
// so the stack under test is never checked against itself. Portable ES2022 only
// (runs under Node and inside XS): no TextEncoder, Buffer, console or node imports.

// --- Opcodes (spelled out here on purpose, not imported from src/websocket/protocol.ts) -------

export const OP = {
  cont: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

const OP_NAMES: Record<number, string> = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

export function opName(opcode: number): string {
  return OP_NAMES[opcode] ?? `op${opcode.toString(16)}`;
}

// --- Bytes -------------------------------------------------------------------------

const HEX: string[] = [];
for (let b = 0; b < 256; b++) HEX.push((b < 16 ? '0' : '') + b.toString(16));

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const parts: string[] = [];
  for (let i = start; i < end; i++) parts.push(HEX[bytes[i]]);
  return parts.join('');
}

/** Byte-wise equality. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (digits.length % 2) throw new Error(`odd hex string ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) {
    const v = parseInt(digits.substr(i * 2, 2), 16);
    if (v !== v) throw new Error(`bad hex string ${text}`);
    out[i] = v;
  }
  return out;
}

export function join(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function filled(length: number, byte: number): Uint8Array {
  const out = new Uint8Array(length);
  out.fill(byte);
  return out;
}

/** `text` repeated (String.prototype.repeat: no quadratic concatenation on XS). */
export function repeat(text: string, count: number): string {
  return text.repeat(count);
}

/** FNV-1a, 32 bits, as 8 hex digits: a short fingerprint for large payloads. */
export function fnv(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return ('0000000' + h.toString(16)).slice(-8);
}

// --- UTF-8 (independent, table-by-lead-byte rather than a DFA) ----------------------

/**
 * UTF-8 bytes of a JS string. Surrogate pairs are combined; lone surrogates are an error.
 * Iterates by code point (for-of): indexing a long string char by char is quadratic on XS.
 */
export function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0xd800 && c <= 0xdfff) throw new Error('lone surrogate in test string');
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return new Uint8Array(out);
}

export interface Utf8Verdict {
  /** Index of the first byte that cannot belong to valid UTF-8, or -1. */
  error: number;
  /** No invalid byte, but the data ends inside a sequence. */
  incomplete: boolean;
}

/**
 * RFC 3629 section 4 syntax, checked lead byte by lead byte. The error index is the
 * first byte at which no valid continuation exists (what a fail-fast validator reports).
 */
export function checkUtf8(bytes: Uint8Array, start = 0, end = bytes.length): Utf8Verdict {
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2;
    else if (b === 0xed) {
      need = 2;
      hi = 0x9f;
    } else if (b === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else return { error: i, incomplete: false };
    for (let k = 1; k <= need; k++) {
      if (i + k >= end) return { error: -1, incomplete: true };
      const c = bytes[i + k];
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return { error: i + k, incomplete: false };
    }
    i += need + 1;
  }
  return { error: -1, incomplete: false };
}

export function isUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  const v = checkUtf8(bytes, start, end);
  return v.error < 0 && !v.incomplete;
}

/** Decode valid UTF-8 (check first with isUtf8); returns null when invalid. */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string | null {
  if (!isUtf8(bytes, start, end)) return null;
  let s = '';
  let units: number[] = [];
  for (let i = start; i < end; ) {
    const b = bytes[i];
    let c: number;
    if (b < 0x80) {
      c = b;
      i += 1;
    } else if (b < 0xe0) {
      c = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
      i += 2;
    } else if (b < 0xf0) {
      c = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      i += 3;
    } else {
      c = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      i += 4;
    }
    if (c >= 0x10000) {
      c -= 0x10000;
      units.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
    } else units.push(c);
    if (units.length >= 1024) {
      s += String.fromCharCode.apply(null, units);
      units = [];
    }
  }
  return s + String.fromCharCode.apply(null, units);
}

// --- Deterministic randomness --------------------------------------------------------

/** xorshift32: deterministic, seedable, good enough for keys and split points. */
export class XorShift {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next() & 0xff;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    this.fill(out);
    return out;
  }
}

/** A seed from a string (for per-case deterministic choices). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h || 1;
}

// --- Frame builder -------------------------------------------------------------------

export interface FrameSpec {
  /** Default true. */
  fin?: boolean;
  /** The three reserved bits as a number 0-7: 4 = RSV1, 2 = RSV2, 1 = RSV3 (Autobahn numbering). */
  rsv?: number;
  opcode: number;
  /** Bytes, or a string sent as UTF-8. Default empty. */
  payload?: Uint8Array | string;
  /** A 4-byte masking key, or false (default) for an unmasked frame. */
  mask?: Uint8Array | false;
  /** Length field encoding; default minimal. Non-minimal encodings are allowed. */
  lengthEncoding?: '7' | '16' | '64';
  /**
   * Write this length in the header instead of the payload's (the payload is still
   * appended). A [high, low] pair gives the two 32-bit halves of a 64-bit length exactly.
   */
  declaredLength?: number | readonly [number, number];
}

export function payloadBytes(payload: Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'string' ? utf8(payload) : payload;
}

/** One frame's bytes, exactly as specified. */
export function frame(spec: FrameSpec): Uint8Array {
  const payload = payloadBytes(spec.payload);
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  if (rsv < 0 || rsv > 7) throw new Error('rsv is 0-7');
  if (spec.opcode < 0 || spec.opcode > 15) throw new Error('opcode is 0-15');
  const declared = spec.declaredLength ?? payload.length;
  const pair = typeof declared === 'number' ? null : declared;
  const length = typeof declared === 'number' ? declared : declared[0] * 4294967296 + declared[1];
  const encoding = pair ? '64' : spec.lengthEncoding ?? (length < 126 ? '7' : length < 0x10000 ? '16' : '64');
  const key = spec.mask instanceof Uint8Array ? spec.mask : null;
  if (key && key.length !== 4) throw new Error('a masking key has 4 bytes');
  const header: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | spec.opcode];
  const maskBit = key ? 0x80 : 0;
  if (encoding === '7') {
    if (length > 125) throw new Error('length does not fit 7 bits');
    header.push(maskBit | length);
  } else if (encoding === '16') {
    if (length > 0xffff) throw new Error('length does not fit 16 bits');
    header.push(maskBit | 126, (length >> 8) & 0xff, length & 0xff);
  } else {
    const high = pair ? pair[0] : Math.floor(length / 4294967296);
    const low = pair ? pair[1] : length - high * 4294967296;
    header.push(maskBit | 127);
    for (let shift = 24; shift >= 0; shift -= 8) header.push(Math.floor(high / 2 ** shift) & 0xff);
    for (let shift = 24; shift >= 0; shift -= 8) header.push(Math.floor(low / 2 ** shift) & 0xff);
  }
  if (key) header.push(key[0], key[1], key[2], key[3]);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  for (let i = 0; i < payload.length; i++) out[header.length + i] = key ? payload[i] ^ key[i % 4] : payload[i];
  return out;
}

/** The payload of a close frame: a code (big-endian) and a reason (string as UTF-8, or raw bytes). */
export function closePayload(code?: number, reason: string | Uint8Array = ''): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const r = payloadBytes(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = (code >> 8) & 0xff;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

// --- Frame decoder -------------------------------------------------------------------

export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** The masking key, or null. */
  key: Uint8Array | null;
  /** The unmasked payload. */
  payload: Uint8Array;
  /** Bytes used by the length field: 1 (7-bit), 3 (16-bit) or 9 (64-bit). */
  lengthBytes: number;
  /** Whether the length used the shortest encoding. */
  minimalLength: boolean;
  /** Offsets in the decoded buffer. */
  start: number;
  end: number;
}

export interface Decoded {
  frames: DecodedFrame[];
  /** Bytes at the end that do not form a complete frame. */
  rest: number;
}

/** Decode consecutive frames; an incomplete trailing frame is reported in `rest`. */
export function decodeFrames(bytes: Uint8Array): Decoded {
  const frames: DecodedFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    if (bytes.length - at < 2) break;
    const b0 = bytes[at];
    const b1 = bytes[at + 1];
    let p = at + 2;
    let length = b1 & 0x7f;
    let lengthBytes = 1;
    if (length === 126) {
      if (bytes.length - p < 2) break;
      length = bytes[p] * 256 + bytes[p + 1];
      p += 2;
      lengthBytes = 3;
    } else if (length === 127) {
      if (bytes.length - p < 8) break;
      length = 0;
      for (let k = 0; k < 8; k++) length = length * 256 + bytes[p + k];
      p += 8;
      lengthBytes = 9;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Uint8Array | null = null;
    if (masked) {
      if (bytes.length - p < 4) break;
      key = bytes.slice(p, p + 4);
      p += 4;
    }
    if (bytes.length - p < length) break;
    const payload = bytes.slice(p, p + length);
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    const minimalLength = lengthBytes === 1 || (lengthBytes === 3 ? length >= 126 : length >= 0x10000);
    at = p + length;
    frames.push({
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 7,
      opcode: b0 & 0x0f,
      masked,
      key,
      payload,
      lengthBytes,
      minimalLength,
      start,
      end: at,
    });
  }
  return { frames, rest: bytes.length - at };
}

// --- Rendering (shared by the recorder and the expectations) -------------------------

/** Payloads longer than this are rendered as a length and a fingerprint. */
export const RENDER_LIMIT = 64;

/** A text payload: "..." when valid UTF-8, else hex:...; long ones as [N bytes #fnv]. */
export function renderText(bytes: Uint8Array): string {
  if (bytes.length > RENDER_LIMIT) return `[${bytes.length} bytes #${fnv(bytes)}]`;
  const s = decodeUtf8(bytes);
  return s === null ? `hex:${toHex(bytes)}` : JSON.stringify(s);
}

export function renderBytes(bytes: Uint8Array): string {
  if (bytes.length > RENDER_LIMIT) return `[${bytes.length} bytes #${fnv(bytes)}]`;
  return toHex(bytes);
}

/** One outbound frame: `text "..."`, `binary 0102`, `ping ..`, `close 1000 "r"`, FIN=0 as `text-`. */
export function renderFrame(f: { fin: boolean; opcode: number; payload: Uint8Array }): string {
  const name = opName(f.opcode) + (f.fin ? '' : '-');
  if (f.opcode === OP.close) {
    const p = f.payload;
    if (p.length === 0) return name;
    if (p.length === 1) return `${name} hex:${toHex(p)}`;
    const code = p[0] * 256 + p[1];
    return p.length === 2 ? `${name} ${code}` : `${name} ${code} ${renderText(p.subarray(2))}`;
  }
  if (f.opcode === OP.text || f.opcode === OP.cont) return `${name} ${renderText(f.payload)}`;
  return `${name} ${renderBytes(f.payload)}`;
}
