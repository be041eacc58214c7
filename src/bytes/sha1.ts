// SHA-1 (FIPS 180-4) in plain TypeScript for the WebSocket accept key. Hosts with a
// native digest can install it via setSha1() in ./handshake; this is the portable default.

// Scratch state shared by every call: the message schedule, the chaining state and a
// two-block buffer for the padded tail. sha1() never calls out, so sharing is safe.
// Allocated on first use, not at module load: arrays created while Moddable preloads
// a module end up in flash, where writing them throws "read-only buffer".
// (Module-level bindings start as null for the same reason: see src/platform.ts.)
let W: Int32Array | null = null;
let H: Int32Array | null = null;
let TAIL: Uint8Array | null = null;

function block(src: Uint8Array, o: number, w: Int32Array, h: Int32Array): void {
  for (let i = 0; i < 16; i++, o += 4) {
    w[i] = (src[o] << 24) | (src[o + 1] << 16) | (src[o + 2] << 8) | src[o + 3];
  }
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  let t = 0;
  // Four rounds kept as separate loops: no per-step branch on the round number.
  for (let i = 0; i < 20; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (let i = 20; i < 40; i++) {
    t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (let i = 40; i < 60; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + w[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (let i = 60; i < 80; i++) {
    t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; // Int32Array wraps mod 2^32
}

/** SHA-1 digest (20 bytes) of data[start, end). */
export function sha1(data: Uint8Array, start = 0, end = data.length): Uint8Array {
  if (W === null || H === null || TAIL === null) {
    W = new Int32Array(80);
    H = new Int32Array(5);
    TAIL = new Uint8Array(128);
  }
  const w = W, h = H, tail = TAIL;
  h[0] = 0x67452301; h[1] = 0xefcdab89; h[2] = 0x98badcfe; h[3] = 0x10325476; h[4] = 0xc3d2e1f0;
  const length = end - start;
  // Whole blocks straight from the input; only the tail is copied for padding.
  const whole = start + length - (length % 64);
  for (let o = start; o < whole; o += 64) block(data, o, w, h);
  const rest = end - whole;
  tail.fill(0);
  tail.set(data.subarray(whole, end));
  tail[rest] = 0x80;
  const size = rest < 56 ? 64 : 128;
  // Bit length, big-endian in the last 8 bytes (exact up to 2^53 bits).
  const high = Math.floor(length / 0x20000000);
  const low = (length * 8) >>> 0;
  tail[size - 8] = high >>> 24; tail[size - 7] = high >>> 16; tail[size - 6] = high >>> 8; tail[size - 5] = high;
  tail[size - 4] = low >>> 24; tail[size - 3] = low >>> 16; tail[size - 2] = low >>> 8; tail[size - 1] = low;
  block(tail, 0, w, h);
  if (size === 128) block(tail, 64, w, h);
  const out = new Uint8Array(20);
  for (let i = 0; i < 5; i++) {
    const x = h[i];
    out[i * 4] = x >>> 24; out[i * 4 + 1] = x >>> 16; out[i * 4 + 2] = x >>> 8; out[i * 4 + 3] = x;
  }
  return out;
}
