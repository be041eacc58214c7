// Property-based tests (fast-check) for the sans-IO core: FrameParser, FrameEncoder and the
// UTF-8 helpers. Expected values come from an independent test-side frame builder / reader
// and from the host's TextEncoder / TextDecoder, never from src/ itself.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concat } from './harness';
import { FrameParser } from '../src/websocket/parser';
import type { FrameHandler, FrameParserOptions, Role } from '../src/websocket/parser';
import { FrameEncoder } from '../src/websocket/encoder';
import { Utf8Validator, decodeUtf8, encodeUtf8, isValidUtf8, utf8Length } from '../src/bytes/utf8';

// ---------------------------------------------------------------------------------------------
// Independent helpers
// ---------------------------------------------------------------------------------------------

const textEncoder = new TextEncoder();
const lenientDecoder = new TextDecoder('utf-8');

function hex(data: Uint8Array, start = 0, end = data.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += (data[i] < 16 ? '0' : '') + data[i].toString(16);
  return s;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concat(...parts);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isValidUtf8Reference(data: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reference for fail-fast validation: the index of the first byte at which a fatal WHATWG
 * decoder, fed one byte at a time in streaming mode, reports an error (the end of the longest
 * prefix that can still be completed to valid UTF-8), or -1. `complete` tells whether the
 * whole input is valid (nothing left open).
 */
function utf8Reference(data: Uint8Array): { firstInvalid: number; complete: boolean } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < data.length; i++) {
    try {
      decoder.decode(data.subarray(i, i + 1), { stream: true });
    } catch {
      return { firstInvalid: i, complete: false };
    }
  }
  try {
    decoder.decode();
    return { firstInvalid: -1, complete: true };
  } catch {
    return { firstInvalid: -1, complete: false };
  }
}

/** Deterministic filler for big payloads (generating 64 KiB through fast-check is slow). */
function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) ^ 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Valid UTF-8 of exactly `length` bytes, rich in multibyte sequences. */
function textFiller(length: number, seed: number): Uint8Array {
  const pieces = ['a', 'é', '€', '😀', 'ß', '\u0800', '\uffff', '\u{10ffff}', 'Z'];
  const out = new Uint8Array(length);
  let o = 0;
  let k = seed >>> 0;
  while (o < length) {
    const piece = textEncoder.encode(pieces[k % pieces.length]);
    k = (k * 1103515245 + 12345) >>> 0;
    if (o + piece.length > length) {
      out[o++] = 0x41;
      continue;
    }
    out.set(piece, o);
    o += piece.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Test-side frame builder
// ---------------------------------------------------------------------------------------------

type LengthForm = 'min' | '16' | '64';

interface WireFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
  /** null: unmasked. */
  mask: Uint8Array | null;
  lengthForm: LengthForm;
}

function buildFrame(f: WireFrame): Uint8Array {
  const len = f.payload.length;
  let form = f.lengthForm;
  if (form === 'min') form = len < 126 ? 'min' : len < 0x10000 ? '16' : '64';
  if (form === '16' && len > 0xffff) form = '64';
  const headerLength = (form === 'min' ? 2 : form === '16' ? 4 : 10) + (f.mask ? 4 : 0);
  const out = new Uint8Array(headerLength + len);
  out[0] = (f.fin ? 0x80 : 0) | f.opcode;
  const maskBit = f.mask ? 0x80 : 0;
  let at = 2;
  if (form === 'min') out[1] = maskBit | len;
  else if (form === '16') {
    out[1] = maskBit | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
    at = 4;
  } else {
    out[1] = maskBit | 127;
    const high = Math.floor(len / 2 ** 32);
    const low = len % 2 ** 32;
    for (let i = 0; i < 4; i++) out[2 + i] = (high / 2 ** (24 - 8 * i)) & 0xff;
    for (let i = 0; i < 4; i++) out[6 + i] = Math.floor(low / 2 ** (24 - 8 * i)) & 0xff;
    at = 10;
  }
  if (f.mask) {
    out.set(f.mask, at);
    at += 4;
    for (let i = 0; i < len; i++) out[at + i] = f.payload[i] ^ f.mask[i & 3];
  } else out.set(f.payload, at);
  return out;
}

interface ReadFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  key: Uint8Array | null;
  length: number;
  /** The 7-bit length field (to check minimal encoding). */
  lengthField: number;
  payload: Uint8Array; // unmasked
}

