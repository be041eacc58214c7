// UTF-8 without host globals (XS on a device may lack TextEncoder/TextDecoder).
// Validation is a byte-at-a-time DFA after Bjoern Hoehrmann's design: it rejects
// at the first byte that cannot start or continue a valid sequence (overlongs,
// surrogates, code points above U+10FFFF), so a bad message fails fast.

const ACCEPT = 0;
const REJECT = 12;

// Byte -> character class.
const CLASS = new Uint8Array(256);
// (state + class) -> next state; states are multiples of 12.
const TRANSITION = new Uint8Array([
  0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, // 0: accept
  12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, // 12: reject
  12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, // 24: one continuation byte left
  12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12, // 36: two left
  12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, // 48: after E0, needs A0..BF
  12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12, // 60: after ED, needs 80..9F
  12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, // 72: after F0, needs 90..BF
  12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, // 84: after F1..F3, three left
  12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, // 96: after F4, needs 80..8F
]);
(function fillClasses() {
  const ranges: ReadonlyArray<readonly [number, number, number]> = [
    [0x80, 0x8f, 1], [0x90, 0x9f, 9], [0xa0, 0xbf, 7], [0xc0, 0xc1, 8], [0xc2, 0xdf, 2],
    [0xe0, 0xe0, 10], [0xe1, 0xec, 3], [0xed, 0xed, 4], [0xee, 0xef, 3], [0xf0, 0xf0, 11],
    [0xf1, 0xf3, 6], [0xf4, 0xf4, 5], [0xf5, 0xff, 8],
  ];
  for (const [from, to, cls] of ranges) for (let b = from; b <= to; b++) CLASS[b] = cls;
})();

/**
 * A host may install a native whole-buffer check (Node: buffer.isUtf8). It is only
 * asked about runs that start and end on sequence boundaries; the DFA still finds
 * the exact failing byte, so results are identical with or without it.
 */
let accelerator: ((data: Uint8Array, start: number, end: number) => boolean) | null = null;
const ACCELERATE_MIN = 64;

export function setUtf8Accelerator(check: ((data: Uint8Array, start: number, end: number) => boolean) | null): void {
  accelerator = check;
}

let failedAt = -1;

/** Run the DFA from `state` over data[i, end); on rejection sets failedAt. */
function scan(data: Uint8Array, i: number, end: number, state: number, words: Uint32Array | undefined): number {
  while (i < end) {
    if (state === ACCEPT) {
      if (words && (i & 3) === 0) {
        // Skip ASCII a word (and four words) at a time.
        let w = i >> 2;
        const last = end >> 2; // words lying wholly before end
        while (w + 4 <= last && ((words[w] | words[w + 1] | words[w + 2] | words[w + 3]) & 0x80808080) === 0) w += 4;
        while (w < last && (words[w] & 0x80808080) === 0) w++;
        i = w << 2;
        if (i >= end) break;
      }
      if (data[i] < 0x80) {
        i++;
        continue;
      }
    }
    state = TRANSITION[state + CLASS[data[i]]];
    if (state === REJECT) {
      failedAt = i;
      return REJECT;
    }
    i++;
  }
  return state;
}

/** Incremental validator: feed bytes across any number of calls (frames, reads). */
export class Utf8Validator {
  private state = ACCEPT;

  reset(): void {
    this.state = ACCEPT;
  }

  /**
   * Validate data[start, end). Returns the index of the first invalid byte, or -1
   * when every byte so far can still be part of valid UTF-8. Once invalid, stays invalid.
   * `words`, if given, views data's buffer from byte 0 as 32-bit words (data.byteOffset
   * must be 0): runs of ASCII are then skipped 16 bytes at a time.
   */
  update(data: Uint8Array, start: number, end: number, words?: Uint32Array): number {
    let state = this.state;
    if (state === REJECT) return start;
    if (accelerator && state === ACCEPT && end - start >= ACCELERATE_MIN) {
      // Hand the native check everything up to the start of the last sequence.
      let cut = end - 1;
      while (cut > end - 4 && cut > start && (data[cut] & 0xc0) === 0x80) cut--;
      if (data[cut] < 0xc0) cut = end;
      if (accelerator(data, start, cut)) start = cut;
    }
    state = scan(data, start, end, state, words);
    this.state = state;
    return state === REJECT ? failedAt : -1;
  }

