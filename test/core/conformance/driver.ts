// The conformance driver: opens a WebSocketConnection of either role without a
// network (hand-made upgrade request / 101 response), drives it with frames built by
// the independent test peer, a seeded random source and a fake clock, records every
// handler event and every written byte, and checks each case as data:
// inbound steps -> expected events, expected outbound frames, fail-fast position.
//
// Every case runs against a server-side connection (the peer masks, as a client must)
// and a client-side connection (the peer does not mask, as a server must), and every
// inbound case is delivered whole, byte by byte and split at a seeded random point;
// all deliveries must give identical results.

import { test, fail } from '../../harness';
import { WebSocketConnection } from '../../../src/websocket/connection';
import type { ConnectionOptions } from '../../../src/websocket/connection';
import { acceptKey } from '../../../src/websocket/handshake';
import type { Role } from '../../../src/websocket/parser';
import {
  OP,
  XorShift,
  closePayload,
  decodeFrames,
  frame,
  join,
  payloadBytes,
  renderBytes,
  renderFrame,
  renderText,
  seedOf,
  toHex,
  utf8,
} from './peer';
import type { DecodedFrame, FrameSpec } from './peer';

export type { Role };
export type Delivery = 'whole' | 'bytes' | 'split' | 'chunks997';

export const ROLES: readonly Role[] = ['server', 'client'];
const DEFAULT_DELIVERIES: readonly Delivery[] = ['whole', 'bytes', 'split'];

/** A frame the peer sends. Masking follows the connection's role unless `masking: 'wrong'`. */
export interface PeerFrame extends Omit<FrameSpec, 'mask'> {
  /** 'auto' (default): masked toward a server-side connection, unmasked toward a client-side one. */
  masking?: 'auto' | 'wrong';
  /** The key used when this frame is masked (default: a fresh key from the peer's PRNG). */
  key?: Uint8Array;
}

export type Step =
  | { frames: PeerFrame[] }
  | { raw: Uint8Array | ((role: Role) => Uint8Array) }
  | { act: (conn: WebSocketConnection, driver: Driver) => unknown }
  | { advance: number }
  | { transportClosed: true };

export type PerRole<T> = T | ((role: Role) => T);

/** Application callbacks that a case can make throw. */
export type AppHandler = 'message' | 'chunk' | 'ping' | 'pong' | 'close';

export interface Case {
  id: string;
  title: string;
  /** Connection options (role, clock and random are supplied by the driver). */
  options?: Omit<Partial<ConnectionOptions>, 'role' | 'now' | 'random'>;
  /** Echo each whole message back (Autobahn's echo application). Default true. */
  echo?: boolean;
  /**
   * Deliver the first step (frames) in the same read as the end of the opening
   * handshake (after the request on a server, after the 101 response on a client).
   */
  coalesce?: boolean;
  /** The application's message/chunk/ping handler throws on its n-th call (1-based). */
  throwOn?: { handler: AppHandler; call: number };
  /** Application code run in the message handler (after the echo). */
  onMessage?: (conn: WebSocketConnection) => void;
  steps: Step[];
  /**
   * Expected handler events after the handshake, in order. An entry ending in '*'
   * matches by prefix. 'end@server' / 'end@client' mean 'end' for that role only.
   */
  events: PerRole<string[]>;
  /** Expected outbound frames (rendered by renderFrame), same matching rules. */
  out: PerRole<string[]>;
  /** Other acceptable outcomes (when the specification leaves a choice). */
  alternatives?: ReadonlyArray<{ events: string[]; out: string[] }>;
  /**
   * Events produced once the clock is advanced far past every deadline. Default:
   * ['end'] for a client-side connection after a clean close it did not end yet, else [].
   */
  settle?: PerRole<string[]>;
  /**
   * Fail-fast position, checked in the byte-by-byte delivery: our close frame must be
   * written right after this inbound byte. `frame` indexes the case's peer frames in
   * order; `payload` is an offset in that frame's payload. Without `payload` the close
   * must come within the frame's header (somewhere from its first to its last byte).
   */
  failAt?: { frame: number; payload?: number };
  /** Default whole, bytes, split. */
  deliveries?: readonly Delivery[];
  /** Extra assertions on one run. */
  check?: (result: RunResult, role: Role) => void;
  /** Default both. */
  roles?: readonly Role[];
}