/** Test-side reader for well-formed frame streams (the encoder's output). */
function readFrames(stream: Uint8Array): ReadFrame[] {
  const frames: ReadFrame[] = [];
  let p = 0;
  while (p < stream.length) {
    if (p + 2 > stream.length) throw new Error('truncated header');
    const b0 = stream[p];
    const b1 = stream[p + 1];
    let length = b1 & 0x7f;
    let at = p + 2;
    if (length === 126) {
      length = stream[at] * 256 + stream[at + 1];
      at += 2;
    } else if (length === 127) {
      length = 0;
      for (let i = 0; i < 8; i++) length = length * 256 + stream[at + i];
      at += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Uint8Array | null = null;
    if (masked) {
      key = stream.slice(at, at + 4);
      at += 4;
    }
    if (at + length > stream.length) throw new Error('truncated payload');
    const payload = stream.slice(at, at + length);
    if (key) for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, masked, key, length, lengthField: b1 & 0x7f, payload });
    p = at + length;
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Recording handler with invariant checks
// ---------------------------------------------------------------------------------------------

interface RecorderLimits {
  maxMessageSize?: number;
  chunkSize?: number;
}

class Recorder implements FrameHandler {
  /** Raw callback sequence (chunk boundaries included). */
  readonly raw: string[] = [];
  /** Mode-independent sequence: stream chunks reassembled into messages. */
  readonly events: string[] = [];
  readonly violations: string[] = [];
  terminals = 0;
  errorCode = 0;
  private pending: Uint8Array[] | null = null;
  private pendingType = '';
  private pendingText: TextDecoder | null = null;
  private pendingTextBad = false;

  constructor(private readonly limits: RecorderLimits = {}) {}

  private range(what: string, data: Uint8Array, start: number, end: number): boolean {
    if (!(data instanceof Uint8Array)) {
      this.violations.push(`${what}: data is not a Uint8Array`);
      return false;
    }
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > data.length) {
      this.violations.push(`${what}: range [${start}, ${end}) outside a buffer of ${data.length}`);
      return false;
    }
    return true;
  }

  private alive(what: string): void {
    if (this.terminals > 0) this.violations.push(`${what} after onError/onClose`);
  }

  onMessage(type: 'text' | 'binary', data: Uint8Array, start: number, end: number): void {
    this.alive('onMessage');
    if (!this.range('onMessage', data, start, end)) return;
    if (this.limits.maxMessageSize !== undefined && end - start > this.limits.maxMessageSize) {
      this.violations.push(`message of ${end - start} bytes over the limit ${this.limits.maxMessageSize}`);
    }
    if (type === 'text' && !isValidUtf8Reference(data.subarray(start, end))) this.violations.push('text message is not valid UTF-8');
    const s = `message:${type}:${hex(data, start, end)}`;
    this.raw.push(s);
    this.events.push(s);
  }

  onChunk(type: 'text' | 'binary', data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void {
    this.alive('onChunk');
    if (!this.range('onChunk', data, start, end)) return;
    if (this.limits.chunkSize !== undefined && end - start > this.limits.chunkSize) {
      this.violations.push(`chunk of ${end - start} bytes over chunkSize ${this.limits.chunkSize}`);
    }
    this.raw.push(`chunk:${type}:${first ? 'F' : '-'}${last ? 'L' : '-'}:${hex(data, start, end)}`);
    if (first !== (this.pending === null)) this.violations.push(`chunk first=${first} but a message is ${this.pending ? '' : 'not '}open`);
    if (this.pending === null) {
      this.pending = [];
      this.pendingType = type;
      this.pendingText = new TextDecoder('utf-8', { fatal: true });
      this.pendingTextBad = false;
    } else if (type !== this.pendingType) this.violations.push(`chunk type ${type} inside a ${this.pendingType} message`);
    this.pending.push(data.slice(start, end));
    if (type === 'text' && !this.pendingTextBad) {
      // Validated up to and including this chunk: what came so far is a prefix of valid UTF-8.
      try {
        this.pendingText!.decode(data.subarray(start, end), { stream: true });
        if (last) this.pendingText!.decode();
      } catch {
        this.pendingTextBad = true;
        this.violations.push(last ? 'text message (streamed) is not valid UTF-8' : 'text chunk delivered with invalid UTF-8');
      }
    }
    if (last) {
      const whole = concatBytes(this.pending);
      if (this.limits.maxMessageSize !== undefined && whole.length > this.limits.maxMessageSize) {
        this.violations.push(`streamed message of ${whole.length} bytes over the limit`);
      }
      this.events.push(`message:${this.pendingType}:${hex(whole)}`);
      this.pending = null;
    }
  }

  onPing(data: Uint8Array, start: number, end: number): void {
    this.alive('onPing');
    if (!this.range('onPing', data, start, end)) return;
    if (end - start > 125) this.violations.push('ping payload over 125');
    const s = `ping:${hex(data, start, end)}`;
    this.raw.push(s);
    this.events.push(s);
  }

  onPong(data: Uint8Array, start: number, end: number): void {
    this.alive('onPong');
    if (!this.range('onPong', data, start, end)) return;
    if (end - start > 125) this.violations.push('pong payload over 125');
    const s = `pong:${hex(data, start, end)}`;
    this.raw.push(s);
    this.events.push(s);
  }

  onClose(code: number, data: Uint8Array, reasonStart: number, reasonEnd: number): void {
    this.alive('onClose');
    this.terminals++;
    if (!this.range('onClose', data, reasonStart, reasonEnd)) return;
    const wireOk = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
    if (!(wireOk || (code === 1005 && reasonStart === reasonEnd))) this.violations.push(`onClose with code ${code}`);
    if (!isValidUtf8Reference(data.subarray(reasonStart, reasonEnd))) this.violations.push('close reason is not valid UTF-8');
    if (reasonEnd - reasonStart > 123) this.violations.push('close reason over 123 bytes');
    const s = `close:${code}:${hex(data, reasonStart, reasonEnd)}`;
    this.raw.push(s);
    this.events.push(s);
  }

  onError(code: number, reason: string): void {
    this.alive('onError');
    this.terminals++;
    if (code !== 1002 && code !== 1007 && code !== 1009) this.violations.push(`onError code ${code}`);
    if (typeof reason !== 'string') this.violations.push('onError reason is not a string');
    this.errorCode = code;
    const s = `error:${code}`;
    this.raw.push(s);
    this.events.push(s);
  }
}

type Split =
  | { kind: 'whole' }
  | { kind: 'bytes' }
  | { kind: 'cuts'; cuts: number[]; pad: number }
  // As SocketLink reads: into the parser's buffer (directView/pushDirect) while it has
  // directRoom, else through a read buffer; reads of steps[i] bytes in turn.
  | { kind: 'direct'; steps: number[] };

interface FeedResult {
  recorder: Recorder;
  consumed: number;
  inputIntact: boolean;
  violations: string[];
}

/**
 * Feed `stream` to a fresh parser split as asked. Random splits embed each piece in a
 * larger buffer (garbage around it) and pass start/end, so ranges and in-place writes into
 * the caller's buffer would show.
 */
function feed(stream: Uint8Array, options: FrameParserOptions, split: Split): FeedResult {
  const limits: RecorderLimits = {};
  if (options.maxMessageSize !== undefined) limits.maxMessageSize = options.maxMessageSize;
  if (options.mode === 'stream') limits.chunkSize = options.chunkSize ?? 1024;
  const recorder = new Recorder(limits);
  const parser = new FrameParser(options, recorder);
  const violations: string[] = [];
  let consumed = 0;
  let inputIntact = true;
  // Snapshots are taken per buffer (not per push), so 1-byte splits stay linear.
  const pushPiece = (buf: Uint8Array, start: number, end: number, before: Uint8Array | null): void => {
    const wasStopped = parser.stopped;
    const terminalsBefore = recorder.terminals;
    let n: number;
    try {
      n = parser.push(buf, start, end);
    } catch (error) {
      violations.push(`push threw ${String(error)}`);
      return;
    }
    if (before && !sameBytes(before, buf)) inputIntact = false;
    if (!Number.isInteger(n) || n < 0 || n > end - start) violations.push(`push returned ${n} for ${end - start} bytes`);
    if (wasStopped && n !== 0) violations.push(`push consumed ${n} bytes after the parser stopped`);
    if (!parser.stopped && n !== end - start) violations.push(`push consumed ${n} of ${end - start} while running`);
    if (recorder.terminals > terminalsBefore && !parser.stopped) violations.push('terminal callback but parser.stopped is false');
    consumed += n;
  };
  if (split.kind === 'whole') pushPiece(stream, 0, stream.length, stream.slice());
  else if (split.kind === 'bytes') {
    const before = stream.slice();
    for (let i = 0; i < stream.length; i++) pushPiece(stream, i, i + 1, null);
    if (!sameBytes(before, stream)) inputIntact = false;
  } else if (split.kind === 'direct') {
    let at = 0;
    for (let i = 0; at < stream.length && !parser.stopped; i++) {
      const step = Math.min(split.steps[i % split.steps.length], stream.length - at);
      const room = parser.directRoom;
      if (room > 0) {
        const n = Math.min(room, step);
        const view = parser.directView(n);
        if (view.length !== n) violations.push(`directView(${n}) has ${view.length} bytes`);
        view.set(stream.subarray(at, at + n));
        parser.pushDirect(n);
        consumed += n;
        at += n;
      } else {
        const piece = stream.slice(at, at + step);
        pushPiece(piece, 0, piece.length, null);
        at += step;
      }
    }
  } else {
    const points = [...new Set(split.cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    let prev = 0;
    for (const p of [...points, stream.length]) {
      const piece = stream.subarray(prev, p);
      const big = filler(piece.length + 2 * split.pad, p);
      big.set(piece, split.pad);
      // The bytes outside [start, end) must stay untouched as well.
      pushPiece(big, split.pad, split.pad + piece.length, big.slice());
      prev = p;
    }
  }
  if (recorder.terminals > 0 && !parser.stopped) violations.push('parser not stopped after a terminal event');
  return { recorder, consumed, inputIntact, violations: [...violations, ...recorder.violations] };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: valid frame streams
// ---------------------------------------------------------------------------------------------

const SPECIAL_LENGTHS = [0, 1, 124, 125, 126, 127, 65535, 65536];

/** Strings with lone surrogates mixed in (TextEncoder turns them into U+FFFD). */
const unicodeUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);
// size: 'max' everywhere a length matters: fast-check's default size keeps arrays and strings
// at about 10 elements whatever maxLength says.
const anyString = (maxLength: number) => fc.string({ unit: unicodeUnit, maxLength, size: 'max' });

/** A data payload: random small bytes/text or a deterministic big one at a boundary length. */
const payloadArb = (type: 'text' | 'binary'): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 10, arbitrary: type === 'text' ? anyString(60).map((s) => textEncoder.encode(s)) : fc.uint8Array({ maxLength: 200, size: 'max' }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...SPECIAL_LENGTHS), fc.integer({ min: -2, max: 2 }), fc.integer())
        .map(([len, delta, seed]) => {
          const n = Math.max(0, len + delta);
          return type === 'text' ? textFiller(n, seed) : filler(n, seed);
        }),
    },
  );

const controlPayloadArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 20, size: 'max' }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 120, maxLength: 125 }) },
);

interface ControlSpec {
  op: 'ping' | 'pong';
  payload: Uint8Array;
}
const controlArb: fc.Arbitrary<ControlSpec> = fc.record({ op: fc.constantFrom('ping' as const, 'pong' as const), payload: controlPayloadArb });

interface MessageSpec {
  kind: 'message';
  type: 'text' | 'binary';
  payload: Uint8Array;
  /** Fragment boundaries (byte offsets, may repeat: empty fragments). */
  cuts: number[];
  /** Control frames injected after fragment i. */
  between: ControlSpec[][];
}
type ItemSpec = MessageSpec | ({ kind: 'control' } & ControlSpec);

const messageArb: fc.Arbitrary<MessageSpec> = fc
  .constantFrom('text' as const, 'binary' as const)
  .chain((type) =>
    fc.record({
      kind: fc.constant('message' as const),
      type: fc.constant(type),
      payload: payloadArb(type),
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
      between: fc.array(fc.array(controlArb, { maxLength: 2 }), { maxLength: 4 }),
    }),
  )
  .map((m) => ({ ...m, cuts: m.cuts.map((c) => c % (m.payload.length + 1)).sort((a, b) => a - b) }));

