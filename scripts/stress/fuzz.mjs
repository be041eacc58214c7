#!/usr/bin/env node
// npm run fuzz -- [--frames N] [--seed S] [--target sim|moddable|both] [--app led|echo|both]
//                 [--concurrency C] [--case I] [--verbose]
//
// Random and mutated client frames against the LED app and the echo testee (on the sim
// host; with $MODDABLE also in Moddable's simulator; scripts/stress/targets.mjs), one
// WebSocket connection per case: valid frames (text, binary, fragmented, pings, pongs,
// colours for the LED), then mutations (single-bit flips, reserved opcodes, RSV bits,
// bad and non-minimal lengths, unmasked frames, fragmented control frames, invalid UTF-8
// in text and close reasons, invalid close codes, oversized frames, stray or missing
// continuations), written in pieces split at random points, some connections reset in
// the middle of a frame. For each connection the verdict is predicted by reference()
// below, a frame checker written from RFC 6455 and this project's documented choices
// (docs/PROTOCOL-CORE.md; strict close codes, fail-fast UTF-8, header checked once
// whole), not from src/, and compared with what the server sent: the close code (1002,
// 1007, 1009, the LED's 1003/1007, or the echo of the client's close), the echoed data
// (byte-exact, whole messages in order; in stream mode a message cut by the verdict may
// come back as a prefix), the pongs, and a clean end (close frame, then FIN).
// Deterministic given --seed: case I of app A is generated from (seed, A, I) alone.
// Exits 1 on any mismatch, hang, crash or leak (fds/RSS of the server before and after).
import {
  HandshakeError,
  OP,
  RESOURCE_HEADERS,
  Rng,
  Utf8Check,
  closePayload,
  codeName,
  connectWs,
  echoRate,
  frame,
  hexOf,
  intOption,
  isWireCloseCode,
  kib,
  leakFailures,
  moddable,
  now,
  parseOptions,
  resourceRow,
  startMonitor,
  rssBound,
  settle,
  sleep,
  startTargets,
  table,
  FD_SLACK,
} from './targets.mjs';

const TAG = 'fuzz';
const USAGE = 'npm run fuzz -- [--frames N (100000)] [--seed S] [--target sim|moddable|both] [--app led|echo|both] [--concurrency C] [--case I] [--verbose]';
const { values, hosts, apps: APPS, seed: SEED } = parseOptions(TAG, USAGE, {
  frames: { type: 'string' },
  concurrency: { type: 'string' },
  case: { type: 'string' },
  verbose: { type: 'boolean' },
});
const FRAMES = intOption(TAG, 'frames', values.frames, 100_000, 1);
const ONLY = values.case === undefined ? null : intOption(TAG, 'case', values.case, 0, 0);
const VERBOSE = values.verbose || ONLY !== null;

/** A frame the fuzzer would have to complete beyond this many bytes is reset instead. */
const COMPLETION_CAP = 64 * 1024;

// ---- the reference: what the server must do with a byte stream --------------------------------

/**
 * RFC 6455 section 5 as a server receives it, on the whole stream at once (written for
 * this script, not from src/): the header is judged once complete (2-14 bytes); 1002
 * for RSV bits, a 64-bit length with its top bit set, a reserved opcode, a fragmented or
 * over-125-byte control frame, a stray continuation, a new message inside a fragmented
 * one, an unmasked frame (in that order); 1009 for a data frame or message over
 * limits.maxMessage; text is checked as it arrives (1007 at the first byte that cannot be
 * UTF-8, or at the end of a message inside a sequence); a close frame: 1-byte payload
 * 1002, a code that may not be sent 1002, a reason that is not UTF-8 1007, else the
 * close. Returns { events, end, frames }: events {t: 'msg', type, bytes} | {t: 'ping' |
 * 'pong', payload} | {t: 'close', code} | {t: 'error', code, partial}; end {t: 'error'} |
 * {t: 'close', at} | {t: 'need', k, header?, key, offset, text} | {t: 'boundary'}.
 */
