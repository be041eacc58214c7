// Differential tests: our FrameParser against ws's Receiver (ws 8) as an oracle.
//
// A verdict is the list of events (messages, pings, pongs, the close frame) and the close code
// of the first error. For every input the two verdicts must be equal, except where ws
// legitimately differs from strict RFC 6455 as this project defines it. Those differences are
// listed in WS_DIFFERENCES below; for them our own documented behaviour is asserted (never
// weakened to ws's), and ws's behaviour is pinned as well so a change in either shows.
//
// For random streams, a small reference decoder (`reference()`, written from RFC 6455 and the
// table below, not from src/) has one switch per row of the table: all off is OURS, all on is
// WS. ws must equal WS, our parser must equal OURS, and since the switches are the only
// differences between the two, every disagreement between ws and us is accounted for by rows of
// the table (when OURS and WS agree, ws and we must agree exactly). The corpus additionally
// checks that each listed difference is caused by its stated row alone.
//
// How ws exposes the close code: Receiver.createError() stores it as
// `err[kStatusCode]` where kStatusCode = Symbol('status-code') from ws/lib/constants.js (not a
// registered symbol, and ws/lib/* is not exported), next to `err.code` ('WS_ERR_...'). The test
// finds the symbol by its description.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concat } from './harness';
import { FrameParser } from '../src/websocket/parser';
import type { FrameHandler, Role } from '../src/websocket/parser';

// ---------------------------------------------------------------------------------------------
// The differences (and a non-difference people expect)
// ---------------------------------------------------------------------------------------------

/**
 * | row | input                                                        | ours                           | ws 8.18                          | reasoning |
 * |-----|--------------------------------------------------------------|--------------------------------|----------------------------------|-----------|
 * | A   | close frame with code 1012, 1013 or 1014                     | 1002 (invalid close code)      | accepted ('conclude' 1012..1014) | RFC 6455 7.4.1 defines 1000-1011 (+1015, local); 1012-1014 came later via the IANA registry. The project validates like the Autobahn testsuite (7.9.x) and only accepts 1000-1003, 1007-1011, 3000-4999. |
 * | B   | text message with invalid UTF-8                              | 1007 as soon as the offending byte arrives (fail-fast, even in a non-final fragment or a partly received frame) | 1007 only once the whole message (FIN frame) is in | RFC 6455 8.1: an endpoint that finds a byte stream is not valid UTF-8 MUST fail the connection; Autobahn 6.4.x expects fail-fast. Consequences: ws may first report another error from a later frame (1002/1009), deliver pings/pongs/close between, or wait on truncated input, where we already said 1007. |
 * | C   | 64-bit payload length with the most significant bit set      | 1002 (protocol error)          | 1009 ('payload length > 2^53 - 1') | RFC 6455 5.2: "the most significant bit MUST be 0" - a framing violation, not a size problem. |
 * | D   | control frame whose length uses the 16/64-bit form (value <= 125) | accepted (the decoded length counts) | 1002 (ws checks the 7-bit field > 125) | RFC 6455 5.2 asks senders for minimal length encodings but names no receiver duty; the project accepts non-minimal encodings for every frame (ws does for data frames, so only control frames differ). |
 * | E   | input that ends inside a frame header (or a 1-byte close payload) | no verdict yet: the header is checked once complete (up to 14 bytes incl. the mask key), a close payload once complete | fails as soon as the first 2 header bytes are in (RSV, opcode, FIN, 7-bit control length incl. 1-byte close, MASK bit) | Timing only: on the complete frame both fail with the same code. |
 *
 * Not a difference: ws in client mode rejects masked frames (1002 'MASK must be clear'), exactly
 * as we do; and in server mode it rejects unmasked frames (1002). Checked by the corpus.
 * Not compared: ws's maxPayload 0 means "unlimited" while our maxMessageSize 0 allows only empty
 * messages - the tests never use 0.
 */
const WS_DIFFERENCES = ['A', 'B', 'C', 'D', 'E'] as const;
type DiffRow = (typeof WS_DIFFERENCES)[number];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function hex(data: Uint8Array, start = 0, end = data.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += (data[i] < 16 ? '0' : '') + data[i].toString(16);
  return s;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concat(...parts);
}

const textEncoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => textEncoder.encode(s);

function isValidUtf8Reference(data: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) ^ 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** First event that is an error, as its close code, or null. */
function errorCode(events: readonly string[]): number | null {
  const e = events.find((x) => x.startsWith('error:'));
  return e ? Number(e.slice(6)) : null;
}

// ---------------------------------------------------------------------------------------------
// Test-side frame builder (raw: any header bits, any declared length)
// ---------------------------------------------------------------------------------------------

type LengthForm = 'min' | '16' | '64';

interface RawFrame {
  fin?: boolean; // default true
  rsv?: number; // 0..7 -> bits 0x40, 0x20, 0x10
  opcode: number;
  payload?: Uint8Array;
  /** Mask key, or null for an unmasked frame. */
  mask: Uint8Array | null;
  form?: LengthForm;
  /** Declared 64-bit length as [high word, low word]; the payload is then not written. */
  declared64?: [number, number];
}

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