const itemArb: fc.Arbitrary<ItemSpec> = fc.oneof(
  { weight: 3, arbitrary: messageArb },
  { weight: 1, arbitrary: controlArb.map((c) => ({ kind: 'control' as const, ...c })) },
);

const VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
interface CloseSpec {
  code: number | null;
  reason: Uint8Array;
}
const closeArb: fc.Arbitrary<CloseSpec> = fc.oneof(
  fc.constant({ code: null, reason: new Uint8Array(0) }),
  fc.record({
    code: fc.oneof(fc.constantFrom(...VALID_CLOSE_CODES), fc.integer({ min: 3000, max: 4999 })),
    reason: anyString(40)
      .map((s) => textEncoder.encode(s))
      .filter((b) => b.length <= 123),
  }),
);

interface StreamSpec {
  items: ItemSpec[];
  close: CloseSpec | null;
}
const streamSpecArb: fc.Arbitrary<StreamSpec> = fc.record({
  items: fc.array(itemArb, { maxLength: 6 }),
  close: fc.option(closeArb, { nil: null }),
});

/** Per-frame wire choices: mask keys and length forms, drawn independently of the content. */
interface WireChoices {
  keys: Uint8Array[];
  forms: LengthForm[];
}
const wireChoicesArb: fc.Arbitrary<WireChoices> = fc.record({
  keys: fc.array(
    fc.oneof({ weight: 8, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(4)) }),
    { minLength: 1, maxLength: 8 },
  ),
  forms: fc.array(fc.constantFrom<LengthForm>('min', 'min', 'min', 'min', '16', '64'), { minLength: 1, maxLength: 8 }),
});

interface BuiltStream {
  bytes: Uint8Array;
  /** Expected mode-independent event sequence. */
  expected: string[];
  largestMessage: number;
}

function buildStream(spec: StreamSpec, role: Role, wire: WireChoices, allowNonMinimalControl = true): BuiltStream {
  const frames: Uint8Array[] = [];
  const expected: string[] = [];
  let n = 0;
  let largest = 0;
  const emit = (fin: boolean, opcode: number, payload: Uint8Array): void => {
    const mask = role === 'server' ? wire.keys[n % wire.keys.length] : null;
    let form = wire.forms[n % wire.forms.length];
    if (opcode >= 8 && !allowNonMinimalControl) form = 'min';
    n++;
    frames.push(buildFrame({ fin, opcode, payload, mask, lengthForm: form }));
  };
  const control = (c: ControlSpec): void => {
    emit(true, c.op === 'ping' ? 0x9 : 0xa, c.payload);
    expected.push(`${c.op}:${hex(c.payload)}`);
  };
  for (const item of spec.items) {
    if (item.kind === 'control') {
      control(item);
      continue;
    }
    const bounds = [0, ...item.cuts, item.payload.length];
    const fragments = bounds.length - 1;
    for (let f = 0; f < fragments; f++) {
      const last = f === fragments - 1;
      emit(last, f === 0 ? (item.type === 'text' ? 0x1 : 0x2) : 0x0, item.payload.subarray(bounds[f], bounds[f + 1]));
      if (!last) for (const c of item.between[f] ?? []) control(c);
    }
    expected.push(`message:${item.type}:${hex(item.payload)}`);
    if (item.payload.length > largest) largest = item.payload.length;
  }
  if (spec.close) {
    const { code, reason } = spec.close;
    const payload = code === null ? new Uint8Array(0) : concatBytes([Uint8Array.of(code >> 8, code & 0xff), reason]);
    emit(true, 0x8, payload);
    expected.push(`close:${code ?? 1005}:${hex(reason)}`);
  }
  return { bytes: concatBytes(frames), expected, largestMessage: largest };
}

const splitArb: fc.Arbitrary<Split> = fc.record({
  kind: fc.constant('cuts' as const),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
  pad: fc.integer({ min: 0, max: 5 }),
});

/**
 * With unmaskInPlace (what SocketLink sets: its read buffer is scratch), every split gives
 * the events of the copying parser, and so do reads straight into the parser's buffer
 * (directView/pushDirect, as SocketLink reads payloads); a copy of the stream is fed each
 * time, as the parser may now write into it. Unmasked frames (client role) are never written.
 */