export interface RunResult {
  delivery: Delivery;
  /** Events recorded during the steps. */
  events: string[];
  /** Events recorded while settling (clock advanced past every deadline). */
  settle: string[];
  /** Outbound frames written after the handshake. */
  frames: DecodedFrame[];
  out: string[];
  /** Bytes of an incomplete trailing outbound frame. */
  rest: number;
  /** Bytes delivery: global inbound index after which our first close frame was written, else -1. */
  closeAt: number;
  /** Ready state after the steps. */
  state: number;
  /** nextTimeout() after settling. */
  nextTimeout: number;
  /** Values returned by act steps, in order. */
  returns: unknown[];
}

// --- Expectation helpers -----------------------------------------------------------

/** Expected handler events. */
export const ev = {
  text: (s: string | Uint8Array): string => `text ${renderText(payloadBytes(s))}`,
  binary: (b: Uint8Array): string => `binary ${renderBytes(b)}`,
  ping: (b: Uint8Array | string = ''): string => `ping ${renderBytes(payloadBytes(b))}`,
  pong: (b: Uint8Array | string = ''): string => `pong ${renderBytes(payloadBytes(b))}`,
  close: (code: number, reason: string, wasClean: boolean): string => `close ${code} ${wasClean} ${JSON.stringify(reason)}`,
  /** A failed connection: close event with this code, wasClean false, any reason. */
  fail: (code: number): string => `close ${code} false *`,
  stream: (type: 'text' | 'binary', b: Uint8Array | string): string =>
    `stream ${type} ${type === 'text' ? renderText(payloadBytes(b)) : renderBytes(payloadBytes(b))}`,
  partial: (type: 'text' | 'binary', b: Uint8Array | string): string =>
    `partial ${type} ${type === 'text' ? renderText(payloadBytes(b)) : renderBytes(payloadBytes(b))}`,
};

/** Expected outbound frames. */
export const out = {
  text: (s: string | Uint8Array, fin = true): string => renderFrame({ fin, opcode: OP.text, payload: payloadBytes(s) }),
  binary: (b: Uint8Array, fin = true): string => renderFrame({ fin, opcode: OP.binary, payload: b }),
  cont: (b: Uint8Array | string, fin = true): string => renderFrame({ fin, opcode: OP.cont, payload: payloadBytes(b) }),
  ping: (b: Uint8Array | string = ''): string => renderFrame({ fin: true, opcode: OP.ping, payload: payloadBytes(b) }),
  pong: (b: Uint8Array | string = ''): string => renderFrame({ fin: true, opcode: OP.pong, payload: payloadBytes(b) }),
  close: (code?: number, reason = ''): string => renderFrame({ fin: true, opcode: OP.close, payload: closePayload(code, reason) }),
  /** Our failing close frame: this code, any reason. */
  fail: (code: number): string => `close ${code}*`,
};

/** Events of a connection failed with `code` (close event, then the transport ends, as failed). */
export function failed(code: number): string[] {
  return [ev.fail(code), 'end failed'];
}

/** Events of a clean close started by the peer: the server ends TCP at once, a client waits. */
export function closedClean(code: number, reason = ''): string[] {
  return [ev.close(code, reason, true), 'end@server'];
}

// --- Peer frame helpers ---------------------------------------------------------------

type Extra = Partial<Omit<PeerFrame, 'opcode' | 'payload'>>;