function frame(f: RawFrame): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const len = payload.length;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const maskBit = f.mask ? 0x80 : 0;
  let form = f.form ?? 'min';
  if (form === 'min') form = len < 126 ? 'min' : len < 0x10000 ? '16' : '64';
  if (form === '16' && len > 0xffff) form = '64';
  if (f.declared64) {
    const [high, low] = f.declared64;
    head.push(maskBit | 127, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    head.push(low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  } else if (form === 'min') head.push(maskBit | len);
  else if (form === '16') head.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    const high = Math.floor(len / 2 ** 32);
    head.push(maskBit | 127, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    head.push(len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (f.mask) head.push(...f.mask);
  if (f.declared64) return Uint8Array.from(head);
  const body = payload.slice();
  if (f.mask) for (let i = 0; i < len; i++) body[i] ^= f.mask[i & 3];
  return concatBytes([Uint8Array.from(head), body]);
}

const closePayload = (code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array =>
  concatBytes([Uint8Array.of(code >> 8, code & 0xff), reason]);

// ---------------------------------------------------------------------------------------------
// The two implementations under comparison
// ---------------------------------------------------------------------------------------------

class OurRecorder implements FrameHandler {
  readonly events: string[] = [];
  private pending: Uint8Array[] | null = null;
  private pendingType = '';
  onMessage(type: string, data: Uint8Array, start: number, end: number): void {
    this.events.push(`message:${type}:${hex(data, start, end)}`);
  }
  onChunk(type: string, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void {
    if (first) {
      this.pending = [];
      this.pendingType = type;
    }
    this.pending?.push(data.slice(start, end));
    if (last && this.pending) {
      this.events.push(`message:${this.pendingType}:${hex(concatBytes(this.pending))}`);
      this.pending = null;
    }
  }
  onPing(data: Uint8Array, start: number, end: number): void {
    this.events.push(`ping:${hex(data, start, end)}`);
  }
  onPong(data: Uint8Array, start: number, end: number): void {
    this.events.push(`pong:${hex(data, start, end)}`);
  }
  onClose(code: number, data: Uint8Array, start: number, end: number): void {
    this.events.push(`close:${code}:${hex(data, start, end)}`);
  }
  onError(code: number): void {
    this.events.push(`error:${code}`);
  }
}

function ours(bytes: Uint8Array, role: Role, maxMessageSize: number, mode: 'message' | 'stream' = 'message', unmaskInPlace = false): string[] {
  const recorder = new OurRecorder();
  const parser = new FrameParser({ role, mode, maxMessageSize, chunkSize: 7, unmaskInPlace }, recorder);
  parser.push(bytes.slice());
  return recorder.events;
}

interface WsReceiver {
  on(event: string, listener: (...args: never[]) => void): unknown;
  write(chunk: Uint8Array): boolean;
}
type WsReceiverCtor = new (options: { isServer: boolean; maxPayload: number; skipUTF8Validation: boolean }) => WsReceiver;
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: WsReceiverCtor };

function wsStatusCode(err: unknown): number {
  if (!err || typeof err !== 'object') return NaN;
  const symbol = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
  return symbol ? Number((err as Record<symbol, unknown>)[symbol]) : NaN;
}

/** ws's verdict. Its 'error' is emitted on a later tick (stream destroy), hence async. */
async function wsVerdict(bytes: Uint8Array, role: Role, maxPayload: number): Promise<string[]> {
  const events: string[] = [];
  const receiver = new Receiver({ isServer: role === 'server', maxPayload, skipUTF8Validation: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => events.push(`message:${isBinary ? 'binary' : 'text'}:${hex(data)}`));
  receiver.on('ping', (data: Buffer) => events.push(`ping:${hex(data)}`));
  receiver.on('pong', (data: Buffer) => events.push(`pong:${hex(data)}`));
  receiver.on('conclude', (code: number, reason: Buffer) => events.push(`close:${code}:${hex(reason)}`));
  receiver.on('error', (err: Error) => events.push(`error:${wsStatusCode(err)}`));
  // ws unmasks in place inside the buffer it is given: hand it a copy.
  receiver.write(Buffer.from(bytes));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return events;
}

// ---------------------------------------------------------------------------------------------
// Reference decoder, two profiles (see the table)
// ---------------------------------------------------------------------------------------------

/** One switch per row of the table: true = ws's behaviour for that row, false = ours. */
type Profile = Readonly<Record<DiffRow, boolean>>;
const OURS: Profile = { A: false, B: false, C: false, D: false, E: false };
const WS: Profile = { A: true, B: true, C: true, D: true, E: true };

function validCloseCode(code: number, f: Profile): boolean {
  if (code >= 3000 && code <= 4999) return true;
  if (f.A && code >= 1012 && code <= 1014) return true; // row A
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}

/**
 * RFC 6455 receiver in a few lines, on the whole input at once. Rules common to both sides are
 * unconditional; each behaviour where ws differs is behind its row's switch in `f`.
 */
function reference(bytes: Uint8Array, role: Role, max: number, f: Profile): string[] {
  const events: string[] = [];
  const fail = (code: number): string[] => {
    events.push(`error:${code}`);
    return events;
  };
  const n = bytes.length;
  const expectMask = role === 'server';
  const u32 = (at: number): number => ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  let p = 0;
  let inMessage = false;
  let messageText = false;
  let messageLength = 0;
  let parts: Uint8Array[] = [];
  let decoder = new TextDecoder('utf-8', { fatal: true });
  for (;;) {
    if (n - p < 2) return events;
    const b0 = bytes[p];
    const b1 = bytes[p + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLength = 2 + extended + (masked ? 4 : 0);
    const control = opcode >= 8;
    const data = opcode <= 2;
    // RFC 6455 5.1 / 5.2 / 5.4 / 5.5 rules that need no length: all 1002.
    const framingError =
      rsv !== 0 ||
      (opcode === 0 && !inMessage) ||
      ((opcode === 1 || opcode === 2) && inMessage) ||
      (opcode > 2 && opcode < 8) ||
      opcode > 10 ||
      (control && !fin) ||
      masked !== expectMask;
    if (f.E) {
      // Row E: ws judges the first two bytes at once, including the 7-bit control length
      // (row D) and the 1-byte close.
      if (framingError || (control && f.D && len7 > 125) || (opcode === 8 && len7 === 1)) return fail(1002);
    } else if (n - p < headerLength) return events; // row E: ours waits for the whole header
    if (n - p < 2 + extended) return events;
    let high = 0;
    let length = len7;
    if (len7 === 126) length = (bytes[p + 2] << 8) | bytes[p + 3];
    else if (len7 === 127) {
      high = u32(p + 2);
      length = high * 2 ** 32 + u32(p + 6);
    }
    if (framingError) return fail(1002);
    if (!f.C && len7 === 127 && high >= 0x80000000) return fail(1002); // row C
    if (control && (f.D ? len7 > 125 : length > 125)) return fail(1002); // row D
    // Size verdicts only for frames that broke no framing rule: a 2^53-byte ping is a control
    // frame over 125 bytes (1002) like any other oversized control frame.
    if (high >= 0x200000) return fail(1009); // 2^53 and more (with row C: the top bit too)
    if (data && messageLengthAfter(opcode, messageLength, length) > max) return fail(1009);
    if (n - p < headerLength) return events;
    const key = masked ? bytes.subarray(p + headerLength - 4, p + headerLength) : null;
    const payloadStart = p + headerLength;
    const available = Math.min(length, n - payloadStart);
    const payload = bytes.slice(payloadStart, payloadStart + available);
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    if (control) {
      if (available < length) return events;
      if (opcode === 9) events.push(`ping:${hex(payload)}`);
      else if (opcode === 10) events.push(`pong:${hex(payload)}`);
      else {
        if (length === 1) return fail(1002);
        if (length === 0) {
          events.push('close:1005:');
          return events;
        }
        const code = (payload[0] << 8) | payload[1];
        if (!validCloseCode(code, f)) return fail(1002);
        if (!isValidUtf8Reference(payload.subarray(2))) return fail(1007);
        events.push(`close:${code}:${hex(payload, 2)}`);
        return events;
      }
    } else {
      if (opcode !== 0) {
        inMessage = true;
        messageText = opcode === 1;
        messageLength = 0;
        parts = [];
        decoder = new TextDecoder('utf-8', { fatal: true });
      }
      messageLength += length;
      if (!f.B && messageText) {
        // Row B: fail-fast, as the bytes arrive.
        try {
          decoder.decode(payload, { stream: true });
        } catch {
          return fail(1007);
        }
      }
      if (available < length) return events;
      parts.push(payload);
      if (fin) {
        const whole = concatBytes(parts);
        if (messageText) {
          if (!f.B) {
            try {
              decoder.decode();
            } catch {
              return fail(1007);
            }
          } else if (!isValidUtf8Reference(whole)) return fail(1007); // row B: whole message
        }
        events.push(`message:${messageText ? 'text' : 'binary'}:${hex(whole)}`);
        inMessage = false;
      }
    }
    p = payloadStart + length;
  }
}

/** The rows that, switched alone to ws's behaviour, change our verdict on this input. */
function rowsThatMatter(bytes: Uint8Array, role: Role, max: number): DiffRow[] {
  const base = JSON.stringify(reference(bytes, role, max, OURS));
  return WS_DIFFERENCES.filter((row) => JSON.stringify(reference(bytes, role, max, { ...OURS, [row]: true })) !== base);
}

/** Pairs of rows that only together change our verdict (e.g. D+E: a truncated ping header in the 16-bit form). */
function rowPairsThatMatter(bytes: Uint8Array, role: Role, max: number): string[] {
  const base = JSON.stringify(reference(bytes, role, max, OURS));
  const pairs: string[] = [];
  for (const a of WS_DIFFERENCES) {
    for (const b of WS_DIFFERENCES) {
      if (a < b && JSON.stringify(reference(bytes, role, max, { ...OURS, [a]: true, [b]: true })) !== base) pairs.push(`${a}&${b}`);
    }
  }
  return pairs;
}

function messageLengthAfter(opcode: number, before: number, length: number): number {
  return (opcode === 0 ? before : 0) + length;
}

// ---------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------

interface CorpusCase {
  name: string;
  role: Role;
  bytes: Uint8Array;
  /** maxMessageSize = ws maxPayload. Default 1000. */
  max?: number;
  /** Our expected first error code (null: none). */
  ours: number | null;
  /** Set when ws legitimately differs: the table row and ws's first error code (null: none). */
  ws?: { row: DiffRow; code: number | null };
}

const S: Role = 'server';
const C: Role = 'client';
/** A frame as a client sends it to a server (masked). */
const toServer = (f: Omit<RawFrame, 'mask'>): Uint8Array => frame({ ...f, mask: KEY });
/** A frame as a server sends it to a client (unmasked). */
const toClient = (f: Omit<RawFrame, 'mask'>): Uint8Array => frame({ ...f, mask: null });
const cat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);


const corpus: CorpusCase[] = [
  // --- valid ---------------------------------------------------------------------------------
  { name: 'text "Hello" masked to a server', role: S, bytes: toServer({ opcode: 1, payload: utf8('Hello') }), ours: null },
  { name: 'binary unmasked to a client', role: C, bytes: toClient({ opcode: 2, payload: filler(40, 1) }), ours: null },
  { name: 'zero mask key', role: S, bytes: frame({ opcode: 1, payload: utf8('zero key'), mask: new Uint8Array(4) }), ours: null },
  {
    name: 'fragmented text, multibyte split across fragments, ping and pong between',
    role: S,
    bytes: cat(
      toServer({ opcode: 1, fin: false, payload: Uint8Array.of(0x48, 0xf0, 0x9f) }),
      toServer({ opcode: 9, payload: utf8('p') }),
      toServer({ opcode: 0, fin: false, payload: Uint8Array.of(0x98) }),
      toServer({ opcode: 10, payload: new Uint8Array(0) }),
      toServer({ opcode: 0, payload: Uint8Array.of(0x80, 0xc3, 0xa9) }),
    ),
    ours: null,
  },
  {
    name: 'empty messages and empty fragments',
    role: C,
    bytes: cat(
      toClient({ opcode: 1 }),
      toClient({ opcode: 2 }),
      toClient({ opcode: 1, fin: false }),
      toClient({ opcode: 0, fin: false }),
      toClient({ opcode: 0 }),
    ),
    ours: null,
  },
  { name: 'ping with 125 bytes', role: S, bytes: toServer({ opcode: 9, payload: filler(125, 2) }), ours: null },
  { name: 'close 1000 "bye"', role: S, bytes: toServer({ opcode: 8, payload: closePayload(1000, utf8('bye')) }), ours: null },
  { name: 'empty close (1005)', role: C, bytes: toClient({ opcode: 8 }), ours: null },
  { name: 'close 1011 with multibyte reason', role: C, bytes: toClient({ opcode: 8, payload: closePayload(1011, utf8('€😀')) }), ours: null },
  { name: 'close 3000', role: S, bytes: toServer({ opcode: 8, payload: closePayload(3000) }), ours: null },
  { name: 'close 4999', role: S, bytes: toServer({ opcode: 8, payload: closePayload(4999) }), ours: null },
  { name: 'close 1007 reason 123 bytes', role: C, bytes: toClient({ opcode: 8, payload: closePayload(1007, utf8('x'.repeat(123))) }), ours: null },
  { name: 'bytes after a close frame are ignored', role: C, bytes: cat(toClient({ opcode: 8 }), Uint8Array.of(0xff, 0xff, 0xff)), ours: null },
  ...[125, 126, 127, 65535, 65536].map(
    (len): CorpusCase => ({ name: `binary of ${len} bytes`, role: S, max: 70000, bytes: toServer({ opcode: 2, payload: filler(len, len) }), ours: null }),
  ),
  { name: 'data frame, 16-bit form for 5 bytes (non-minimal)', role: S, bytes: toServer({ opcode: 1, payload: utf8('short'), form: '16' }), ours: null },
  { name: 'data frame, 64-bit form for 5 bytes (non-minimal)', role: C, bytes: toClient({ opcode: 2, payload: utf8('short'), form: '64' }), ours: null },
  { name: 'message exactly maxMessageSize', role: S, max: 100, bytes: toServer({ opcode: 2, payload: filler(100, 3) }), ours: null },
  {
    name: 'fragmented message exactly maxMessageSize, pings do not count',
    role: S,
    max: 100,
    bytes: cat(
      toServer({ opcode: 2, fin: false, payload: filler(60, 4) }),
      toServer({ opcode: 9, payload: filler(125, 5) }),
      toServer({ opcode: 0, payload: filler(40, 6) }),
    ),
    ours: null,
  },
  { name: 'text with U+10FFFF and U+FFFF', role: C, bytes: toClient({ opcode: 1, payload: utf8('\u{10ffff}\uffff\u0800') }), ours: null },

  // --- RSV bits ------------------------------------------------------------------------------
  ...[1, 2, 4, 7].map((rsv): CorpusCase => ({ name: `RSV ${rsv.toString(2).padStart(3, '0')} on text`, role: S, bytes: toServer({ opcode: 1, rsv, payload: utf8('x') }), ours: 1002 })),
  { name: 'RSV1 on a ping', role: C, bytes: toClient({ opcode: 9, rsv: 4 }), ours: 1002 },
  {
    name: 'RSV2 on a continuation',
    role: C,
    bytes: cat(toClient({ opcode: 2, fin: false, payload: utf8('a') }), toClient({ opcode: 0, rsv: 2, payload: utf8('b') })),
    ours: 1002,
  },

  // --- opcodes -------------------------------------------------------------------------------
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): CorpusCase => ({ name: `reserved opcode ${op}`, role: S, bytes: toServer({ opcode: op, payload: utf8('x') }), ours: 1002 })),
  {
    name: 'reserved opcode 3 inside a fragmented message',
    role: C,
    bytes: cat(toClient({ opcode: 1, fin: false, payload: utf8('a') }), toClient({ opcode: 3 })),
    ours: 1002,
  },

  // --- control frames ------------------------------------------------------------------------
  { name: 'ping with 126 bytes', role: S, bytes: toServer({ opcode: 9, payload: filler(126, 7) }), ours: 1002 },
  { name: 'pong with 65536 bytes', role: C, max: 70000, bytes: toClient({ opcode: 10, payload: filler(65536, 8) }), ours: 1002 },
  { name: 'close with 126 bytes', role: C, bytes: toClient({ opcode: 8, payload: closePayload(1000, utf8('x'.repeat(124))) }), ours: 1002 },
  { name: 'fragmented ping (FIN clear)', role: S, bytes: toServer({ opcode: 9, fin: false, payload: utf8('p') }), ours: 1002 },
  { name: 'fragmented close (FIN clear)', role: C, bytes: toClient({ opcode: 8, fin: false, payload: closePayload(1000) }), ours: 1002 },
  {
    name: 'fragmented pong inside a fragmented message',
    role: S,
    bytes: cat(toServer({ opcode: 2, fin: false, payload: utf8('a') }), toServer({ opcode: 10, fin: false })),
    ours: 1002,
  },

  // --- fragmentation -------------------------------------------------------------------------
  { name: 'continuation without a message', role: S, bytes: toServer({ opcode: 0, payload: utf8('x') }), ours: 1002 },
  {
    name: 'continuation after a finished message',
    role: C,
    bytes: cat(toClient({ opcode: 1, payload: utf8('done') }), toClient({ opcode: 0, payload: utf8('x') })),
    ours: 1002,
  },
  {
    name: 'new text frame inside a fragmented message',
    role: S,
    bytes: cat(toServer({ opcode: 1, fin: false, payload: utf8('a') }), toServer({ opcode: 1, payload: utf8('b') })),
    ours: 1002,
  },
  {
    name: 'new binary frame inside a fragmented text message',
    role: C,
    bytes: cat(toClient({ opcode: 1, fin: false, payload: utf8('a') }), toClient({ opcode: 2, payload: utf8('b') })),
    ours: 1002,
  },

  // --- mask direction ------------------------------------------------------------------------
  { name: 'unmasked frame to a server', role: S, bytes: toClient({ opcode: 1, payload: utf8('x') }), ours: 1002 },
  { name: 'masked frame to a client (ws rejects too)', role: C, bytes: toServer({ opcode: 1, payload: utf8('x') }), ours: 1002 },
  { name: 'masked ping to a client', role: C, bytes: toServer({ opcode: 9 }), ours: 1002 },
  { name: 'unmasked empty close to a server', role: S, bytes: toClient({ opcode: 8 }), ours: 1002 },

  // --- close frames --------------------------------------------------------------------------
  { name: '1-byte close payload', role: S, bytes: toServer({ opcode: 8, payload: Uint8Array.of(0x03) }), ours: 1002 },
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].map(
    (code): CorpusCase => ({ name: `close code ${code}`, role: C, bytes: toClient({ opcode: 8, payload: closePayload(code) }), ours: 1002 }),
  ),
  { name: 'close reason with invalid UTF-8', role: S, bytes: toServer({ opcode: 8, payload: closePayload(1000, Uint8Array.of(0x61, 0xff)) }), ours: 1007 },
  { name: 'close reason ending in a truncated sequence', role: C, bytes: toClient({ opcode: 8, payload: closePayload(1001, Uint8Array.of(0xe2, 0x82)) }), ours: 1007 },
  { name: 'close reason with an encoded surrogate', role: C, bytes: toClient({ opcode: 8, payload: closePayload(3000, Uint8Array.of(0xed, 0xa0, 0x80)) }), ours: 1007 },

  // --- invalid UTF-8 in text (single frame / at the end: same verdict as ws) ------------------
  ...(
    [
      ['overlong C0 AF', [0xc0, 0xaf]],
      ['overlong E0 80 AF', [0xe0, 0x80, 0xaf]],
      ['surrogate ED A0 80', [0xed, 0xa0, 0x80]],
      ['above U+10FFFF F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]],
      ['F5 lead byte', [0x41, 0xf5, 0x80, 0x80, 0x80]],
      ['lone continuation', [0x80]],
      ['truncated at the end', [0x41, 0xe2, 0x82]],
    ] as Array<[string, number[]]>
  ).map((entry): CorpusCase => ({ name: `text: ${entry[0]}`, role: S, bytes: toServer({ opcode: 1, payload: Uint8Array.from(entry[1]) }), ours: 1007 })),
  {
    name: 'text fragments that end inside a sequence',
    role: C,
    bytes: cat(toClient({ opcode: 1, fin: false, payload: utf8('ok') }), toClient({ opcode: 0, payload: Uint8Array.of(0xf0, 0x9f, 0x98) })),
    ours: 1007,
  },
  {
    name: 'invalid byte in the last fragment',
    role: S,
    bytes: cat(toServer({ opcode: 1, fin: false, payload: Uint8Array.of(0xce, 0xba) }), toServer({ opcode: 0, payload: Uint8Array.of(0xed, 0xa0, 0x80) })),
    ours: 1007,
  },
  { name: 'binary with invalid UTF-8 is fine', role: S, bytes: toServer({ opcode: 2, payload: Uint8Array.of(0xff, 0xfe, 0xc0) }), ours: null },

  // --- sizes ---------------------------------------------------------------------------------
  { name: 'frame of maxMessageSize + 1', role: S, max: 100, bytes: toServer({ opcode: 2, payload: filler(101, 9) }), ours: 1009 },
  {
    name: 'fragments summing to maxMessageSize + 1',
    role: C,
    max: 100,
    bytes: cat(toClient({ opcode: 1, fin: false, payload: utf8('a'.repeat(50)) }), toClient({ opcode: 0, payload: utf8('b'.repeat(51)) })),
    ours: 1009,
  },
  {
    name: 'a message after a full-size one still fits',
    role: S,
    max: 10,
    bytes: cat(toServer({ opcode: 2, payload: filler(10, 1) }), toServer({ opcode: 2, payload: filler(10, 2) }), toServer({ opcode: 2, payload: filler(11, 3) })),
    ours: 1009,
  },
  { name: '64-bit length 2^32 on a binary frame', role: C, bytes: toClient({ opcode: 2, declared64: [1, 0] }), ours: 1009 },
  { name: '64-bit length 2^53 - 1 on a binary frame', role: C, bytes: toClient({ opcode: 2, declared64: [0x1fffff, 0xffffffff] }), ours: 1009 },
  { name: '64-bit length 2^53 on a binary frame', role: S, bytes: toServer({ opcode: 2, declared64: [0x200000, 0] }), ours: 1009 },
  { name: '64-bit length with the top bit on a ping (1002 both)', role: C, bytes: toClient({ opcode: 9, declared64: [0x80000000, 5] }), ours: 1002 },
  { name: '64-bit length 2^40 on a ping (1002 both)', role: C, bytes: toClient({ opcode: 9, declared64: [0x100, 0] }), ours: 1002 },
  { name: '64-bit length 2^53 - 1 on a pong (1002 both)', role: S, bytes: toServer({ opcode: 10, declared64: [0x1fffff, 0xffffffff] }), ours: 1002 },

  // --- Sizes >= 2^53 on frames that also break a framing rule. RFC 6455 5.5 / 5.2: a protocol
  // error (1002), like the same frames with any other length; ws agrees. Regression tests: before
  // commit 746d3b0 the parser answered 1009 here (its 2^53 check ran before the framing checks).
  // -----------------------------------------------------------------------------------------------
  { name: '64-bit length 2^53 on a ping', role: C, bytes: toClient({ opcode: 9, declared64: [0x200000, 0] }), ours: 1002 },
  { name: '64-bit length 2^60 on a close', role: S, bytes: toServer({ opcode: 8, declared64: [0x10000000, 0] }), ours: 1002 },
  { name: '64-bit length 2^53 on a reserved opcode', role: C, bytes: toClient({ opcode: 3, declared64: [0x200000, 0] }), ours: 1002 },
  { name: '64-bit length 2^53 on an unmasked frame to a server', role: S, bytes: toClient({ opcode: 2, declared64: [0x200000, 0] }), ours: 1002 },
  { name: '64-bit length 2^53 on a continuation without a message', role: C, bytes: toClient({ opcode: 0, declared64: [0x7fffffff, 0] }), ours: 1002 },

  // --- Row A: close codes 1012-1014 ----------------------------------------------------------
  ...[1012, 1013, 1014].map(
    (code): CorpusCase => ({ name: `close code ${code}`, role: C, bytes: toClient({ opcode: 8, payload: closePayload(code) }), ours: 1002, ws: { row: 'A', code: null } }),
  ),

  // --- Row B: UTF-8 fail-fast ----------------------------------------------------------------
  {
    name: 'invalid UTF-8 in the first fragment, then a reserved opcode',
    role: S,
    bytes: cat(toServer({ opcode: 1, fin: false, payload: Uint8Array.of(0xff) }), toServer({ opcode: 5 })),
    ours: 1007,
    ws: { row: 'B', code: 1002 },
  },
  {
    name: 'invalid UTF-8 in the first fragment, then a ping, then the end',
    role: C,
    bytes: cat(toClient({ opcode: 1, fin: false, payload: Uint8Array.of(0xc0, 0x80) }), toClient({ opcode: 9, payload: utf8('p') }), toClient({ opcode: 0 })),
    ours: 1007,
    ws: { row: 'B', code: 1007 }, // same code, but ws delivers the ping first
  },
  {
    name: 'invalid UTF-8 in the first fragment, then too big',
    role: S,
    max: 20,
    bytes: cat(toServer({ opcode: 1, fin: false, payload: Uint8Array.of(0xed, 0xa0, 0x80) }), toServer({ opcode: 0, payload: filler(30, 1) })),
    ours: 1007,
    ws: { row: 'B', code: 1009 },
  },
  {
    name: 'invalid UTF-8 in the first fragment, then a close frame',
    role: C,
    bytes: cat(toClient({ opcode: 1, fin: false, payload: Uint8Array.of(0xf8) }), toClient({ opcode: 8, payload: closePayload(1000) })),
    ours: 1007,
    ws: { row: 'B', code: null },
  },
  {
    name: 'invalid UTF-8 in a frame whose payload is still incomplete',
    role: S,
    bytes: toServer({ opcode: 1, payload: cat(Uint8Array.of(0x61, 0xff), filler(50, 1)) }).subarray(0, 10),
    ours: 1007,
    ws: { row: 'B', code: null },
  },

  // --- Row C: 64-bit length with the top bit set --------------------------------------------
  { name: '64-bit length with the top bit set on a binary frame', role: S, bytes: toServer({ opcode: 2, declared64: [0x80000000, 0] }), ours: 1002, ws: { row: 'C', code: 1009 } },
  { name: '64-bit length 2^64 - 1 on a text frame', role: C, bytes: toClient({ opcode: 1, declared64: [0xffffffff, 0xffffffff] }), ours: 1002, ws: { row: 'C', code: 1009 } },

  // --- Row D: non-minimal length on control frames -------------------------------------------
  { name: 'ping with a 16-bit length of 5', role: S, bytes: toServer({ opcode: 9, payload: utf8('hello'), form: '16' }), ours: null, ws: { row: 'D', code: 1002 } },
  { name: 'close with a 64-bit length of 2', role: C, bytes: toClient({ opcode: 8, payload: closePayload(1000), form: '64' }), ours: null, ws: { row: 'D', code: 1002 } },
  { name: 'pong with a 16-bit length of 125', role: C, bytes: toClient({ opcode: 10, payload: filler(125, 3), form: '16' }), ours: null, ws: { row: 'D', code: 1002 } },

  // --- Row E: truncated headers ---------------------------------------------------------------
  { name: 'RSV1 header, mask key not yet in', role: S, bytes: Uint8Array.of(0xc1, 0x85, 0x01), ours: null, ws: { row: 'E', code: 1002 } },
  { name: 'reserved opcode, 16-bit length not yet in', role: C, bytes: Uint8Array.of(0x83, 0x7e), ours: null, ws: { row: 'E', code: 1002 } },
  { name: '1-byte close, payload not yet in', role: C, bytes: Uint8Array.of(0x88, 0x01), ours: null, ws: { row: 'E', code: 1002 } },
];

// ---------------------------------------------------------------------------------------------
// Corpus tests
// ---------------------------------------------------------------------------------------------

describe('differential corpus: ours vs ws Receiver', () => {
  for (const c of corpus) {
    const max = c.max ?? 1000;
    it(`${c.ws ? `[ws differs, row ${c.ws.row}] ` : ''}${c.name}`, async () => {
      const mine = ours(c.bytes, c.role, max);
      const theirs = await wsVerdict(c.bytes, c.role, max);
      // Our documented verdict, stated in the corpus.
      expect(errorCode(mine)).toBe(c.ours);
      // Stream mode reaches the same verdict.
      expect(ours(c.bytes, c.role, max, 'stream')).toEqual(mine);
      // So does a parser that may unmask in its input (as SocketLink's is).
      expect(ours(c.bytes, c.role, max, 'message', true)).toEqual(mine);
      expect(ours(c.bytes, c.role, max, 'stream', true)).toEqual(mine);
      // The reference decoder agrees with both sides (keeps the model honest for the fuzzing below).
      expect(reference(c.bytes, c.role, max, OURS)).toEqual(mine);
      expect(reference(c.bytes, c.role, max, WS)).toEqual(theirs);
      if (!c.ws) {
        expect(mine).toEqual(theirs);
        expect(rowsThatMatter(c.bytes, c.role, max)).toEqual([]);
      } else {
        expect(errorCode(theirs)).toBe(c.ws.code);
        expect(mine).not.toEqual(theirs);
        // The difference is the one of the stated row (and that row alone).
        expect(rowsThatMatter(c.bytes, c.role, max)).toEqual([c.ws.row]);
        expect(reference(c.bytes, c.role, max, { ...OURS, [c.ws.row]: true })).toEqual(theirs);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Random valid / invalid frame streams
// ---------------------------------------------------------------------------------------------

const unicodeUnit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
);
const validTextArb = fc.string({ unit: unicodeUnit, maxLength: 30, size: 'max' }).map(utf8);
const badBytesArb = fc.constantFrom(
  Uint8Array.of(0xff),
  Uint8Array.of(0x80),
  Uint8Array.of(0xc0, 0xaf),
  Uint8Array.of(0xe0, 0x80, 0xaf),
  Uint8Array.of(0xed, 0xa0, 0x80),
  Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
  Uint8Array.of(0xe2, 0x82), // truncated: invalid only if nothing completes it
  Uint8Array.of(0xf0, 0x9f),
  Uint8Array.of(0x98, 0x80), // continuation bytes: may complete a truncated sequence
);
const CLOSE_CODES = [0, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 1016, 2999, 3000, 4000, 4999, 5000, 65535];

const payloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: validTextArb },
  {
    weight: 3,
    arbitrary: fc.tuple(validTextArb, badBytesArb, validTextArb, fc.boolean()).map(([a, bad, b, tail]) => (tail ? concatBytes([a, bad]) : concatBytes([a, bad, b]))),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40, size: 'max' }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 1 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...CLOSE_CODES), fc.oneof(validTextArb, fc.tuple(validTextArb, badBytesArb).map(([a, b]) => concatBytes([a, b]))))
      .map(([code, reason]) => closePayload(code, reason.subarray(0, 123))),
  },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 120, max: 300 }), fc.integer()).map(([n, seed]) => filler(n, seed)) },
);