function expectSameInPlace(stream: Uint8Array, options: FrameParserOptions, split: Split, expected: unknown): void {
  const steps = split.kind === 'cuts' && split.cuts.length > 0 ? split.cuts.map((c) => 1 + (c % 1600)) : [1536];
  for (const how of [{ kind: 'whole' } as Split, { kind: 'bytes' } as Split, split, { kind: 'direct', steps } as Split, { kind: 'direct', steps: [1] } as Split]) {
    const r = feed(stream.slice(), { ...options, unmaskInPlace: true }, how);
    expect(r.violations).toEqual([]);
    expect(r.recorder.raw).toEqual(expected);
    if (options.role === 'client') expect(r.inputIntact).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Valid streams, any split
// ---------------------------------------------------------------------------------------------

describe('FrameParser on valid frame streams', () => {
  it('message mode: same events for whole, 1-byte and random splits, equal to the built messages', () => {
    fc.assert(
      fc.property(
        streamSpecArb,
        fc.constantFrom<Role>('client', 'server'),
        wireChoicesArb,
        splitArb,
        fc.integer({ min: 0, max: 3 }),
        (spec, role, wire, split, slack) => {
          const built = buildStream(spec, role, wire);
          // maxMessageSize exactly at (or just above) the largest message: boundary included.
          const options: FrameParserOptions = { role, mode: 'message', maxMessageSize: built.largestMessage + slack };
          const copy = built.bytes.slice();
          const whole = feed(built.bytes, options, { kind: 'whole' });
          expect(whole.violations).toEqual([]);
          expect(whole.recorder.events).toEqual(built.expected);
          expect(whole.consumed).toBe(built.bytes.length);
          expect(whole.inputIntact).toBe(true);
          for (const how of [{ kind: 'bytes' } as Split, split]) {
            const r = feed(built.bytes, options, how);
            expect(r.violations).toEqual([]);
            expect(r.inputIntact).toBe(true);
            expect(r.recorder.raw).toEqual(whole.recorder.raw);
            expect(r.consumed).toBe(built.bytes.length);
          }
          expect(sameBytes(copy, built.bytes)).toBe(true);
          expectSameInPlace(built.bytes, options, split, whole.recorder.raw);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stream mode: chunks concatenate to the messages, first/last flags and types consistent, split-independent', () => {
    fc.assert(
      fc.property(
        streamSpecArb,
        fc.constantFrom<Role>('client', 'server'),
        wireChoicesArb,
        splitArb,
        fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 300 }), fc.constant(4096)),
        fc.boolean(),
        (spec, role, wire, split, chunkSize, limited) => {
          const built = buildStream(spec, role, wire);
          const options: FrameParserOptions = { role, mode: 'stream', chunkSize };
          if (limited) options.maxMessageSize = built.largestMessage;
          const whole = feed(built.bytes, options, { kind: 'whole' });
          expect(whole.violations).toEqual([]);
          expect(whole.recorder.events).toEqual(built.expected);
          expect(whole.inputIntact).toBe(true);
          for (const how of [{ kind: 'bytes' } as Split, split]) {
            const r = feed(built.bytes, options, how);
            expect(r.violations).toEqual([]);
            expect(r.inputIntact).toBe(true);
            expect(r.recorder.raw).toEqual(whole.recorder.raw);
          }
          expectSameInPlace(built.bytes, options, split, whole.recorder.raw);
        },
      ),
      { numRuns: 250 },
    );
  });

  it('boundary lengths 0..65537 in every length form, role and mode (deterministic coverage)', () => {
    const wire: WireChoices = { keys: [Uint8Array.of(1, 2, 3, 4), new Uint8Array(4), Uint8Array.of(0xff, 0x80, 0x7f, 0x01)], forms: ['min'] };
    for (const len of [0, 1, 124, 125, 126, 127, 128, 65535, 65536, 65537]) {
      for (const form of ['min', '16', '64'] as LengthForm[]) {
        for (const role of ['client', 'server'] as Role[]) {
          const text: MessageSpec = { kind: 'message', type: 'text', payload: textFiller(len, len), cuts: [], between: [] };
          const binary: MessageSpec = {
            kind: 'message',
            type: 'binary',
            payload: filler(len, len + 1),
            cuts: [len >> 1, len >> 1],
            between: [[{ op: 'ping', payload: filler(125, 3) }], [{ op: 'pong', payload: new Uint8Array(0) }]],
          };
          const spec: StreamSpec = { items: [text, binary], close: { code: 1000, reason: textEncoder.encode('ok') } };
          const built = buildStream(spec, role, { ...wire, forms: [form] });
          for (const mode of ['message', 'stream'] as const) {
            const options: FrameParserOptions = { role, mode, maxMessageSize: len, chunkSize: 1000 };
            const whole = feed(built.bytes, options, { kind: 'whole' });
            expect(whole.violations).toEqual([]);
            expect(whole.recorder.events).toEqual(built.expected);
            const cuts = feed(built.bytes, options, { kind: 'cuts', cuts: [1, 3, 9, 130, 65541, 70000], pad: 3 });
            expect(cuts.violations).toEqual([]);
            expect(cuts.recorder.raw).toEqual(whole.recorder.raw);
          }
        }
      }
    }
  });

  it('stream mode without a size limit: 64-bit lengths up to 2^53 - 1 are taken, 2^53 and up are 1009, the top bit 1002', () => {
    const header = (role: Role, opcode: number, high: number, low: number): Uint8Array => {
      const h = [0x80 | opcode, (role === 'server' ? 0x80 : 0) | 127];
      for (const word of [high, low]) h.push(word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
      if (role === 'server') h.push(9, 8, 7, 6);
      return Uint8Array.from(h);
    };
    for (const role of ['client', 'server'] as Role[]) {
      const verdict = (high: number, low: number, opcode = 0x2): string[] => {
        const bytes = header(role, opcode, high, low);
        const r = feed(bytes, { role, mode: 'stream', chunkSize: 2 }, { kind: 'bytes' });
        expect(r.violations).toEqual([]);
        return r.recorder.raw;
      };
      expect(verdict(0x1fffff, 0xffffffff)).toEqual([]); // 2^53 - 1: waiting for the payload
      expect(verdict(1, 0)).toEqual([]);
      expect(verdict(0x200000, 0)).toEqual(['error:1009']);
      expect(verdict(0x7fffffff, 0xffffffff)).toEqual(['error:1009']);
      expect(verdict(0x80000000, 0)).toEqual(['error:1002']);
      expect(verdict(0x200000, 0, 0x9)).toEqual(['error:1002']); // a control frame: framing first
      expect(verdict(0x200000, 0, 0x0)).toEqual(['error:1002']); // nothing to continue
    }
  });

  it('a message one byte over maxMessageSize fails with 1009 after the messages before it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Role>('client', 'server'),
        fc.constantFrom<'message' | 'stream'>('message', 'stream'),
        wireChoicesArb,
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (role, mode, wire, limit, cuts) => {
          const ok: MessageSpec = { kind: 'message', type: 'binary', payload: filler(limit, 1), cuts: [], between: [] };
          const big = filler(limit + 1, 2);
          const tooBig: MessageSpec = {
            kind: 'message',
            type: 'binary',
            payload: big,
            cuts: cuts.map((c) => c % (big.length + 1)).sort((a, b) => a - b),
            between: [],
          };
          const built = buildStream({ items: [ok, tooBig], close: null }, role, wire);
          const r = feed(built.bytes, { role, mode, maxMessageSize: limit, chunkSize: 64 }, { kind: 'whole' });
          expect(r.violations).toEqual([]);
          expect(r.recorder.events).toEqual([built.expected[0], 'error:1009']);
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Random bytes and mutated valid streams: robustness
// ---------------------------------------------------------------------------------------------

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b: Uint8Array = bytes.slice();
  for (const m of mutations) {
    const at = m.at % (b.length + 1);
    if (m.kind === 'flip') {
      if (at < b.length) b[at] ^= 1 << m.bit;
    } else if (m.kind === 'set') {
      if (at < b.length) b[at] = m.value;
    } else if (m.kind === 'insert') b = concatBytes([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (m.kind === 'delete') b = concatBytes([b.subarray(0, at), b.subarray(Math.min(b.length, at + m.count))]);
    else b = b.slice(0, at);
  }
  return b;
}

/** Random bytes shaped like frame headers now and then, so parsing goes past the first header. */
const frameishBytesArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(0x81, 0x82, 0x01, 0x02, 0x80, 0x00, 0x89, 0x8a, 0x88, 0x09, 0xc1, 0x83, 0x8b), fc.integer({ min: 0, max: 255 })),
      fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x7e, 0x7f, 0xfe, 0xff, 0x80, 0x00, 0x7d)),
      fc.uint8Array({ maxLength: 24, size: 'max' }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => concatBytes(parts.map(([a, b, rest]) => concatBytes([Uint8Array.of(a, b), rest]))));

const hostileInputArb: fc.Arbitrary<{ bytes: Uint8Array; role: Role }> = fc.oneof(
  fc.record({ bytes: fc.uint8Array({ maxLength: 300, size: 'max' }), role: fc.constantFrom<Role>('client', 'server') }),
  fc.record({ bytes: frameishBytesArb, role: fc.constantFrom<Role>('client', 'server') }),
  fc
    .tuple(
      fc.record({ items: fc.array(itemArb, { maxLength: 3 }), close: fc.option(closeArb, { nil: null }) }),
      fc.constantFrom<Role>('client', 'server'),
      wireChoicesArb,
      fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    )
    .filter(([spec]) => spec.items.every((i) => i.kind === 'control' || i.payload.length < 2000))
    .map(([spec, role, wire, mutations]) => ({ bytes: mutate(buildStream(spec, role, wire).bytes, mutations), role })),
);

describe('FrameParser on hostile input', () => {
  it('never throws, stops at one terminal event, ranges in bounds, input untouched, split-independent', () => {
    fc.assert(
      fc.property(
        hostileInputArb,
        fc.constantFrom<'message' | 'stream'>('message', 'stream'),
        fc.integer({ min: 0, max: 300 }),
        fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
        fc.integer({ min: 1, max: 64 }),
        splitArb,
        ({ bytes, role }, mode, maxMessageSize, maxFrameSize, chunkSize, split) => {
          const options: FrameParserOptions = { role, mode, maxMessageSize, chunkSize };
          if (maxFrameSize !== undefined) options.maxFrameSize = maxFrameSize;
          const copy = bytes.slice();
          const results = [
            feed(bytes, options, { kind: 'whole' }),
            feed(bytes, options, { kind: 'bytes' }),
            feed(bytes, options, split),
          ];
          for (const r of results) {
            expect(r.violations).toEqual([]);
            expect(r.inputIntact).toBe(true);
            expect(r.recorder.terminals).toBeLessThanOrEqual(1);
            expect(r.recorder.raw).toEqual(results[0].recorder.raw);
          }
          expect(sameBytes(copy, bytes)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Encoder round trip
// ---------------------------------------------------------------------------------------------

type EncoderOp =
  | { kind: 'binary'; data: Uint8Array; start: number; end: number }
  | { kind: 'textBytes'; data: Uint8Array }
  | { kind: 'text'; value: string }
  | { kind: 'ping' | 'pong'; data: Uint8Array };

const encoderOpArb: fc.Arbitrary<EncoderOp> = fc.oneof(
  fc
    .tuple(payloadArb('binary'), fc.nat(), fc.nat())
    .map(([data, a, b]) => {
      const x = a % (data.length + 1);
      const y = b % (data.length + 1);
      return { kind: 'binary' as const, data, start: Math.min(x, y), end: Math.max(x, y) };
    }),
  payloadArb('text').map((data) => ({ kind: 'textBytes' as const, data })),
  fc.oneof({ weight: 5, arbitrary: anyString(80) }, { weight: 1, arbitrary: anyString(1500) }).map((value) => ({ kind: 'text' as const, value })),
  fc.record({ kind: fc.constantFrom('ping' as const, 'pong' as const), data: controlPayloadArb }),
);

const encoderCloseArb = fc.option(
  fc.oneof(
    fc.constant({ code: undefined as number | undefined, reason: '' }),
    fc.record({
      code: fc.oneof(fc.constantFrom(...VALID_CLOSE_CODES), fc.integer({ min: 3000, max: 4999 })) as fc.Arbitrary<number | undefined>,
      reason: anyString(40).filter((s) => textEncoder.encode(s).length <= 123),
    }),
  ),
  { nil: null },
);

describe('FrameEncoder round trip through FrameParser', () => {
  it('decodes to the same messages; masking, minimal lengths, fragmentation and input immutability', () => {
    fc.assert(
      fc.property(
        fc.array(encoderOpArb, { maxLength: 6 }),
        encoderCloseArb,
        fc.constantFrom<Role>('client', 'server'),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 11, max: 400 })),
        fc.option(fc.integer({ min: 16, max: 2000 }), { nil: undefined }),
        fc.integer(),
        (ops, close, role, maxFragmentSize, bufferSize, seed) => {
          const out: Uint8Array[] = [];
          const sinkViolations: string[] = [];
          const keys: Uint8Array[] = [];
          let state = seed | 1;
          const random = (bytes: Uint8Array): void => {
            for (let i = 0; i < bytes.length; i++) {
              state ^= state << 13;
              state ^= state >>> 17;
              state ^= state << 5;
              bytes[i] = state & 0xff;
            }
            keys.push(bytes.slice());
          };
          const encoder = new FrameEncoder(
            bufferSize === undefined ? { role, maxFragmentSize, random } : { role, maxFragmentSize, random, bufferSize },
            (data, start, end) => {
              if (!(start >= 0 && start <= end && end <= data.length)) sinkViolations.push(`sink range [${start}, ${end}) of ${data.length}`);
              out.push(data.slice(start, end));
            },
          );
          const expectedEvents: string[] = [];
          // What each message should look like on the wire: [first opcode, payload length].
          const shapes: Array<[number, number]> = [];
          for (const op of ops) {
            if (op.kind === 'binary') {
              const before = op.data.slice();
              encoder.binary(op.data, op.start, op.end);
              expect(sameBytes(before, op.data)).toBe(true);
              expectedEvents.push(`message:binary:${hex(op.data, op.start, op.end)}`);
              shapes.push([0x2, op.end - op.start]);
            } else if (op.kind === 'textBytes') {
              const before = op.data.slice();
              encoder.textBytes(op.data);
              expect(sameBytes(before, op.data)).toBe(true);
              expectedEvents.push(`message:text:${hex(op.data)}`);
              shapes.push([0x1, op.data.length]);
            } else if (op.kind === 'text') {
              encoder.text(op.value);
              const bytes = textEncoder.encode(op.value);
              expectedEvents.push(`message:text:${hex(bytes)}`);
              shapes.push([0x1, bytes.length]);
            } else {
              const before = op.data.slice();
              if (op.kind === 'ping') encoder.ping(op.data);
              else encoder.pong(op.data);
              expect(sameBytes(before, op.data)).toBe(true);
              expectedEvents.push(`${op.kind}:${hex(op.data)}`);
              shapes.push([op.kind === 'ping' ? 0x9 : 0xa, op.data.length]);
            }
          }
          if (close) {
            encoder.close(close.code, close.reason);
            expectedEvents.push(`close:${close.code ?? 1005}:${hex(textEncoder.encode(close.reason))}`);
            shapes.push([0x8, close.code === undefined ? 0 : 2 + textEncoder.encode(close.reason).length]);
          }
          expect(sinkViolations).toEqual([]);
          const stream = concatBytes(out);

          // Wire shape, read by the test-side reader: actual vs expected header summaries,
          // compared once (thousands of 1-byte fragments would make per-field expects slow).
          const frames = readFrames(stream);
          const actualShape = frames.map(
            (fr) => `rsv=${fr.rsv} op=${fr.opcode} fin=${fr.fin} len=${fr.length} field=${fr.lengthField} mask=${fr.masked ? hex(fr.key!) : '-'}`,
          );
          const expectedShape: string[] = [];
          let keyIndex = 0;
          for (const [opcode, length] of shapes) {
            const fragmentLimit = opcode >= 8 || maxFragmentSize === 0 ? Infinity : maxFragmentSize;
            const count = length === 0 || fragmentLimit === Infinity ? 1 : Math.ceil(length / fragmentLimit);
            for (let f = 0; f < count; f++) {
              const len = fragmentLimit === Infinity ? length : Math.min(fragmentLimit, length - f * fragmentLimit);
              // Minimal length encoding; client: a fresh 4-byte key from the random source per frame.
              const field = len < 126 ? len : len < 0x10000 ? 126 : 127;
              let mask = '-';
              if (role === 'client') {
                const key = keys[keyIndex++];
                mask = key && key.length === 4 ? hex(key) : 'missing key';
              }
              expectedShape.push(`rsv=0 op=${f === 0 ? opcode : 0} fin=${f === count - 1} len=${len} field=${field} mask=${mask}`);
            }
          }
          expect(actualShape).toEqual(expectedShape);
          // Every key drawn was used (server: none drawn).
          expect(keyIndex).toBe(keys.length);

          // Decoded by our parser (opposite role).
          const parserRole: Role = role === 'client' ? 'server' : 'client';
          const options: FrameParserOptions = { role: parserRole, maxMessageSize: 1 << 17 };
          const whole = feed(stream, options, { kind: 'whole' });
          expect(whole.violations).toEqual([]);
          expect(whole.recorder.events).toEqual(expectedEvents);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4. UTF-8 against the host's TextEncoder / TextDecoder
// ---------------------------------------------------------------------------------------------

/** Byte soup biased towards multibyte prefixes, continuations and boundary code points. */
const utf8ishBytesArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x7f }).map((b) => Uint8Array.of(b)) },
      { weight: 3, arbitrary: fc.integer({ min: 0x80, max: 0xbf }).map((b) => Uint8Array.of(b)) },
      { weight: 3, arbitrary: fc.integer({ min: 0xc0, max: 0xff }).map((b) => Uint8Array.of(b)) },
      {
        weight: 4,
        arbitrary: fc
          .oneof(
            fc.integer({ min: 0, max: 0x10ffff }),
            fc.constantFrom(0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff),
          )
          .filter((c) => c < 0xd800 || c > 0xdfff)
          .map((c) => textEncoder.encode(String.fromCodePoint(c))),
      },
      {
        // A valid sequence cut short.
        weight: 2,
        arbitrary: fc
          .tuple(fc.integer({ min: 0x80, max: 0x10ffff }), fc.nat())
          .filter(([c]) => c < 0xd800 || c > 0xdfff)
          .map(([c, n]) => {
            const b = textEncoder.encode(String.fromCodePoint(c));
            return b.subarray(0, 1 + (n % (b.length - 1)));
          }),
      },
      {
        // Encoded surrogates, overlongs and values above U+10FFFF.
        weight: 1,
        arbitrary: fc.constantFrom(
          Uint8Array.of(0xed, 0xa0, 0x80),
          Uint8Array.of(0xed, 0xbf, 0xbf),
          Uint8Array.of(0xc0, 0x80),
          Uint8Array.of(0xe0, 0x9f, 0xbf),
          Uint8Array.of(0xf0, 0x8f, 0xbf, 0xbf),
          Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
          Uint8Array.of(0xf8, 0x88, 0x80, 0x80, 0x80),
        ),
      },
    ),
    { maxLength: 24, size: 'max' },
  )
  .map((parts) => concatBytes(parts));

const utf8InputArb = fc.oneof(utf8ishBytesArb, fc.uint8Array({ maxLength: 40, size: 'max' }));

describe('UTF-8 against TextEncoder / TextDecoder', () => {
  it('Utf8Validator and isValidUtf8 agree with a fatal TextDecoder, whole and in pieces, failing at the exact byte', () => {
    fc.assert(
      fc.property(utf8InputArb, fc.array(fc.nat(), { maxLength: 6 }), (data, cuts) => {
        const ref = utf8Reference(data);
        expect(isValidUtf8(data)).toBe(isValidUtf8Reference(data));
        expect(isValidUtf8(data)).toBe(ref.complete);

        const whole = new Utf8Validator();
        expect(whole.update(data, 0, data.length)).toBe(ref.firstInvalid);
        if (ref.firstInvalid < 0) expect(whole.complete).toBe(ref.complete);
        else expect(whole.complete).toBe(false);

        const pieces = new Utf8Validator();
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        let prev = 0;
        let first = -1;
        for (const p of [...points, data.length]) {
          const r = pieces.update(data, prev, p);
          if (first < 0) {
            if (r >= 0) {
              expect(r).toBeGreaterThanOrEqual(prev);
              expect(r).toBeLessThan(p);
            }
            first = r;
          } else expect(r).toBe(prev); // once invalid, stays invalid
          prev = p;
        }
        expect(first).toBe(ref.firstInvalid);
        if (ref.firstInvalid < 0) expect(pieces.complete).toBe(ref.complete);

        // Byte by byte, and reset() starts afresh.
        const bytewise = new Utf8Validator();
        let at = -1;
        for (let i = 0; i < data.length && at < 0; i++) if (bytewise.update(data, i, i + 1) >= 0) at = i;
        expect(at).toBe(ref.firstInvalid);
        bytewise.reset();
        const ok = textEncoder.encode('é€😀');
        expect(bytewise.update(ok, 0, ok.length)).toBe(-1);
        expect(bytewise.complete).toBe(true);

        // Sub-ranges: isValidUtf8 honours start/end.
        const padded = concatBytes([Uint8Array.of(0xff, 0x80), data, Uint8Array.of(0xe0)]);
        expect(isValidUtf8(padded, 2, 2 + data.length)).toBe(ref.complete);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeUtf8 equals TextDecoder on valid input (also for sub-ranges) and marks invalid input with U+FFFD', () => {
    fc.assert(
      fc.property(utf8InputArb, fc.nat(), (data, padSeed) => {
        const valid = isValidUtf8Reference(data);
        const decoded = decodeUtf8(data);
        if (valid) expect(decoded).toBe(lenientDecoder.decode(data));
        else expect(decoded).toContain('\ufffd');
        const pad = padSeed % 4;
        const big = concatBytes([filler(pad, padSeed), data, filler(pad, padSeed + 1)]);
        if (valid) expect(decodeUtf8(big, pad, pad + data.length)).toBe(decoded);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodeUtf8 / utf8Length / decodeUtf8 agree with TextEncoder / TextDecoder on strings with lone surrogates', () => {
    fc.assert(
      fc.property(anyString(60), (s) => {
        const expected = textEncoder.encode(s);
        const encoded = encodeUtf8(s);
        expect(hex(encoded)).toBe(hex(expected));
        expect(utf8Length(s)).toBe(expected.length);
        expect(decodeUtf8(encoded)).toBe(lenientDecoder.decode(expected));
      }),
      { numRuns: 1000 },
    );
  });
});