function reference(bytes, limits) {
  const events = [];
  const n = bytes.length;
  let p = 0;
  let frames = 0;
  let inMessage = false;
  let text = false;
  let length = 0;
  let parts = [];
  const utf8 = new Utf8Check();
  const partial = () => ({ type: text ? 'text' : 'binary', bytes: Buffer.concat(parts) });
  const fail = (code) => {
    events.push({ t: 'error', code, partial: inMessage ? partial() : null });
    return { events, end: { t: 'error', code }, frames };
  };
  for (;;) {
    if (p === n) return { events, end: { t: 'boundary' }, frames };
    if (n - p < 2) return { events, end: { t: 'need', header: true, k: 2 - (n - p), have: n - p }, frames };
    const b0 = bytes[p];
    const b1 = bytes[p + 1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const headerLength = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (n - p < headerLength) return { events, end: { t: 'need', header: true, k: headerLength - (n - p), have: n - p }, frames };
    frames++;
    if (b0 & 0x70) return fail(1002);
    let size = len7;
    if (len7 === 126) size = bytes.readUInt16BE(p + 2);
    else if (len7 === 127) {
      const high = bytes.readUInt32BE(p + 2);
      if (high >= 0x80000000) return fail(1002);
      size = high * 2 ** 32 + bytes.readUInt32BE(p + 6);
    }
    const control = opcode >= 8;
    if (control) {
      if (opcode > OP.pong || !fin || size > 125) return fail(1002);
    } else if (opcode === OP.cont) {
      if (!inMessage) return fail(1002);
    } else if (opcode === OP.text || opcode === OP.binary) {
      if (inMessage) return fail(1002);
    } else return fail(1002);
    if (!masked) return fail(1002);
    if (!control && size + (opcode === OP.cont ? length : 0) > limits.maxMessage) return fail(1009);
    const key = bytes.subarray(p + headerLength - 4, p + headerLength);
    const start = p + headerLength;
    const available = Math.min(size, n - start);
    const payload = Buffer.from(bytes.subarray(start, start + available));
    for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    if (control) {
      if (available < size) return { events, end: { t: 'need', k: size - available, key, offset: available, text: false }, frames };
      if (opcode === OP.ping) events.push({ t: 'ping', payload });
      else if (opcode === OP.pong) events.push({ t: 'pong', payload });
      else {
        if (size === 1) return fail(1002);
        const code = size === 0 ? 1005 : payload.readUInt16BE(0);
        if (size >= 2 && !isWireCloseCode(code)) return fail(1002);
        const check = new Utf8Check();
        if (size > 2 && (check.update(payload, 2) >= 0 || !check.complete)) return fail(1007);
        events.push({ t: 'close', code, partial: inMessage ? partial() : null });
        return { events, end: { t: 'close', at: start + size }, frames };
      }
    } else {
      if (opcode !== OP.cont) {
        inMessage = true;
        text = opcode === OP.text;
        length = 0;
        parts = [];
        utf8.reset();
      }
      length += size;
      if (text) {
        const bad = utf8.update(payload);
        if (bad >= 0) {
          parts.push(payload.subarray(0, bad));
          return fail(1007);
        }
      }
      parts.push(payload);
      if (available < size) return { events, end: { t: 'need', k: size - available, key, offset: available, text }, frames };
      if (fin) {
        if (text && !utf8.complete) return fail(1007);
        events.push({ t: 'msg', type: text ? 'text' : 'binary', bytes: Buffer.concat(parts) });
        inMessage = false;
        parts = [];
      }
    }
    p = start + size;
  }
}

/**
 * What the app must answer to a complete stream: { code (the close code it sends; 1005:
 * an empty close), why, messages (echo: every whole message before the verdict), partial
 * (the message the verdict cut, which stream mode may have echoed in part), colours (LED:
 * the colours set before the verdict), pings (answered before the verdict) }.
 */
function predict(stream, app, limits) {
  const { events } = reference(stream, limits);
  const out = { code: null, why: '', messages: [], partial: null, colours: [], pings: [] };
  for (const e of events) {
    if (e.t === 'msg') {
      if (app === 'led') {
        if (e.type === 'text') return { ...out, code: 1003, why: 'LED: text message' };
        if (e.bytes.length !== 3) return { ...out, code: 1007, why: `LED: binary of ${e.bytes.length} bytes` };
        out.colours.push(e.bytes.toString('hex'));
      } else out.messages.push(e);
    } else if (e.t === 'ping') out.pings.push(e.payload);
    else if (e.t === 'close') return { ...out, code: e.code, why: `close ${e.code >= 3000 ? '3000-4999' : e.code} echoed`, partial: e.partial };
    else if (e.t === 'error') return { ...out, code: e.code, why: `error ${e.code}`, partial: e.partial };
  }
  return { ...out, code: null, why: 'no verdict' };
}

// ---- cases -----------------------------------------------------------------------------------

const BAD_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x28, 0xa1], [0xf0, 0x9f, 0x98]];
const BAD_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const MUTATIONS = ['bit-flip', 'bad-opcode', 'rsv', 'bad-length', 'unmasked', 'fragmented-control', 'utf8-text', 'utf8-close', 'close-code', 'oversized', 'continuation'];