interface FrameChoice {
  opcode: number;
  fin: boolean;
  rsv: number;
  wrongMask: boolean;
  key: Uint8Array;
  form: LengthForm;
  payload: Uint8Array;
}

const frameChoiceArb: fc.Arbitrary<FrameChoice> = fc.record({
  opcode: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(1, 2) },
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.constantFrom(8, 9, 10) },
    { weight: 1, arbitrary: fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15) },
  ),
  fin: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rsv: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  wrongMask: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  form: fc.constantFrom<LengthForm>('min', 'min', 'min', 'min', 'min', 'min', '16', '64'),
  payload: payloadArb,
});

/** A frame with only a (huge) 64-bit declared length, as the last frame of a stream. */
const hugeTailArb = (highWords: fc.Arbitrary<number>) =>
  fc.record({
    opcode: fc.constantFrom(0, 1, 2, 3, 8, 9, 10, 11),
    fin: fc.boolean(),
    rsv: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
    wrongMask: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    high: highWords,
    low: fc.integer({ min: 0, max: 0xffffffff }),
  });

type HugeTail = { opcode: number; fin: boolean; rsv: number; wrongMask: boolean; high: number; low: number };

type Cut = { kind: 'none' } | { kind: 'truncate'; at: number } | { kind: 'flip'; at: number; bit: number };
const cutArb: fc.Arbitrary<Cut> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
);