export const F = {
  text: (payload: Uint8Array | string = '', extra: Extra = {}): PeerFrame => ({ opcode: OP.text, payload, ...extra }),
  binary: (payload: Uint8Array | string = new Uint8Array(0), extra: Extra = {}): PeerFrame => ({ opcode: OP.binary, payload, ...extra }),
  cont: (payload: Uint8Array | string = '', extra: Extra = {}): PeerFrame => ({ opcode: OP.cont, payload, ...extra }),
  ping: (payload: Uint8Array | string = '', extra: Extra = {}): PeerFrame => ({ opcode: OP.ping, payload, ...extra }),
  pong: (payload: Uint8Array | string = '', extra: Extra = {}): PeerFrame => ({ opcode: OP.pong, payload, ...extra }),
  close: (code?: number, reason: string | Uint8Array = '', extra: Extra = {}): PeerFrame => ({
    opcode: OP.close,
    payload: closePayload(code, reason),
    ...extra,
  }),
  op: (opcode: number, payload: Uint8Array | string = '', extra: Extra = {}): PeerFrame => ({ opcode, payload, ...extra }),
};

// --- The driver ---------------------------------------------------------------------

const SERVER_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455 section 1.3
const SERVER_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const UPGRADE_REQUEST =
  'GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  `Sec-WebSocket-Key: ${SERVER_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

const acceptCache: Record<string, string> = {};

function latin1Of(text: string): Uint8Array {
  const outBytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) outBytes[i] = text.charCodeAt(i) & 0xff;
  return outBytes;
}

function textOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

interface StreamState {
  type: string;
  parts: Uint8Array[];
}

/** An opened connection of one role, with a recorder, a fake clock and a seeded random source. */
export class Driver {
  readonly role: Role;
  readonly conn: WebSocketConnection;
  clock = 1_000_000;
  events: string[] = [];
  private written: Uint8Array[] = [];
  private writtenLength = 0;
  private decodedAt = -1;
  private closeWritten = false;
  private stream: StreamState | null = null;
  private readonly chunkSize: number;

  constructor(role: Role, options: Case['options'] = {}, echo = true, seed = 1, extra: { coalesced?: Uint8Array; throwOn?: Case['throwOn']; onMessage?: Case['onMessage'] } = {}) {
    this.role = role;
    const calls: Record<string, number> = { message: 0, chunk: 0, ping: 0, pong: 0, close: 0 };
    const maybeThrow = (handler: AppHandler): void => {
      calls[handler]++;
      if (extra.throwOn && extra.throwOn.handler === handler && extra.throwOn.call === calls[handler]) {
        throw new Error(`application ${handler} handler failure`);
      }
    };
    const rng = new XorShift(seed);
    const connOptions: ConnectionOptions = {
      ...options,
      role,
      now: () => this.clock,
      random: (outBytes) => rng.fill(outBytes),
    };
    this.chunkSize = options.chunkSize ?? 1024;
    const conn: WebSocketConnection = new WebSocketConnection(connOptions, {
      write: (data, start, end) => {
        if (end > start) {
          this.written.push(data.slice(start, end));
          this.writtenLength += end - start;
        }
      },
      // 'end failed': failed with a close frame, the link is to drain the peer's input first.
      end: (failed) => this.events.push(failed ? 'end failed' : 'end'),
      open: (protocol) => this.events.push(`open ${JSON.stringify(protocol)}`),
      message: (type, data, start, end) => {
        this.events.push(type === 'text' ? `text ${renderText(data.subarray(start, end))}` : `binary ${renderBytes(data.subarray(start, end))}`);
        if (echo) {
          if (type === 'text') conn.sendTextBytes(data, start, end);
          else conn.sendBinary(data, start, end);
        }
        if (extra.onMessage) extra.onMessage(conn);
        maybeThrow('message');
      },
      chunk: (type, data, start, end, first, last) => {
        this.onChunk(type, data.slice(start, end), first, last);
        maybeThrow('chunk');
      },
      ping: (data, start, end) => {
        this.events.push(`ping ${renderBytes(data.subarray(start, end))}`);
        maybeThrow('ping');
      },
      pong: (data, start, end) => {
        this.events.push(`pong ${renderBytes(data.subarray(start, end))}`);
        maybeThrow('pong');
      },
      error: (error) => this.events.push(`error ${error instanceof Error ? error.message : String(error)}`),
      close: (code, reason, wasClean) => {
        if (this.stream) {
          const s = this.stream;
          this.stream = null;
          const bytes = join(s.parts);
          this.events.push(`partial ${s.type} ${s.type === 'text' ? renderText(bytes) : renderBytes(bytes)}`);
        }
        this.events.push(`close ${code} ${wasClean} ${JSON.stringify(reason)}`);
        maybeThrow('close');
      },
    });
    this.conn = conn;
    this.handshake(extra.coalesced);
  }