function size(rng) {
  return rng.weighted([
    [40, () => rng.int(21)],
    [40, () => rng.range(21, 200)],
    [15, () => rng.range(201, 2000)],
    [5, () => rng.range(2001, 70000)],
  ])();
}

/** A mask key from the case's random source (all-zero now and then). */
const keyOf = (rng) => (rng.chance(0.05) ? Buffer.alloc(4) : rng.bytes(4));

/** A message as 1-4 frames split at random points, sometimes with a ping between two. */
function message(rng, type, payload) {
  const count = rng.chance(0.6) ? 1 : rng.range(2, 4);
  const cuts = Array.from({ length: count - 1 }, () => rng.int(payload.length + 1)).sort((a, b) => a - b);
  const frames = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = i < count - 1 ? cuts[i] : payload.length;
    frames.push({ opcode: i === 0 ? (type === 'text' ? OP.text : OP.binary) : OP.cont, fin: i === count - 1, payload: payload.subarray(at, end), mask: keyOf(rng) });
    at = end;
    if (i < count - 1 && rng.chance(0.15)) frames.push({ opcode: OP.ping, payload: rng.bytes(rng.int(20)), mask: keyOf(rng) });
  }
  return frames;
}

function validItem(rng, app) {
  const control = (opcode) => [{ opcode, payload: rng.bytes(rng.weighted([[8, rng.int(16)], [2, rng.range(16, 125)]])), mask: keyOf(rng) }];
  const close = () => {
    const code = rng.pick([1000, 1000, 1001, 1003, 3000 + rng.int(2000)]);
    const reason = rng.chance(0.5) ? rng.text(rng.int(60)) : Buffer.alloc(0);
    return [{ opcode: OP.close, payload: rng.chance(0.1) ? Buffer.alloc(0) : closePayload(code, reason), mask: keyOf(rng) }];
  };
  if (app === 'led') {
    return rng.weighted([
      [55, () => message(rng, 'binary', rng.bytes(3))],
      [10, () => control(OP.ping)],
      [5, () => control(OP.pong)],
      [4, () => message(rng, 'text', rng.text(rng.int(30)))],
      [4, () => message(rng, 'binary', rng.bytes(rng.pick([0, 1, 2, 4, 5, 16, 64])))],
      [3, close],
    ])();
  }
  return rng.weighted([
    [35, () => message(rng, 'text', rng.text(size(rng)))],
    [35, () => message(rng, 'binary', rng.bytes(size(rng)))],
    [10, () => control(OP.ping)],
    [5, () => control(OP.pong)],
    [3, close],
  ])();
}