  /** True when no sequence is left open (a message may end here). */
  get complete(): boolean {
    return this.state === ACCEPT;
  }
}

/** True when data[start, end) is complete, valid UTF-8. */
export function isValidUtf8(data: Uint8Array, start = 0, end = data.length): boolean {
  return scan(data, start, end, ACCEPT, undefined) === ACCEPT;
}

/**
 * Number of UTF-8 bytes for a string; lone surrogates count as U+FFFD (3 bytes).
 * Iterates by code point: XS stores strings as UTF-8, where charCodeAt(i) walks from
 * the start and a charCodeAt loop is quadratic.
 */
export function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/**
 * Streams a string out as UTF-8 into caller-provided buffers of any size: a code
 * point may be split across two fill() calls (frames may split sequences). Walks the
 * string with its iterator, linear on every engine.
 */
export class Utf8Writer {
  private iterator: Iterator<string> | null = null;
  private readonly carry = new Uint8Array(4);
  private carryAt = 0;
  private carryEnd = 0;

  reset(text: string): void {
    this.iterator = text[Symbol.iterator]();
    this.carryAt = 0;
    this.carryEnd = 0;
    this.load();
  }

  get done(): boolean {
    return this.carryAt === this.carryEnd;
  }

  /** Write up to end - start bytes into out; returns the new end offset. */
  fill(out: Uint8Array, start: number, end: number): number {
    let o = start;
    const carry = this.carry;
    while (o < end && this.carryAt < this.carryEnd) {
      out[o++] = carry[this.carryAt++];
      if (this.carryAt === this.carryEnd) this.load();
    }
    return o;
  }

  /** Encode the next code point into carry (empty when the string is exhausted). */
  private load(): void {
    this.carryAt = 0;
    this.carryEnd = 0;
    const next = this.iterator ? this.iterator.next() : null;
    if (!next || next.done) {
      this.iterator = null;
      return;
    }
    let c = next.value.codePointAt(0) as number;
    const carry = this.carry;
    if (c < 0x80) {
      carry[0] = c;
      this.carryEnd = 1;
    } else if (c < 0x800) {
      carry[0] = 0xc0 | (c >> 6);
      carry[1] = 0x80 | (c & 0x3f);
      this.carryEnd = 2;
    } else if (c < 0x10000) {
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
      carry[0] = 0xe0 | (c >> 12);
      carry[1] = 0x80 | ((c >> 6) & 0x3f);
      carry[2] = 0x80 | (c & 0x3f);
      this.carryEnd = 3;
    } else {
      carry[0] = 0xf0 | (c >> 18);
      carry[1] = 0x80 | ((c >> 12) & 0x3f);
      carry[2] = 0x80 | ((c >> 6) & 0x3f);
      carry[3] = 0x80 | (c & 0x3f);
      this.carryEnd = 4;
    }
  }
}

/**
 * A native UTF-8 codec, when the engine has one: a host installs it (setTextCodec), or
 * the global TextEncoder/TextDecoder pair is used when present. Without one, the
 * TypeScript code paths below do the work (linear, but slower on XS).
 */
export interface TextCodec {
  encode(text: string): Uint8Array;
  decode(data: Uint8Array, start: number, end: number): string;
}

interface GlobalText {
  TextEncoder?: new () => { encode(text: string): Uint8Array };
  TextDecoder?: new () => { decode(data: Uint8Array): string };
}

function detectCodec(): TextCodec | null {
  const g = globalThis as GlobalText;
  if (typeof g.TextEncoder !== 'function' || typeof g.TextDecoder !== 'function') return null;
  const encoder = new g.TextEncoder();
  const decoder = new g.TextDecoder();
  return checked({
    encode: (text) => encoder.encode(text),
    decode: (data, start, end) => decoder.decode(data.subarray(start, end)),
  });
}