  private onChunk(type: string, bytes: Uint8Array, first: boolean, last: boolean): void {
    if (bytes.length > this.chunkSize) this.events.push(`!chunk of ${bytes.length} bytes over chunkSize ${this.chunkSize}`);
    if (bytes.length === 0 && !(last || first)) this.events.push('!empty chunk in the middle of a message');
    if (first) {
      if (this.stream) this.events.push('!first chunk while a message is open');
      this.stream = { type, parts: [] };
    } else if (!this.stream) {
      this.events.push('!non-first chunk without a message');
      this.stream = { type, parts: [] };
    }
    const s = this.stream;
    if (s.type !== type) this.events.push(`!chunk type changed from ${s.type} to ${type}`);
    s.parts.push(bytes);
    if (last) {
      this.stream = null;
      const all = join(s.parts);
      this.events.push(`stream ${s.type} ${s.type === 'text' ? renderText(all) : renderBytes(all)}`);
    }
  }

  private handshake(coalesced?: Uint8Array): void {
    const conn = this.conn;
    const more = coalesced ?? new Uint8Array(0);
    if (this.role === 'server') {
      conn.startServer();
      this.receive(join([latin1Of(UPGRADE_REQUEST), more]));
      const written = this.output();
      const all = textOf(written);
      const headEnd = all.indexOf('\r\n\r\n') + 4;
      const response = all.slice(0, headEnd);
      if (response.indexOf('HTTP/1.1 101 ') !== 0) fail(`server handshake: not a 101 response: ${JSON.stringify(all)}`);
      if (response.indexOf(`\r\nSec-WebSocket-Accept: ${SERVER_ACCEPT}\r\n`) < 0) fail(`server handshake: wrong accept: ${JSON.stringify(response)}`);
      this.written = [written.slice(headEnd)];
      this.writtenLength = written.length - headEnd;
    } else {
      conn.startClient({ host: 'example.com', port: 80, path: '/' });
      const request = textOf(this.output());
      if (request.indexOf('GET / HTTP/1.1\r\n') !== 0) fail(`client handshake: bad request line: ${JSON.stringify(request)}`);
      const m = /\r\nSec-WebSocket-Key: ([A-Za-z0-9+/=]+)\r\n/.exec(request);
      if (!m) fail(`client handshake: no key in ${JSON.stringify(request)}`);
      const key = m[1];
      const accept = acceptCache[key] ?? (acceptCache[key] = acceptKey(key));
      this.written = [];
      this.writtenLength = 0;
      this.receive(
        join([
          latin1Of(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`),
          more,
        ]),
      );
    }
    if (this.events[0] !== 'open ""') fail(`${this.role} handshake: events ${JSON.stringify(this.events)}`);
    this.events.shift();
    if (!coalesced && conn.state !== 1) fail(`${this.role} handshake: state ${conn.state}`);
  }

  /** conn.receive, recording an exception thrown out of it (application handlers may throw). */
  receive(data: Uint8Array, start = 0, end = data.length): void {
    try {
      this.conn.receive(data, start, end);
    } catch (error) {
      this.events.push(`threw ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Everything written since the handshake. */
  output(): Uint8Array {
    if (this.written.length !== 1) {
      const all = join(this.written);
      this.written = [all];
    }
    return this.written[0] ?? new Uint8Array(0);
  }

  /** True once a complete close frame has been written (decodes only when output grew). */
  closeFrameWritten(): boolean {
    if (this.closeWritten) return true;
    if (this.decodedAt === this.writtenLength) return false;
    this.decodedAt = this.writtenLength;
    const { frames } = decodeFrames(this.output());
    for (const f of frames) if (f.opcode === OP.close) this.closeWritten = true;
    return this.closeWritten;
  }

  /** Advance the fake clock and run whatever timers are due. */
  advance(ms: number): void {
    this.clock += ms;
    for (let i = 0; i < 10 && this.conn.nextTimeout() <= this.clock; i++) this.conn.handleTimeout();
  }
}

// --- Running a case ---------------------------------------------------------------------

interface FramePosition {
  start: number;
  headerEnd: number;
  end: number;
}

type BuiltStep = { bytes: Uint8Array; base: number } | Exclude<Step, { frames: PeerFrame[] } | { raw: unknown }>;

/** Peer bytes for one role (built once, reused by every delivery so keys are identical). */
function build(c: Case, role: Role): { steps: BuiltStep[]; positions: FramePosition[] } {
  const rng = new XorShift(seedOf(`${c.id} peer keys`));
  const steps: BuiltStep[] = [];
  const positions: FramePosition[] = [];
  let base = 0;
  for (const step of c.steps) {
    if ('frames' in step) {
      const parts: Uint8Array[] = [];
      let at = base;
      for (const pf of step.frames) {
        const peerMasks = (role === 'server') !== (pf.masking === 'wrong');
        const key = peerMasks ? pf.key ?? rng.bytes(4) : false;
        const { masking: _m, key: _k, ...spec } = pf;
        const bytes = frame({ ...spec, mask: key });
        const payloadLength = payloadBytes(pf.payload).length;
        positions.push({ start: at, headerEnd: at + bytes.length - payloadLength, end: at + bytes.length });
        parts.push(bytes);
        at += bytes.length;
      }
      const bytes = join(parts);
      steps.push({ bytes, base });
      base += bytes.length;
    } else if ('raw' in step) {
      const bytes = typeof step.raw === 'function' ? step.raw(role) : step.raw;
      steps.push({ bytes, base });
      base += bytes.length;
    } else {
      steps.push(step);
    }
  }
  return { steps, positions };
}

function deliver(d: Driver, bytes: Uint8Array, base: number, delivery: Delivery, rng: XorShift, closeAt: { at: number }): void {
  const conn = d; // Driver.receive: records an exception thrown out of conn.receive
  const n = bytes.length;
  if (delivery === 'whole' || n < 2) {
    conn.receive(bytes);
  } else if (delivery === 'bytes') {
    for (let i = 0; i < n; i++) {
      conn.receive(bytes, i, i + 1);
      if (closeAt.at < 0 && d.closeFrameWritten()) closeAt.at = base + i;
    }
  } else if (delivery === 'split') {
    const k = 1 + rng.below(n - 1);
    conn.receive(bytes.slice(0, k));
    conn.receive(bytes.slice(k));
  } else {
    for (let i = 0; i < n; i += 997) conn.receive(bytes, i, Math.min(n, i + 997));
  }
}

function resolve(list: PerRole<string[]>, role: Role): string[] {
  const items = typeof list === 'function' ? list(role) : list;
  const result: string[] = [];
  for (const item of items) {
    if (item === 'end@server' || item === 'end@client') {
      if (item === `end@${role}`) result.push('end');
    } else result.push(item);
  }
  return result;
}

function matches(actual: string, expected: string): boolean {
  if (expected.length > 0 && expected[expected.length - 1] === '*') return actual.indexOf(expected.slice(0, -1)) === 0;
  return actual === expected;
}

function checkList(what: string, actual: string[], expected: string[]): void {
  let same = actual.length === expected.length;
  for (let i = 0; same && i < actual.length; i++) same = matches(actual[i], expected[i]);
  if (!same) fail(`${what}:\n  expected ${JSON.stringify(expected)}\n  actual   ${JSON.stringify(actual)}`);
}

function runOnce(c: Case, role: Role, built: { steps: BuiltStep[] }, delivery: Delivery): RunResult {
  let steps = built.steps;
  let coalesced: Uint8Array | undefined;
  if (c.coalesce) {
    const first = steps[0];
    if (!first || !('bytes' in first)) throw new Error('coalesce: the first step must send frames');
    coalesced = first.bytes;
    steps = steps.slice(1);
  }
  const d = new Driver(role, c.options ?? {}, c.echo ?? true, seedOf(`${c.id} connection`), { coalesced, throwOn: c.throwOn, onMessage: c.onMessage });
  const rng = new XorShift(seedOf(`${c.id} split`));
  const closeAt = { at: -1 };
  const returns: unknown[] = [];
  for (const step of steps) {
    if ('bytes' in step) deliver(d, step.bytes, step.base, delivery, rng, closeAt);
    else if ('act' in step) returns.push(step.act(d.conn, d));
    else if ('advance' in step) d.advance(step.advance);
    else d.conn.transportClosed();
  }
  const events = d.events;
  d.events = [];
  const state = d.conn.state;
  const decoded = decodeFrames(d.output());
  d.advance(3_600_000);
  d.advance(3_600_000);
  const result: RunResult = {
    delivery,
    events,
    settle: d.events,
    frames: decoded.frames,
    out: decoded.frames.map(renderFrame),
    rest: decoded.rest,
    closeAt: closeAt.at,
    state,
    nextTimeout: d.conn.nextTimeout(),
    returns,
  };
  return result;
}

/** Checks that hold for every run of every case. */
function invariants(r: RunResult, role: Role): void {
  if (r.rest !== 0) fail(`an incomplete frame was written (${r.rest} trailing bytes)`);
  const keys: string[] = [];
  let closes = 0;
  for (let i = 0; i < r.frames.length; i++) {
    const f = r.frames[i];
    const where = `outbound frame ${i} (${renderFrame(f)})`;
    if (f.rsv !== 0) fail(`${where}: RSV bits ${f.rsv}`);
    if (f.masked !== (role === 'client')) fail(`${where}: masked=${f.masked} from a ${role}`);
    if (!f.minimalLength) fail(`${where}: non-minimal length encoding`);
    if (f.opcode >= 8) {
      if (!f.fin) fail(`${where}: fragmented control frame`);
      if (f.payload.length > 125) fail(`${where}: control payload over 125 bytes`);
    }
    if ((f.opcode > 2 && f.opcode < 8) || f.opcode > 10) fail(`${where}: reserved opcode`);
    if (f.key) {
      const k = toHex(f.key);
      if (keys.indexOf(k) >= 0) fail(`${where}: masking key ${k} reused`);
      keys.push(k);
    }
    if (closes > 0) fail(`${where}: written after our close frame`);
    if (f.opcode === OP.close) closes++;
  }
  const all = r.events.concat(r.settle);
  let closed = false;
  let ends = 0;
  for (const e of all) {
    if (e[0] === '!') fail(`recorder: ${e}`);
    if (e.indexOf('close ') === 0) {
      if (closed) fail(`close reported twice: ${JSON.stringify(all)}`);
      closed = true;
    } else if (e === 'end' || e === 'end failed') {
      ends++;
      if (!closed) fail(`transport ended before the close event: ${JSON.stringify(all)}`);
    } else if (closed && e.indexOf('partial ') !== 0 && e.indexOf('error ') !== 0) {
      fail(`event after the close event: ${e} in ${JSON.stringify(all)}`);
    }
  }
  if (ends > 1) fail(`end called ${ends} times`);
  if (r.nextTimeout !== Infinity) fail(`a timer is still pending after settling: ${r.nextTimeout}`);
}

function defaultSettle(c: Case, role: Role, events: string[]): string[] {
  const cleanClose = events.some((e) => /^close \d+ true /.test(e));
  const ended = events.indexOf('end') >= 0;
  const lost = c.steps.some((s) => 'transportClosed' in s);
  return role === 'client' && cleanClose && !ended && !lost ? ['end'] : [];
}

function fingerprint(r: RunResult): string {
  return JSON.stringify({
    events: r.events,
    settle: r.settle,
    out: r.out,
    frames: r.frames.map((f) => [f.fin, f.rsv, f.opcode, f.key ? toHex(f.key) : null, renderBytes(f.payload)]),
    state: r.state,
  });
}

/** Run one case for one role over every delivery and check everything. */
export function runCase(c: Case, role: Role): RunResult[] {
  const built = build(c, role);
  const deliveries = c.deliveries ?? DEFAULT_DELIVERIES;
  const expectedEvents = resolve(c.events, role);
  const expectedOut = resolve(c.out, role);
  const results: RunResult[] = [];
  let reference = '';
  for (const delivery of deliveries) {
    const r = runOnce(c, role, built, delivery);
    const label = `[${delivery}]`;
    try {
      try {
        checkList('events', r.events, expectedEvents);
        checkList('outbound frames', r.out, expectedOut);
      } catch (error) {
        const ok = (c.alternatives ?? []).some((alt) => {
          try {
            checkList('events', r.events, resolve(alt.events, role));
            checkList('outbound frames', r.out, resolve(alt.out, role));
            return true;
          } catch {
            return false;
          }
        });
        if (!ok) {
          if (!c.alternatives) throw error;
          const message = error instanceof Error ? error.message : String(error);
          fail(`${message}\n  (outbound ${JSON.stringify(r.out)}; alternatives accepted: ${JSON.stringify(c.alternatives)})`);
        }
      }
      checkList('events after settling', r.settle, c.settle ? resolve(c.settle, role) : defaultSettle(c, role, r.events));
      invariants(r, role);
      if (c.failAt && delivery === 'bytes') {
        const p = built.positions[c.failAt.frame];
        if (!p) fail(`failAt: no frame ${c.failAt.frame}`);
        const lo = c.failAt.payload === undefined ? p.start : p.headerEnd + c.failAt.payload;
        const hi = c.failAt.payload === undefined ? p.headerEnd - 1 : lo;
        if (r.closeAt < lo || r.closeAt > hi) {
          fail(
            `fail-fast: our close frame must be written right after inbound byte ${lo === hi ? lo : `${lo}..${hi}`} ` +
              `(frame ${c.failAt.frame}${c.failAt.payload === undefined ? ' header' : ` payload offset ${c.failAt.payload}`}), ` +
              `but it was written after byte ${r.closeAt}`,
          );
        }
      }
      if (c.check) c.check(r, role);
      const print = fingerprint(r);
      if (!reference) reference = print;
      else if (print !== reference) fail(`delivery changed the result:\n  ${deliveries[0]}: ${reference}\n  ${delivery}: ${print}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      fail(`${label} ${message}`);
    }
    results.push(r);
  }
  return results;
}

// --- Registration ---------------------------------------------------------------------

const names: Record<string, true> = {};
let registered = 0;
let caseCount = 0;

/** Number of registered tests and distinct cases (for reports). */
export function counts(): { tests: number; cases: number } {
  return { tests: registered, cases: caseCount };
}

function testName(id: string, role: Role, title: string): string {
  return `autobahn ${id} [${role}] ${title}`;
}

function claim(name: string): void {
  if (names[name]) throw new Error(`duplicate conformance test name: ${name}`);
  names[name] = true;
  registered++;
}

/** Register one case: one test per role. */
export function defineCase(c: Case): void {
  caseCount++;
  for (const role of c.roles ?? ROLES) {
    const name = testName(c.id, role, c.title);
    claim(name);
    test(name, () => {
      runCase(c, role);
    });
  }
}

export function defineCases(cs: readonly Case[]): void {
  for (const c of cs) defineCase(c);
}

/** Register one case made of several variants (e.g. one message fragmented many ways): one test per role. */
export function defineVariants(id: string, title: string, variants: ReadonlyArray<Case & { label: string }>, roles: readonly Role[] = ROLES): void {
  caseCount++;
  for (const role of roles) {
    const name = testName(id, role, title);
    claim(name);
    test(name, () => {
      for (const v of variants) {
        try {
          runCase(v, role);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          fail(`variant ${v.label}: ${message}`);
        }
      }
    });
  }
}

export { utf8 };