/** Applies one named mutation to the frame list (in place); returns a label. */
function mutate(rng, frames, app, limits, name) {
  const pick = (test = () => true) => {
    const candidates = frames.map((f, i) => [f, i]).filter(([f]) => test(f));
    return candidates.length ? rng.pick(candidates) : null;
  };
  const at = rng.int(frames.length + 1);
  switch (name) {
    case 'bit-flip': {
      const [f] = pick();
      f.flip = rng.chance(0.5) ? rng.int(14 * 8) : rng.int(1 << 20);
      return name;
    }
    case 'bad-opcode':
      pick()[0].opcode = rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]);
      return name;
    case 'rsv':
      pick()[0].rsv = rng.range(1, 7);
      return name;
    case 'bad-length': {
      const [f] = pick();
      const how = rng.int(4);
      if (how === 0) f.declared = (1n << 63n) + BigInt(f.payload.length);
      else if (how === 1) f.declared = Math.max(0, f.payload.length + rng.pick([-3, -2, -1, 1, 2, 3, 50]));
      else if (how === 2) f.form = rng.pick(['16', '64']); // non-minimal: allowed
      else frames.splice(at, 0, { opcode: OP.close, payload: rng.bytes(1), mask: keyOf(rng) });
      return `${name}${['-msb', '-wrong', '-nonminimal', '-close1'][how]}`;
    }
    case 'unmasked':
      pick()[0].mask = null;
      return name;
    case 'fragmented-control':
      frames.splice(at, 0, { opcode: rng.pick([OP.ping, OP.pong, OP.close]), fin: false, payload: rng.bytes(rng.int(10)), mask: keyOf(rng) });
      return name;
    case 'utf8-text': {
      const bad = Buffer.from(rng.pick(BAD_UTF8));
      const base = rng.text(rng.int(40));
      const cut = rng.int(base.length + 1);
      const payload = Buffer.concat([base.subarray(0, cut), bad, base.subarray(cut)]);
      frames.splice(at, 0, ...message(rng, 'text', payload));
      return name;
    }
    case 'utf8-close': {
      const reason = Buffer.concat([rng.text(rng.int(20)), Buffer.from(rng.pick(BAD_UTF8))]);
      frames.splice(at, 0, { opcode: OP.close, payload: closePayload(1000, reason.subarray(0, 123)), mask: keyOf(rng) });
      return name;
    }
    case 'close-code':
      frames.splice(at, 0, { opcode: OP.close, payload: closePayload(rng.pick(BAD_CLOSE_CODES)), mask: keyOf(rng) });
      return name;
    case 'oversized': {
      if (rng.chance(0.3)) {
        frames.splice(at, 0, { opcode: rng.pick([OP.ping, OP.pong, OP.close]), payload: rng.bytes(rng.range(126, 300)), mask: keyOf(rng) });
        return `${name}-control`;
      }
      const declared = app === 'led' ? rng.pick([65, 100, 1000, 70000, 2 ** 32]) : rng.pick([limits.maxMessage + 1, 2 ** 32, 2 ** 40]);
      frames.splice(at, 0, { opcode: rng.pick([OP.text, OP.binary]), payload: rng.bytes(rng.int(8)), declared, mask: keyOf(rng) });
      return `${name}-data`;
    }
    case 'continuation': {
      if (rng.chance(0.5)) frames.splice(at, 0, { opcode: OP.cont, payload: rng.bytes(rng.int(10)), mask: keyOf(rng) });
      else frames.splice(at, 0, { opcode: rng.pick([OP.text, OP.binary]), fin: false, payload: rng.text(rng.int(10)), mask: keyOf(rng) });
      return name;
    }
  }
  throw new Error(name);
}

function encode(f) {
  const bytes = frame(f);
  if (f.flip !== undefined) {
    const bit = f.flip % (bytes.length * 8);
    bytes[bit >> 3] ^= 1 << (bit & 7);
  }
  return bytes;
}

/**
 * Case `index` of `app`: { stream, pieces (write sizes), delays, reset, mutations,
 * generated (frames) }. The stream is completed so that the server reaches a verdict: a
 * missing header or payload is filled in (text with 'a'), a stream that ends between
 * frames gets a close frame, one that ends in a close frame is cut there; a frame that
 * would need more than COMPLETION_CAP bytes turns the case into a reset.
 */