function buildRandomStream(role: Role, frames: FrameChoice[], tail: HugeTail | null, cut: Cut): Uint8Array {
  const parts = frames.map((f) => {
    const masked = (role === 'server') !== f.wrongMask;
    return frame({ opcode: f.opcode, fin: f.fin, rsv: f.rsv, payload: f.payload, mask: masked ? f.key : null, form: f.form });
  });
  if (tail) {
    const masked = (role === 'server') !== tail.wrongMask;
    parts.push(frame({ opcode: tail.opcode, fin: tail.fin, rsv: tail.rsv, mask: masked ? KEY : null, declared64: [tail.high, tail.low] }));
  }
  let bytes = concatBytes(parts);
  if (cut.kind === 'truncate') bytes = bytes.slice(0, cut.at % (bytes.length + 1));
  else if (cut.kind === 'flip' && bytes.length > 0) bytes[cut.at % bytes.length] ^= 1 << cut.bit;
  return bytes;
}

const streamArb = (tailArb: fc.Arbitrary<HugeTail | null>) =>
  fc
    .record({
      role: fc.constantFrom<Role>('client', 'server'),
      frames: fc.array(frameChoiceArb, { maxLength: 7 }),
      tail: tailArb,
      cut: cutArb,
      max: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 61, max: 400 })),
    })
    .map((r) => ({ role: r.role, max: r.max, bytes: buildRandomStream(r.role, r.frames, r.tail, r.cut) }));

