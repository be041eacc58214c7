// Benchmark inputs, shared by the V8 run (against ws's Receiver) and the XS run.
// Portable: ES2022 only, so the same bytes are parsed under both engines.

export interface BenchInput {
  readonly name: string;
  /** Role of the parser: 'server' parses masked client frames. */
  readonly role: 'server' | 'client';
  /** The whole wire stream, cut into socket-sized reads. */
  readonly reads: Uint8Array[];
  readonly bytes: number;
  readonly messages: number;
  /** Largest message, to size the parser. */
  readonly maxMessage: number;
}

interface Shape {
  name: string;
  size: number;
  text: boolean;
  masked: boolean;
  fragment: number; // payload per frame; size means unfragmented
}

const SHAPES: Shape[] = [
  { name: '16 B binary, masked', size: 16, text: false, masked: true, fragment: 16 },
  { name: '16 B text, masked', size: 16, text: true, masked: true, fragment: 16 },
  { name: '16 B binary, unmasked', size: 16, text: false, masked: false, fragment: 16 },
  { name: '1 KiB binary, masked', size: 1024, text: false, masked: true, fragment: 1024 },
  // The sizes of npm run bench:moddable-cpu: what a client (unmasked) and a server (masked) receive.
  { name: '1 KiB binary, unmasked', size: 1024, text: false, masked: false, fragment: 1024 },
  { name: '16 KiB binary, unmasked', size: 16384, text: false, masked: false, fragment: 16384 },
  { name: '16 KiB binary, masked', size: 16384, text: false, masked: true, fragment: 16384 },
  { name: '1 KiB text, masked', size: 1024, text: true, masked: true, fragment: 1024 },
  { name: '64 KiB binary, masked', size: 65536, text: false, masked: true, fragment: 65536 },
  { name: '64 KiB text, unmasked', size: 65536, text: true, masked: false, fragment: 65536 },
  { name: '64 KiB binary in 1 KiB fragments, masked', size: 65536, text: false, masked: true, fragment: 1024 },
];

/** Deterministic xorshift32 so every run parses the same bytes. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const TEXT = 'The quick brown fox jumps over the lazy dog, \u00e9t\u00e9 \u20ac 0123456789. ';

function payloadOf(shape: Shape, rnd: () => number): Uint8Array {
  const out = new Uint8Array(shape.size);
  if (shape.text) {
    // Mostly ASCII with some 2- and 3-byte characters, never split at the end.
    let i = 0;
    let t = 0;
    while (i < out.length) {
      const c = TEXT.charCodeAt(t++ % TEXT.length);
      if (c < 0x80) out[i++] = c;
      else if (c < 0x800 && i + 2 <= out.length) {
        out[i++] = 0xc0 | (c >> 6);
        out[i++] = 0x80 | (c & 0x3f);
      } else if (i + 3 <= out.length) {
        out[i++] = 0xe0 | (c >> 12);
        out[i++] = 0x80 | ((c >> 6) & 0x3f);
        out[i++] = 0x80 | (c & 0x3f);
      } else out[i++] = 0x20;
    }
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (rnd() * 256) | 0;
  }
  return out;
}

function frame(out: Uint8Array, at: number, opcode: number, fin: boolean, payload: Uint8Array, start: number, end: number, key: number[] | null): number {
  const n = end - start;
  out[at++] = (fin ? 0x80 : 0) | opcode;
  const m = key ? 0x80 : 0;
  if (n < 126) out[at++] = m | n;
  else if (n < 65536) {
    out[at++] = m | 126;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = m | 127;
    for (let s = 7; s >= 0; s--) out[at++] = s >= 4 ? 0 : (n >>> (s * 8)) & 0xff;
  }
  if (key) for (let k = 0; k < 4; k++) out[at++] = key[k];
  for (let i = 0; i < n; i++) out[at + i] = key ? payload[start + i] ^ key[i & 3] : payload[start + i];
  return at + n;
}

/**
 * One input per shape: about `totalBytes` of frames (at least 4 messages), cut
 * into reads of `readSize` bytes as a socket would deliver them.
 */
export function makeInputs(totalBytes: number, readSize: number): BenchInput[] {
  const rnd = random(0x5eed);
  const inputs: BenchInput[] = [];
  for (const shape of SHAPES) {
    const messages = Math.max(4, Math.floor(totalBytes / shape.size));
    const payload = payloadOf(shape, rnd);
    const frames = Math.ceil(shape.size / shape.fragment);
    const perMessage = shape.size + frames * 14;
    const wire = new Uint8Array(messages * perMessage);
    let at = 0;
    for (let m = 0; m < messages; m++) {
      for (let f = 0; f < frames; f++) {
        const start = f * shape.fragment;
        const end = Math.min(shape.size, start + shape.fragment);
        const key = shape.masked ? [(rnd() * 256) | 0, (rnd() * 256) | 0, (rnd() * 256) | 0, (rnd() * 256) | 0] : null;
        at = frame(wire, at, f === 0 ? (shape.text ? 1 : 2) : 0, f === frames - 1, payload, start, end, key);
      }
    }
    const reads: Uint8Array[] = [];
    for (let r = 0; r < at; r += readSize) reads.push(wire.slice(r, Math.min(at, r + readSize)));
    inputs.push({ name: shape.name, role: shape.masked ? 'server' : 'client', reads, bytes: at, messages, maxMessage: shape.size });
  }
  return inputs;
}