function makeCase(seed, app, index, limits) {
  const rng = Rng.of(seed, app, index);
  const frames = [];
  const count = rng.range(1, 8);
  while (frames.length < count) frames.push(...validItem(rng, app));
  const mutations = [];
  const m = rng.weighted([[25, 0], [55, 1], [20, 2]]);
  for (let i = 0; i < m; i++) mutations.push(mutate(rng, frames, app, limits, rng.pick(MUTATIONS)));
  let stream = Buffer.concat(frames.map(encode));
  let reset = rng.chance(0.06);
  for (let round = 0; round < 8; round++) {
    const { end } = reference(stream, limits);
    if (end.t === 'error') break;
    if (end.t === 'close') {
      stream = stream.subarray(0, end.at);
      break;
    }
    if (end.t === 'boundary') {
      const code = rng.pick([undefined, 1000, 1000, 1000, 1001, 3000 + rng.int(2000)]);
      stream = Buffer.concat([stream, frame({ opcode: OP.close, payload: closePayload(code, code ? rng.text(rng.int(30)) : undefined), mask: keyOf(rng) })]);
    } else if (end.header) {
      const fill = Buffer.alloc(end.k);
      if (end.have === 1) fill[0] = 0x80; // the second byte: masked, length 0
      stream = Buffer.concat([stream, fill]);
    } else if (end.k > COMPLETION_CAP) {
      reset = true;
      break;
    } else {
      const fill = end.text ? Buffer.alloc(end.k, 0x61) : rng.bytes(end.k);
      for (let i = 0; i < fill.length; i++) fill[i] ^= end.key[(end.offset + i) & 3];
      stream = Buffer.concat([stream, fill]);
    }
  }
  if (reset) stream = stream.subarray(0, Math.max(1, rng.int(stream.length)));
  // the writes: one, a few, many, or byte by byte
  const writes = rng.weighted([[30, 1], [40, rng.range(2, 4)], [20, rng.range(5, 16)], [10, stream.length <= 64 ? stream.length : rng.range(16, 64)]]);
  const cuts = new Set();
  while (cuts.size < Math.min(writes, stream.length) - 1) cuts.add(rng.range(1, stream.length - 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
  const pieces = [];
  for (let i = 1; i < points.length; i++) pieces.push(points[i] - points[i - 1]);
  const delays = pieces.map((_, i) => (i === 0 ? 0 : rng.weighted([[60, 0], [25, -1], [15, rng.range(1, 3)]])));
  return { index, stream, pieces, delays, reset, mutations, generated: frames.length };
}

// ---- running a case --------------------------------------------------------------------------

/** Opens a connection, retrying a 503 (the server still closing earlier ones) for up to boundMs. */
async function open(target, handlers, boundMs, stats) {
  const end = now() + boundMs;
  for (;;) {
    try {
      return await connectWs(target, handlers, { timeoutMs: boundMs });
    } catch (error) {
      if (!(error instanceof HandshakeError) || error.status !== 503 || now() > end) throw error;
      stats.refused++;
      await sleep(50);
    }
  }
}

const isPrefix = (part, whole) => part.length <= whole.length && whole.subarray(0, part.length).equals(part);

/** Runs one case; returns { verdict, problems: [] } (no problems: it matched). */
async function runCase(target, c, expected, boundMs, stats) {
  const messages = [];
  let current = null;
  const pongs = [];
  let progressAt = now(); // the last time the server sent anything
  const handlers = {
    autoPong: false,
    autoReplyClose: false,
    onData(type, payload, fin, first) {
      progressAt = now();
      if (first) current = { type, parts: [] };
      current.parts.push(payload);
      if (fin) {
        messages.push({ type: current.type, bytes: Buffer.concat(current.parts) });
        current = null;
      }
    },
    onPong: (payload) => {
      progressAt = now();
      pongs.push(payload);
    },
  };
  const client = await open(target, handlers, boundMs, stats);
  let at = 0;
  for (let i = 0; i < c.pieces.length; i++) {
    const d = c.delays[i];
    if (d === -1) await new Promise((resolve) => setImmediate(resolve));
    else if (d > 0) await sleep(d);
    const ok = await client.write(c.stream.subarray(at, at + c.pieces[i]));
    at += c.pieces[i];
    if (!ok) break; // the server closed: what it sent says whether that was right
  }
  stats.bytes += at;
  if (c.reset) {
    client.resetNow();
    await client.closedWithin(boundMs);
    return { verdict: 'reset mid-frame', problems: [] };
  }
  // A hang is boundMs with nothing from the server: an echo still coming back, however
  // slowly (a busy machine slows the simulator), is progress, not a hang.
  progressAt = Math.max(progressAt, now());
  while (!client.closeFrame && !client.closed && now() < progressAt + boundMs) await sleep(2);
  if (client.closeFrame) client.end();
  const closed = await client.closedWithin(Math.max(0, progressAt + boundMs - now()));
  const problems = [];
  const verdict = expected.why;
  if (!closed) problems.push(`hang: ${client.closeFrame ? 'the connection did not close' : 'no close frame'} within ${boundMs} ms of the server's last frame`);
  const code = client.closeFrame ? client.closeFrame.code : 1006;
  if (code !== expected.code) problems.push(`close code ${code}${client.closeFrame?.reason ? ` (${client.closeFrame.reason})` : ''}, expected ${expected.code} (${expected.why})`);
  // a close handshake must end cleanly (close frame, then FIN); after a failure the server
  // only lingers a while for the peer to finish (SocketLink), so a reset is no mismatch there
  else if (closed && !client.outcome.clean && verdict.startsWith('close')) problems.push(`close ${code} not clean (${client.error?.code ?? 'no FIN'})`);
  for (const v of client.violations) problems.push(`the server sent ${v}`);
  if (target.app === 'echo') {
    if (messages.length !== expected.messages.length) problems.push(`${messages.length} whole messages echoed, expected ${expected.messages.length}`);
    for (let i = 0; i < Math.min(messages.length, expected.messages.length); i++) {
      const [got, want] = [messages[i], expected.messages[i]];
      if (got.type !== want.type || !got.bytes.equals(want.bytes)) {
        problems.push(`message ${i} echoed as ${got.type} ${hexOf(got.bytes, 48)}, sent ${want.type} ${hexOf(want.bytes, 48)}`);
        break;
      }
    }
    if (current) {
      const part = Buffer.concat(current.parts);
      const want = expected.partial;
      if (!want || want.type !== current.type || !isPrefix(part, want.bytes)) {
        problems.push(`an unfinished ${current.type} message of ${part.length} bytes echoed${want ? `, not a prefix of the ${want.type} message cut by the verdict (${want.bytes.length} bytes)` : ''}`);
      }
    }
  } else {
    // LED: the colour on opening, then broadcasts (other cases' colours among them).
    const colours = [];
    for (const m of messages) {
      if (m.type !== 'binary' || m.bytes.length !== 3) problems.push(`the LED sent a ${m.type} message of ${m.bytes.length} bytes`);
      else colours.push(m.bytes.toString('hex'));
    }
    if (current) problems.push('the LED sent an unfinished message');
    if (colours.length === 0 && code !== 1006) problems.push('no colour on opening');
    let k = 0;
    for (const colour of colours.slice(1)) if (k < expected.colours.length && colour === expected.colours[k]) k++;
    if (k < expected.colours.length) problems.push(`colour ${expected.colours[k]} (${k + 1} of ${expected.colours.length} set) was not broadcast back`);
  }
  if (pongs.length !== expected.pings.length || pongs.some((p, i) => !p.equals(expected.pings[i]))) {
    problems.push(`${pongs.length} pongs (${pongs.map((p) => hexOf(p, 8)).join(' ')}), expected ${expected.pings.length} (${expected.pings.map((p) => hexOf(p, 8)).join(' ')})`);
  }
  return { verdict, problems };
}

// ---- per target ------------------------------------------------------------------------------

async function fuzzTarget(target, rate) {
  const limits = target.limits;
  const concurrency = intOption(TAG, 'concurrency', values.concurrency, target.app === 'led' ? (target.host === 'sim' ? 4 : 2) : target.host === 'sim' ? 8 : 4, 1, limits.maxClients - 2);
  const cases = [];
  let generated = 0;
  if (ONLY !== null) {
    const c = makeCase(SEED, target.app, ONLY, limits);
    cases.push(c);
    generated = c.generated;
  } else {
    for (let i = 0; generated < FRAMES; i++) {
      const c = makeCase(SEED, target.app, i, limits);
      cases.push(c);
      generated += c.generated;
    }
  }
  const stats = { bytes: 0, refused: 0 };
  const verdicts = new Map(); // why -> { ok, bad }
  const mutations = new Map();
  const mismatches = [];
  let hangs = 0;
  const monitor = startMonitor(target);
  const before = monitor.before;
  const started = now();
  let next = 0;
  let done = 0;
  let lastReport = now();
  let crashed = false;
  let refusedInARow = 0; // connections refused (503) for their whole bound, in a row
  const worker = async () => {
    while (next < cases.length && !crashed && refusedInARow < 10) {
      const c = cases[next++];
      const expected = c.reset ? { why: 'reset mid-frame' } : predict(c.stream, target.app, limits);
      // the wait for a verdict without news from the server: 10 s, plus the time the
      // stream takes at the measured rate
      const boundMs = 10_000 + Math.ceil((4 * c.stream.length * 1000) / rate);
      let result;
      try {
        result = await runCase(target, c, expected, boundMs, stats);
      } catch (error) {
        const full = error instanceof HandshakeError && error.status === 503;
        result = { verdict: expected.why, problems: [full ? `hang: the server answered 503 (full) for ${boundMs} ms` : `connection: ${error.message}`] };
      }
      for (const name of c.mutations) mutations.set(name, (mutations.get(name) ?? 0) + 1);
      const row = verdicts.get(result.verdict) ?? { ok: 0, bad: 0 };
      verdicts.set(result.verdict, row);
      refusedInARow = result.problems[0]?.startsWith('hang: the server answered 503') ? refusedInARow + 1 : 0;
      if (result.problems.length) {
        row.bad++;
        if (result.problems.some((p) => p.startsWith('hang'))) hangs++;
        mismatches.push({ c, expected, problems: result.problems });
        if (mismatches.length <= 10) report(target, c, expected, result.problems);
      } else row.ok++;
      if (VERBOSE) console.log(`  case ${c.index}: ${result.verdict}, ${c.stream.length} bytes in ${c.pieces.length} writes${c.mutations.length ? `, ${c.mutations.join(' ')}` : ''}: ${result.problems.length ? 'MISMATCH' : 'ok'}`);
      done++;
      if (!target.alive) crashed = true;
      if (now() - lastReport > 10_000) {
        lastReport = now();
        console.log(`${TAG}: ${target.name}: ${done} of ${cases.length} connections, ${mismatches.length} mismatched, ${((now() - started) / 1000).toFixed(0)} s`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  const seconds = (now() - started) / 1000;
  const rss = monitor.stop();
  const after = await settle(target.pid, { fds: before.fds, slack: FD_SLACK, minMs: target.host === 'sim' ? 500 : 3000, maxMs: target.host === 'sim' ? 10_000 : 30_000 });
  const bounds = { fdSlack: FD_SLACK, rssBound: rssBound(target.host, rss.warm) };
  const failures = [];
  if (!target.alive) failures.push(`${target.name}: crashed: ${target.exitStatus}`);
  else failures.push(...leakFailures(target, rss, after, bounds));
  if (mismatches.length) failures.push(`${target.name}: ${mismatches.length} mismatched connections (${hangs} hangs)`);
  if (refusedInARow >= 10) failures.push(`${target.name}: stopped after ${done} of ${cases.length} connections: the server refused 10 in a row with 503 for their whole bound (it holds connections that are gone)`);

  console.log(`\n${TAG}: ${target.name} (pid ${target.pid}, port ${target.port}): ${generated} frames in ${cases.length} connections (${done} run), ${kib(stats.bytes)} sent in ${seconds.toFixed(1)} s, concurrency ${concurrency}${stats.refused ? `, ${stats.refused} upgrades answered 503 and retried` : ''}`);
  const rows = [...verdicts].sort((a, b) => b[1].ok + b[1].bad - (a[1].ok + a[1].bad) || a[0].localeCompare(b[0])).map(([why, r]) => [why, codeName(Number(/\d{4}/.exec(why)?.[0])), r.ok + r.bad, r.ok, r.bad]);
  console.log(table(['verdict', 'meaning', 'connections', 'matched', 'mismatched'], rows));
  console.log(`  mutations: ${[...mutations].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  console.log(`  hangs: ${hangs}; mismatches: ${mismatches.length}${mismatches.length ? ` (${kindsOf(mismatches)})` : ''}`);
  console.log(table(RESOURCE_HEADERS, [resourceRow(target, rss, after, bounds)]));
  if (target.out.errorLines) console.log(`  the server printed ${target.out.errorLines} error lines; last: ${target.out.lastErrors.at(-1)}`);
  if (target.out.writeFailed) console.log(`  the SDK traced "write failed" (a write to a socket whose peer is gone) ${target.out.writeFailed} times`);
  return failures;
}

/** What went wrong, counted by kind over every mismatched connection (a connection may count under several). */
function kindsOf(mismatches) {
  const kinds = new Map();
  const kindOf = (p) =>
    p.startsWith('hang: the server answered 503') ? 'refused with 503 (server full)'
    : p.startsWith('hang') ? 'hang'
    : p.startsWith('close code') ? 'wrong close code'
    : / not clean/.test(p) ? 'unclean end'
    : /messages? .*echoed|unfinished|broadcast back|the LED sent/.test(p) ? 'lost or wrong data'
    : /pongs/.test(p) ? 'pongs'
    : p.startsWith('the server sent') ? 'invalid frame from the server'
    : 'other';
  for (const m of mismatches) for (const kind of new Set(m.problems.map(kindOf))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  return [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
}

function report(target, c, expected, problems) {
  console.log(`${TAG}: MISMATCH ${target.name} case ${c.index} (rerun: npm run fuzz -- --seed ${SEED} --target ${target.host} --app ${target.app} --case ${c.index})`);
  for (const p of problems) console.log(`    ${p}`);
  console.log(`    predicted: ${expected.why}${c.mutations.length ? `; mutations: ${c.mutations.join(', ')}` : ''}`);
  console.log(`    stream (${c.stream.length} bytes, writes of ${c.pieces.join(' ')}): ${hexOf(c.stream, 600)}`);
}

// ---- main ------------------------------------------------------------------------------------

moddable.installExitHandlers();
console.log(`${TAG}: seed ${SEED} (rerun with --seed ${SEED}), ${ONLY === null ? `${FRAMES} frames per app` : `case ${ONLY} only`}, apps ${APPS.join(' and ')}, hosts ${hosts.join(' and ')}`);
const failures = [];
for (const host of hosts) {
  let started;
  try {
    started = await startTargets(host, APPS, TAG);
  } catch (error) {
    failures.push(`${host}: ${error.message}`);
    console.error(`${TAG}: ${host}: ${error.message}`);
    continue;
  }
  const { targets } = started;
  for (const t of targets) console.log(`${TAG}: ${t.name}: pid ${t.pid}, ws://127.0.0.1:${t.port}${t.path}`);
  // the stream bound is sized from the host's echo rate (Moddable's simulator: ~75 KB/s)
  const echo = targets.find((t) => t.app === 'echo');
  let rate = host === 'sim' ? 10e6 : 70e3;
  if (echo) {
    rate = await echoRate(echo, host === 'sim' ? 1 << 20 : 64 * 1024);
    console.log(`${TAG}: ${host}: echo ${kib(rate)}/s (one message through the stream echo); connection bounds sized from it`);
  }
  for (const target of targets) failures.push(...(await fuzzTarget(target, rate)));
  for (const target of targets) await target.stop();
  moddable.stopAll();
}
console.log(`\n${TAG}: ${failures.length ? 'FAILED' : 'PASSED'} (seed ${SEED})`);
for (const f of failures) console.log(`  ${f}`);
process.exit(failures.length ? 1 : 0);