/** Which rows of the table made ws and us differ, over the random runs (reported, not asserted). */
const differenceTally = new Map<string, number>();

async function compare(bytes: Uint8Array, role: Role, max: number): Promise<void> {
  const mine = ours(bytes, role, max);
  const theirs = await wsVerdict(bytes, role, max);
  const modelOurs = reference(bytes, role, max, OURS);
  const modelWs = reference(bytes, role, max, WS);
  // ws behaves as the table says ws behaves...
  expect(theirs).toEqual(modelWs);
  // ...we behave as the project documents...
  expect(mine).toEqual(modelOurs);
  expect(ours(bytes, role, max, 'stream')).toEqual(mine);
  expect(ours(bytes, role, max, 'message', true)).toEqual(mine);
  // ...and where the table's switches make no difference, ws and we agree exactly.
  if (JSON.stringify(modelOurs) === JSON.stringify(modelWs)) expect(mine).toEqual(theirs);
  else {
    // A disagreement is always owed to rows of the table.
    const rows = rowsThatMatter(bytes, role, max);
    const label = rows.length > 0 ? rows.join('+') : rowPairsThatMatter(bytes, role, max).join('|') || 'more than two rows jointly';
    const key = `${label}: ${errorCode(modelOurs)} vs ws ${errorCode(modelWs)}`;
    differenceTally.set(key, (differenceTally.get(key) ?? 0) + 1);
  }
}

