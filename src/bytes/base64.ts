// Base64 (RFC 4648 section 4): standard alphabet, padded. The decoder is strict:
// it accepts only canonical encodings (what every WebSocket client sends).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CODES: number[] = [];
for (let i = 0; i < 64; i++) CODES.push(ALPHABET.charCodeAt(i));
Object.freeze(CODES); // frozen: no RAM pointer for it once preloaded into flash
const PAD = 0x3d; // '='

// char code -> 6-bit value, -1 when not in the alphabet.
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUES[CODES[i]] = i;

// Char codes per String.fromCharCode.apply call (a multiple of 4). XS pushes every
// argument onto its JS stack, only 384-512 slots on a device: keep it small.
const CHUNK = 64;

/** Base64 of data[start, end), with '=' padding. */
export function base64Encode(data: Uint8Array, start = 0, end = data.length): string {
  let out = '';
  const units: number[] = [];
  let i = start;
  for (; i + 2 < end; i += 3) {
    const n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    units.push(CODES[n >> 18], CODES[(n >> 12) & 63], CODES[(n >> 6) & 63], CODES[n & 63]);
    if (units.length >= CHUNK) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  const left = end - i;
  if (left === 1) {
    const n = data[i] << 16;
    units.push(CODES[n >> 18], CODES[(n >> 12) & 63], PAD, PAD);
  } else if (left === 2) {
    const n = (data[i] << 16) | (data[i + 1] << 8);
    units.push(CODES[n >> 18], CODES[(n >> 12) & 63], CODES[(n >> 6) & 63], PAD);
  }
  if (units.length) out += String.fromCharCode.apply(null, units);
  return out;
}

function value(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? VALUES[c] : -1;
}

/**
 * Decode padded base64. Returns null when the length is not a multiple of 4, a
 * character is outside the alphabet (no whitespace, no URL-safe alphabet), '='
 * appears other than as 1 or 2 final characters, or the unused bits before the
 * padding are not zero (a non-canonical encoding).
 */
export function base64Decode(text: string): Uint8Array | null {
  const n = text.length;
  if (n % 4 !== 0) return null;
  let pad = 0;
  if (n > 0 && text.charCodeAt(n - 1) === PAD) pad = text.charCodeAt(n - 2) === PAD ? 2 : 1;
  const out = new Uint8Array((n / 4) * 3 - pad);
  let o = 0;
  const full = pad ? n - 4 : n;
  for (let i = 0; i < full; i += 4) {
    const a = value(text, i), b = value(text, i + 1), c = value(text, i + 2), d = value(text, i + 3);
    if ((a | b | c | d) < 0) return null;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pad) {
    const a = value(text, full), b = value(text, full + 1);
    if ((a | b) < 0) return null;
    if (pad === 2) {
      if (b & 15) return null;
      out[o] = (a << 2) | (b >> 4);
    } else {
      const c = value(text, full + 2);
      if (c < 0 || c & 3) return null;
      const v = (a << 10) | (b << 4) | (c >> 2);
      out[o] = v >> 8;
      out[o + 1] = v & 0xff;
    }
  }
  return out;
}