/**
 * XS's TextEncoder writes a lone surrogate as its 3-byte CESU form (ED A0..BF xx),
 * which is not UTF-8 and would make a peer fail us with 1007. Probe once; if the
 * codec does that, rewrite those triples to U+FFFD (EF BF BD, same length) in place.
 */
function checked(native: TextCodec): TextCodec {
  const probe = native.encode('\ud800');
  if (probe.length === 3 && probe[0] === 0xef && probe[1] === 0xbf && probe[2] === 0xbd) return native;
  return {
    encode: (text) => replaceSurrogates(native.encode(text)),
    decode: native.decode,
  };
}

function replaceSurrogates(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xed && bytes[i + 1] >= 0xa0) {
      bytes[i] = 0xef;
      bytes[i + 1] = 0xbf;
      bytes[i + 2] = 0xbd;
      i += 2;
    }
  }
  return bytes;
}

// undefined until first use (detected then): see the null-start rule in src/platform.ts.
let codec: TextCodec | null | undefined;

function currentCodec(): TextCodec | null {
  if (codec === undefined) codec = detectCodec();
  return codec;
}

/**
 * Install a native codec ('detect': the global TextEncoder/TextDecoder), or null to
 * force the TypeScript paths (tests, measurements).
 */
export function setTextCodec(next: TextCodec | null | 'detect'): void {
  codec = next === 'detect' ? detectCodec() : next && checked(next);
}

export function textCodec(): TextCodec | null {
  return currentCodec();
}

/** UTF-8 bytes of a string in a new array (lone surrogates become U+FFFD). */
export function encodeUtf8(text: string): Uint8Array {
  const codec = currentCodec();
  if (codec) return codec.encode(text);
  const out = new Uint8Array(utf8Length(text));
  const writer = new Utf8Writer();
  writer.reset(text);
  writer.fill(out, 0, out.length);
  return out;
}

// XS pushes each apply() argument onto its JS stack (384-512 slots on a device).
const DECODE_CHUNK = 64;

/**
 * Decode UTF-8 to a string. Invalid sequences become U+FFFD (callers validate first
 * where the protocol requires it).
 */
export function decodeUtf8(data: Uint8Array, start = 0, end = data.length): string {
  const codec = currentCodec();
  if (codec) return codec.decode(data, start, end);
  let result = '';
  const units: number[] = [];
  let i = start;
  while (i < end) {
    const b0 = data[i];
    let cp = 0xfffd;
    let size = 1;
    if (b0 < 0x80) cp = b0;
    else if (b0 >= 0xc2 && b0 <= 0xdf && i + 1 < end && (data[i + 1] & 0xc0) === 0x80) {
      cp = ((b0 & 0x1f) << 6) | (data[i + 1] & 0x3f);
      size = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef && i + 2 < end && (data[i + 1] & 0xc0) === 0x80 && (data[i + 2] & 0xc0) === 0x80) {
      const c = ((b0 & 0x0f) << 12) | ((data[i + 1] & 0x3f) << 6) | (data[i + 2] & 0x3f);
      if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) {
        cp = c;
        size = 3;
      }
    } else if (
      b0 >= 0xf0 && b0 <= 0xf4 && i + 3 < end &&
      (data[i + 1] & 0xc0) === 0x80 && (data[i + 2] & 0xc0) === 0x80 && (data[i + 3] & 0xc0) === 0x80
    ) {
      const c = ((b0 & 0x07) << 18) | ((data[i + 1] & 0x3f) << 12) | ((data[i + 2] & 0x3f) << 6) | (data[i + 3] & 0x3f);
      if (c >= 0x10000 && c <= 0x10ffff) {
        cp = c;
        size = 4;
      }
    }
    i += size;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
    if (units.length >= DECODE_CHUNK) {
      result += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  if (units.length) result += String.fromCharCode.apply(null, units);
  return result;
}