describe('differential fuzzing: ours vs ws Receiver', () => {
  it('random valid/invalid frame streams (plus bit flips and truncation)', async () => {
    let agreeing = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(
        streamArb(
          fc.option(
            hugeTailArb(
              fc.oneof(fc.integer({ min: 0, max: 0x1fffff }), fc.integer({ min: 0x200000, max: 0x7fffffff }), fc.integer({ min: 0x80000000, max: 0xffffffff })),
            ),
            { nil: null, freq: 6 },
          ),
        ),
        async ({ bytes, role, max }) => {
          await compare(bytes, role, max);
          const verdict = reference(bytes, role, max, OURS);
          if (JSON.stringify(verdict) === JSON.stringify(reference(bytes, role, max, WS))) agreeing++;
          if (errorCode(verdict) !== null) errors++;
        },
      ),
      { numRuns: 2000 },
    );
    // The generator must mostly produce inputs on which both sides are judged the same way,
    // and a good share of failures.
    expect(agreeing).toBeGreaterThan(1000);
    expect(errors).toBeGreaterThan(500);
  });

  it('random streams of valid frames only: ws and we agree exactly, no error', async () => {
    const validFrameArb = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('message' as const), text: fc.boolean(), payload: validTextArb, cuts: fc.array(fc.nat(), { maxLength: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('control' as const), opcode: fc.constantFrom(9, 10), payload: fc.uint8Array({ maxLength: 125, size: 'max' }) }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Role>('client', 'server'),
        fc.array(validFrameArb, { maxLength: 6 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.constantFrom<LengthForm>('min', '16', '64'),
        async (role, items, key, dataForm) => {
          const mask = role === 'server' ? key : null;
          const parts: Uint8Array[] = [];
          for (const item of items) {
            if (item.kind === 'control') {
              parts.push(frame({ opcode: item.opcode, payload: item.payload, mask }));
              continue;
            }
            const bounds = [0, ...item.cuts.map((c) => c % (item.payload.length + 1)).sort((a, b) => a - b), item.payload.length];
            for (let f = 0; f < bounds.length - 1; f++) {
              parts.push(
                frame({
                  opcode: f === 0 ? (item.text ? 1 : 2) : 0,
                  fin: f === bounds.length - 2,
                  payload: item.payload.subarray(bounds[f], bounds[f + 1]),
                  mask,
                  form: dataForm,
                }),
              );
            }
          }
          const bytes = concatBytes(parts);
          const mine = ours(bytes, role, 1000);
          expect(errorCode(mine)).toBe(null);
          expect(mine).toEqual(await wsVerdict(bytes, role, 1000));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('64-bit lengths of 2^53 and more (top bit clear) after random frames: framing violations win over size, as in ws', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb(hugeTailArb(fc.integer({ min: 0x200000, max: 0x7fffffff })).map((t): HugeTail | null => t)),
        async ({ bytes, role, max }) => {
          await compare(bytes, role, max);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tally of the tabulated differences seen while fuzzing (informational)', () => {
    // Printed so a reviewer sees which rows the fuzzing exercised.
    console.log('ws differences seen while fuzzing, by table row (ours vs ws first error):', Object.fromEntries(differenceTally));
    // Rows A-D show up in random streams; row E needs a cut inside a header, which the
    // truncations produce as well. Informational only: no assertion on random counts.
  });
});
