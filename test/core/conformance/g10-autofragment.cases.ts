// Group 10 (after Autobahn 10.1, auto-fragmentation): our outbound side. Messages
// sent with maxFragmentSize are split into frames of at most that many payload bytes:
// first frame text/binary, then continuations, FIN only on the last; a client masks
// every frame with its own key, a server never masks. The frames are decoded by the
// independent test decoder and the payload must round-trip exactly.

import { defineCases } from './driver';
import type { Case, Role, RunResult } from './driver';
import { OP, join, renderFrame, sameBytes, toHex, utf8 } from './peer';

const cases: Case[] = [];

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

function asciiText(n: number): string {
  return 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(n / 26)).slice(0, n);
}

/** Expected frames: payload slices of `size`, opcode then continuations, FIN on the last. */
function expectedFrames(opcode: number, payload: Uint8Array, size: number): string[] {
  const frames: string[] = [];
  let at = 0;
  do {
    const next = size > 0 ? Math.min(payload.length, at + size) : payload.length;
    frames.push(renderFrame({ fin: next === payload.length, opcode: at === 0 ? opcode : OP.cont, payload: payload.slice(at, next) }));
    at = next;
  } while (at < payload.length);
  return frames;
}

/** Structural checks from the decoded frames themselves (not only their rendering). */
function checkFragments(opcode: number, payload: Uint8Array, size: number): (r: RunResult, role: Role) => void {
  return (r, role) => {
    const frames = r.frames;
    const count = size > 0 ? Math.max(1, Math.ceil(payload.length / size)) : 1;
    if (frames.length !== count) throw new Error(`expected ${count} frames, got ${frames.length}`);
    frames.forEach((f, i) => {
      const want = i === 0 ? opcode : OP.cont;
      if (f.opcode !== want) throw new Error(`frame ${i}: opcode ${f.opcode}, expected ${want}`);
      if (f.fin !== (i === count - 1)) throw new Error(`frame ${i}: FIN ${f.fin}`);
      if (size > 0 && f.payload.length > size) throw new Error(`frame ${i}: ${f.payload.length} bytes over the fragment size ${size}`);
      if (size > 0 && i < count - 1 && f.payload.length !== size) throw new Error(`frame ${i}: ${f.payload.length} bytes, expected a full fragment`);
      if (f.masked !== (role === 'client')) throw new Error(`frame ${i}: masked=${f.masked}`);
    });
    if (role === 'client') {
      const keys = frames.map((f) => toHex(f.key ?? new Uint8Array(0)));
      for (let i = 0; i < keys.length; i++) {
        if (keys.indexOf(keys[i]) !== i) throw new Error(`frame ${i}: masking key ${keys[i]} reused`);
      }
    }
    const all = join(frames.map((f) => f.payload));
    if (!sameBytes(all, payload)) throw new Error('payload does not round-trip');
  };
}

function sendCase(id: string, title: string, kind: 'text' | 'binary', data: Uint8Array | string, size: number, extra: Partial<Case> = {}): Case {
  const payload = typeof data === 'string' ? utf8(data) : data;
  const opcode = kind === 'text' ? OP.text : OP.binary;
  return {
    id,
    title,
    options: { maxFragmentSize: size, ...(extra.options ?? {}) },
    deliveries: ['whole'],
    steps: [
      {
        act: (c) => {
          if (kind === 'binary') return c.sendBinary(payload);
          return typeof data === 'string' ? c.sendText(data) : c.sendTextBytes(payload);
        },
      },
    ],
    events: [],
    out: expectedFrames(opcode, payload, size),
    check: (r, role) => {
      if (r.returns[0] !== true) throw new Error(`send returned ${String(r.returns[0])}`);
      checkFragments(opcode, payload, size)(r, role);
    },
    ...extra,
  };
}

// Lengths around the fragment size, for several fragment sizes (16: 7-bit lengths only;
// 130: fragments need 16-bit lengths while short ones do not; 1000: a bigger one).
let n = 0;
for (const size of [16, 130, 1000]) {
  const lengths: Array<[string, number]> = [
    ['empty', 0],
    ['fragment size - 1', size - 1],
    ['exactly the fragment size', size],
    ['fragment size + 1', size + 1],
    ['3.5 x the fragment size', Math.floor(size * 3.5)],
  ];
  for (const [what, length] of lengths) {
    n++;
    cases.push(sendCase(`10.1.${n}`, `text of ${what} (${length} bytes) with maxFragmentSize ${size}`, 'text', asciiText(length), size));
    n++;
    cases.push(sendCase(`10.1.${n}`, `binary of ${what} (${length} bytes) with maxFragmentSize ${size}`, 'binary', pattern(length), size));
  }
}

// Multi-byte characters split across fragments (each fragment alone is not valid UTF-8).
const MIXED = 'a\u00e9\u20ac\ud83d\ude00z\u00df\u4e2d\ud800\udf48';
const mixedLong = (count: number): string => MIXED.repeat(count);
cases.push(
  sendCase('10.2.1', 'text with multi-byte characters, maxFragmentSize 1 (every byte its own frame)', 'text', MIXED, 1),
  sendCase('10.2.2', 'text with multi-byte characters, maxFragmentSize 2', 'text', MIXED, 2),
  sendCase('10.2.3', 'text with multi-byte characters, maxFragmentSize 3', 'text', MIXED, 3),
  sendCase('10.2.4', 'text with multi-byte characters, maxFragmentSize 5', 'text', mixedLong(7), 5),
  sendCase('10.2.5', 'long text with multi-byte characters, maxFragmentSize 1000, small send buffer', 'text', mixedLong(700), 1000, {
    options: { maxFragmentSize: 1000, sendBufferSize: 128 },
  }),
  sendCase('10.2.6', 'text bytes with multi-byte characters (sendTextBytes), maxFragmentSize 4', 'text', utf8(mixedLong(3)), 4),
);

// No fragmentation (maxFragmentSize 0): one frame, 64-bit length, masked through a small scratch buffer.
cases.push(
  sendCase('10.3.1', 'binary of 70000 bytes unfragmented (64-bit length), send buffer 128', 'binary', pattern(70000), 0, {
    options: { maxFragmentSize: 0, sendBufferSize: 128 },
  }),
  sendCase('10.3.2', 'text bytes of 65536 (sendTextBytes) unfragmented (64-bit length), send buffer 128', 'text', utf8(asciiText(65536)), 0, {
    options: { maxFragmentSize: 0, sendBufferSize: 128 },
  }),
  sendCase('10.3.3', 'binary of 65535 bytes unfragmented (16-bit length)', 'binary', pattern(65535), 0),
  sendCase('10.3.4', 'binary of 65536 bytes in fragments of 1300 (Autobahn 10.1.1)', 'binary', pattern(65536), 1300),
  sendCase('10.3.5', 'text bytes of 65536 (sendTextBytes) in fragments of 1300 (Autobahn 10.1.1)', 'text', utf8(asciiText(65536)), 1300),
  // sendText walks the string; kept moderate: on XS, src/bytes/utf8.ts indexes strings with
  // charCodeAt(i), which is quadratic there (see the report in the conformance notes).
  sendCase('10.3.9', 'text string of 16384 characters (sendText) in fragments of 1300', 'text', asciiText(16384), 1300),
  sendCase('10.3.10', 'text string of 65538 bytes of 3-byte characters (sendText), unfragmented (64-bit length), send buffer 128', 'text', '\u20ac'.repeat(21846), 0, {
    options: { maxFragmentSize: 0, sendBufferSize: 128 },
  }),
  sendCase('10.3.6', 'binary with a non-zero byteOffset view', 'binary', pattern(300).subarray(37, 237), 64),
  sendCase('10.3.7', 'binary of 5000 bytes from a view at an odd offset, send buffer 128', 'binary', pattern(5003).subarray(3), 0, {
    options: { maxFragmentSize: 0, sendBufferSize: 128 },
  }),
  sendCase('10.3.8', 'binary of 5000 bytes from a view at an odd offset, fragments of 333, send buffer 128', 'binary', pattern(5003).subarray(3), 333, {
    options: { maxFragmentSize: 333, sendBufferSize: 128 },
  }),
);

// Lone surrogates in a string cannot be sent as UTF-8: they go out as U+FFFD (EF BF BD).
{
  const sent = 'a\ud800b\udc00\ud83d';
  const wire = join([utf8('a'), utf8('\ufffd'), utf8('b'), utf8('\ufffd'), utf8('\ufffd')]);
  for (const [i, size] of [[1, 0], [2, 2], [3, 4]] as const) {
    cases.push({
      id: `10.5.${i}`,
      title: `text with lone surrogates is sent as valid UTF-8 (U+FFFD), maxFragmentSize ${size}`,
      options: { maxFragmentSize: size },
      deliveries: ['whole'],
      steps: [{ act: (c) => c.sendText(sent) }],
      events: [],
      out: expectedFrames(OP.text, wire, size),
      check: checkFragments(OP.text, wire, size),
    });
  }
}

// Control frames are never fragmented, whatever maxFragmentSize says.
cases.push(
  {
    id: '10.4.1',
    title: 'ping of 125 bytes with maxFragmentSize 16 is one frame',
    options: { maxFragmentSize: 16 },
    deliveries: ['whole'],
    steps: [{ act: (c) => c.ping(pattern(125)) }],
    events: [],
    out: [renderFrame({ fin: true, opcode: OP.ping, payload: pattern(125) })],
  },
  {
    id: '10.4.2',
    title: 'close with a 123-byte reason with maxFragmentSize 16 is one frame',
    options: { maxFragmentSize: 16 },
    deliveries: ['whole'],
    steps: [{ act: (c) => c.close(4321, asciiText(123)) }, { advance: 5000 }],
    events: ['close 1006 false *', 'end'],
    out: [renderFrame({ fin: true, opcode: OP.close, payload: join([new Uint8Array([4321 >> 8, 4321 & 0xff]), utf8(asciiText(123))]) })],
  },
  {
    id: '10.4.3',
    title: 'messages interleaved with a ping while fragmenting',
    options: { maxFragmentSize: 4 },
    deliveries: ['whole'],
    steps: [{ act: (c) => [c.sendText('abcdefghij'), c.ping(utf8('p')), c.sendBinary(pattern(5))] }],
    events: [],
    out: [
      ...expectedFrames(OP.text, utf8('abcdefghij'), 4),
      renderFrame({ fin: true, opcode: OP.ping, payload: utf8('p') }),
      ...expectedFrames(OP.binary, pattern(5), 4),
    ],
  },
);

defineCases(cases);
