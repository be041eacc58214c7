#!/usr/bin/env node
// npm run soak -- [--minutes N (2)] [--clients K (8)] [--target sim|moddable|both]
//                 [--app led|echo|both] [--seed S]
//
// K clients per app, for N minutes, against the LED app and the echo testee on the sim
// host and, with $MODDABLE, the same apps in Moddable's simulator
// (scripts/stress/targets.mjs; one host after the other, both apps of a host at once).
// Each client runs one role in a loop of connections:
// - echo app: messengers (text and binary messages, fragmented, pings between fragments,
//   a window of bytes in flight; every byte must come back in order, then a normal close
//   must be echoed), slow readers (one large message sent while not reading, then read a
//   piece at a time), invalid-frame senders (each frame must bring its close code: 1002,
//   1007, 1009; a normal close its echo) and resetters (a TCP reset in the middle of a
//   frame);
// - LED app: observers (connected throughout), flooders (colours with a window of
//   unacknowledged ones, some fragmented), a slow reader (stops reading for seconds
//   during the flood), invalid-frame senders (also text: 1003, other lengths: 1007) and
//   resetters. Once flooding stops and the LED is quiet, every client still connected
//   must show the LED's final colour. Beside them, --slowloris N (8) attackers (from
//   127.0.0.2) trickle request heads a byte at a time over fresh connections and
//   reconnect whenever they are dropped, and a phone (127.0.0.1) loads the page on a new
//   connection every second: every load
//   must bring the page (200, the whole body) within PHONE_BOUND_MS (1 s).
// The load is sized from the host's echo rate, measured first (the Moddable simulator's
// sockets move ~75 KB/s). It prints what was sent, what each connection ended with
// (close codes, clean or not), the checks, and the server's RSS and open fds before and
// after (clients gone, short settle). Exits 1 on a crash, a hang (a client waiting with
// no progress for the hang bound), a leak, a missing or wrong close code, or a lost
// message.
import { Worker } from 'node:worker_threads';
import { Slowloris } from './attackers.mjs';
import {
  HandshakeError,
  OP,
  RESOURCE_HEADERS,
  Rng,
  closePayload,
  codeName,
  connectWs,
  echoRate,
  frame,
  intOption,
  kib,
  leakFailures,
  moddable,
  now,
  parseOptions,
  resourceRow,
  rssBound,
  settle,
  sleep,
  startMonitor,
  startTargets,
  table,
  FD_SLACK,
} from './targets.mjs';

const TAG = 'soak';
const USAGE = 'npm run soak -- [--minutes N (2)] [--clients K (8, per app)] [--slowloris N (8)] [--target sim|moddable|both] [--app led|echo|both] [--seed S]';
const { values, hosts, apps: APPS, seed: SEED } = parseOptions(TAG, USAGE, {
  minutes: { type: 'string' },
  clients: { type: 'string' },
  slowloris: { type: 'string' },
});
const MINUTES = intOption(TAG, 'minutes', values.minutes, 2, 0.05, 24 * 60);
const CLIENTS = intOption(TAG, 'clients', values.clients, 8, 1, 60);
const SLOWLORIS = intOption(TAG, 'slowloris', values.slowloris, 8, 0, 100);
/** The longest a well-behaved phone may wait for the page during the slowloris (issue: "within 1 s"). */
const PHONE_BOUND_MS = 1000;

class Skip extends Error {}

// ---- load, sized from the echo rate ------------------------------------------------------------

/**
 * What the clients do, sized from `rate` (bytes/s one way through the host's echo):
 * the load aims at a fraction of it, and every bound that waits for the server is a
 * multiple of the time its bytes take at that rate.
 */
function sizeLoad(host, rate, echoClients) {
  const sim = host === 'sim';
  const share = rate * 0.4; // what all clients together may keep in flight per second
  const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, Math.round(x)));
  const window = clamp((share * 0.25) / Math.max(1, echoClients), 1024, 256 * 1024);
  const slowSize = clamp(rate * 1.5, 16 * 1024, 4 * 1024 * 1024);
  const inFlight = window * echoClients + slowSize * 2;
  return {
    rate,
    window, // bytes a messenger keeps in flight; also its largest message
    slowSize, // the slow reader's message
    slowPauseMs: sim ? [1500, 4000] : [4000, 8000],
    slowStepMs: sim ? 10 : 100,
    colourWindow: sim ? 8 : 3,
    colourGapMs: sim ? 1 : clamp((1000 * 5 * 8 * 2) / (rate * 0.2), 20, 500),
    floodMs: sim ? [2000, 8000] : [5000, 15000],
    gapMs: sim ? [0, 20] : [100, 400],
    quietMs: sim ? 500 : 2500,
    hangMs: clamp(Math.max(sim ? 15_000 : 30_000, (4 * inFlight * 1000) / rate), 0, 300_000),
    settleMs: sim ? [500, 10_000] : [3000, 30_000],
  };
}

// ---- one app's run -----------------------------------------------------------------------------

const ROLES = {
  echo: ['messenger', 'slow', 'invalid', 'resetter', 'messenger', 'messenger', 'invalid', 'slow'],
  led: ['observer', 'flooder', 'slow', 'invalid', 'flooder', 'resetter', 'observer', 'invalid'],
};

/** Invalid (and final) frames and the close code each must bring. */
function invalidCases(app, limits) {
  const m = (f) => ({ mask: true, ...f });
  const payload = Buffer.from([1, 2, 3]);
  const cases = [
    { name: 'RSV bit set', code: 1002, frames: () => [m({ opcode: OP.binary, rsv: 4, payload })] },
    { name: 'reserved opcode', code: 1002, frames: (r) => [m({ opcode: r.pick([3, 7, 11, 15]), payload })] },
    { name: 'unmasked frame', code: 1002, frames: () => [{ opcode: OP.binary, payload, mask: null }] },
    { name: 'fragmented ping', code: 1002, frames: () => [m({ opcode: OP.ping, fin: false })] },
    { name: 'ping over 125 bytes', code: 1002, frames: () => [m({ opcode: OP.ping, payload: Buffer.alloc(126) })] },
    { name: 'stray continuation', code: 1002, frames: () => [m({ opcode: OP.cont, payload })] },
    { name: 'message inside a fragmented one', code: 1002, frames: () => [m({ opcode: OP.binary, fin: false, payload }), m({ opcode: OP.text, payload })] },
    { name: '64-bit length with top bit set', code: 1002, frames: () => [m({ opcode: OP.binary, declared: 1n << 63n })] },
    { name: 'close with a 1-byte payload', code: 1002, frames: () => [m({ opcode: OP.close, payload: Buffer.from([3]) })] },
    { name: 'close code 1005 on the wire', code: 1002, frames: (r) => [m({ opcode: OP.close, payload: closePayload(r.pick([1005, 1006, 999, 2000, 5000])) })] },
    { name: 'text that is not UTF-8', code: 1007, frames: (r) => [m({ opcode: OP.text, payload: Buffer.from([0x61, r.pick([0xff, 0xc0, 0x80]), 0x62]) })] },
    { name: 'text ending inside a UTF-8 sequence', code: 1007, frames: () => [m({ opcode: OP.text, payload: Buffer.from([0x61, 0xe2, 0x82]) })] },
    { name: 'close reason that is not UTF-8', code: 1007, frames: () => [m({ opcode: OP.close, payload: closePayload(1000, Buffer.from([0x6f, 0xed, 0xa0, 0x80])) })] },
    app === 'led'
      ? { name: `binary of ${limits.maxMessage + 1} bytes (over the limit)`, code: 1009, frames: (r) => [m({ opcode: OP.binary, payload: r.bytes(limits.maxMessage + 1) })] }
      : { name: 'frame declaring 2^33 bytes', code: 1009, frames: () => [m({ opcode: OP.binary, declared: 2 ** 33 })] },
    { name: 'normal close', code: 1000, clean: true, frames: () => [m({ opcode: OP.close, payload: closePayload(1000) })] },
    { name: 'close 3000-4999 with a reason', code: 'echo', clean: true, frames: (r) => [m({ opcode: OP.close, payload: closePayload(3000 + r.int(2000), r.text(r.int(60))) })] },
    { name: 'empty close', code: 1005, clean: true, frames: () => [m({ opcode: OP.close })] },
  ];
  if (app === 'led') {
    cases.push({ name: 'LED: a text message', code: 1003, frames: (r) => [m({ opcode: OP.text, payload: r.text(r.range(1, 40)) })] });
    cases.push({ name: 'LED: binary of another length', code: 1007, frames: (r) => [m({ opcode: OP.binary, payload: r.bytes(r.pick([0, 1, 2, 4, 6, 64])) })] });
  }
  return cases;
}

class AppRun {
  constructor(host, target, load, clients, seed) {
    this.host = host;
    this.target = target;
    this.load = load;
    this.clients = clients;
    this.seed = seed;
    this.sent = new Map(); // kind -> { messages, bytes }
    this.ends = new Map(); // code -> { clean, unclean }
    this.invalid = new Map(); // case name -> { code, sent, right }
    this.failures = [];
    this.failureCount = new Map();
    this.hangs = 0;
    this.refused = 0;
    this.sessions = 0;
    this.acksMissed = 0;
    this.watched = new Set();
    this.stopping = false;
    this.residents = [];
    this.roles = [];
  }

  fail(kind, text) {
    const n = (this.failureCount.get(kind) ?? 0) + 1;
    this.failureCount.set(kind, n);
    if (n <= 5) {
      this.failures.push(`${this.target.name}: ${kind}: ${text}`);
      console.log(`${TAG}: FAIL ${this.target.name}: ${kind}: ${text}`);
    }
  }

  count(kind, bytes, messages = 1) {
    const row = this.sent.get(kind) ?? { messages: 0, bytes: 0 };
    row.messages += messages;
    row.bytes += bytes;
    this.sent.set(kind, row);
  }

  ended(client, label = null) {
    const { code } = client.outcome;
    const key = label ?? (code >= 3000 && code <= 4999 ? '3000-4999' : code);
    const row = this.ends.get(key) ?? { clean: 0, unclean: 0 };
    if (!label && client.outcome.clean) row.clean++;
    else row.unclean++;
    this.ends.set(key, row);
  }

  /** Opens a WebSocket, retrying 503 (the server full for a moment) up to the hang bound. */
  async open(handlers) {
    const end = now() + this.load.hangMs;
    for (;;) {
      try {
        const client = await connectWs(this.target, handlers, { timeoutMs: this.load.hangMs });
        this.sessions++;
        return client;
      } catch (error) {
        if (error instanceof HandshakeError && error.status === 503 && now() < end && !this.stopping) {
          this.refused++;
          await sleep(100);
          continue;
        }
        if (this.stopping && error instanceof HandshakeError && error.status === 503) throw new Skip();
        if (!this.target.alive) throw new Skip();
        this.fail(error.status === 503 ? 'hang' : 'connect', `${error.message}${error.status === 503 ? ` for ${this.load.hangMs} ms` : ''}`);
        throw new Skip();
      }
    }
  }

  /** While a client waits for the server: the watchdog calls it hung after load.hangMs without a byte. */
  watch(client, label, paused = () => false) {
    const entry = { client, label, paused, hung: false };
    this.watched.add(entry);
    return {
      entry,
      done: () => this.watched.delete(entry),
    };
  }

  checkHangs() {
    for (const entry of this.watched) {
      const { client } = entry;
      if (entry.hung || client.closed || entry.paused()) continue;
      const idle = now() - client.lastProgress;
      if (idle > this.load.hangMs) {
        entry.hung = true;
        this.hangs++;
        this.fail('hang', `${entry.label}: no progress for ${(idle / 1000).toFixed(1)} s (port ${client.localPort}, ${client.bytesOut} bytes sent, ${client.bytesIn} received)`);
        client.destroy();
      }
    }
  }

  /** Polls `test` every few ms until it holds, the client closed or hung; true if it holds. */
  async until(test, client, entry, maxMs = Infinity) {
    const end = now() + maxMs;
    while (!test()) {
      if (client.closed || entry?.hung || now() > end) return test();
      await sleep(client.paused ? 20 : 3);
    }
    return true;
  }

  // ---- roles ----

  /** Echo: messages (fragmented now and then, pings between), all echoed byte for byte; then a normal close. */
  async messenger(rng, label) {
    const expect = [];
    const pings = [];
    let inFlight = 0;
    let bad = null;
    const client = await this.open({
      onData: (type, payload, fin, first) => {
        const head = expect[0];
        if (!head) return void (bad ??= `${type} data of ${payload.length} bytes with nothing outstanding`);
        if (first && type !== head.type) bad ??= `message ${head.n} came back as ${type}, sent as ${head.type}`;
        if (!payload.equals(head.bytes.subarray(head.offset, head.offset + payload.length))) {
          bad ??= `message ${head.n} (${head.type}, ${head.bytes.length} bytes): bytes ${head.offset}-${head.offset + payload.length} differ`;
        }
        head.offset += payload.length;
        inFlight -= payload.length;
        if (fin) {
          if (head.offset !== head.bytes.length) bad ??= `message ${head.n} ended after ${head.offset} of ${head.bytes.length} bytes`;
          expect.shift();
        }
      },
      onPong: (payload) => {
        const want = pings.shift();
        if (!want || !want.equals(payload)) bad ??= `a pong of ${payload.length} bytes that answers no ping`;
      },
    });
    const w = this.watch(client, label);
    try {
      const count = rng.range(5, 120);
      for (let n = 0; n < count && !this.stopping && !bad && !client.closed; n++) {
        const type = rng.chance(0.5) ? 'text' : 'binary';
        const size = rng.weighted([[50, rng.int(128)], [35, rng.int(Math.min(4096, this.load.window))], [15, rng.int(this.load.window + 1)]]);
        const bytes = type === 'text' ? rng.text(size) : rng.bytes(size);
        await this.until(() => inFlight === 0 || inFlight + bytes.length <= this.load.window || bad, client, w.entry);
        if (bad || client.closed) break;
        expect.push({ type, bytes, offset: 0, n });
        inFlight += bytes.length;
        const parts = rng.chance(0.7) ? 1 : rng.range(2, 4);
        const cuts = Array.from({ length: parts - 1 }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
        let at = 0;
        for (let i = 0; i < parts; i++) {
          const end = i < parts - 1 ? cuts[i] : bytes.length;
          client.sendFrame({ opcode: i === 0 ? (type === 'text' ? OP.text : OP.binary) : OP.cont, fin: i === parts - 1, payload: bytes.subarray(at, end) });
          at = end;
          if (i < parts - 1 && rng.chance(0.3)) {
            const ping = rng.bytes(rng.int(126));
            pings.push(ping);
            client.sendFrame({ opcode: OP.ping, payload: ping });
            this.count('ping (between fragments)', ping.length);
          }
        }
        this.count(parts > 1 ? `${type} (${parts} fragments)` : type, bytes.length);
        if (rng.chance(0.05)) {
          const ping = rng.bytes(rng.int(126));
          pings.push(ping);
          client.sendFrame({ opcode: OP.ping, payload: ping });
          this.count('ping', ping.length);
        }
      }
      await this.until(() => (expect.length === 0 && pings.length === 0) || bad, client, w.entry);
      if (bad) return this.lost(client, label, bad);
      if (w.entry.hung) return this.ended(client);
      if (client.closed) return this.unexpectedClose(client, label, `${expect.length} messages outstanding`);
      const code = rng.chance(0.8) ? 1000 : 3000 + rng.int(2000);
      client.sendClose(code, rng.chance(0.3) ? 'bye' : '');
      this.count('close', 2);
      await this.closeEchoed(client, label, code, w.entry);
    } finally {
      w.done();
    }
  }

  lost(client, label, what) {
    this.fail('lost message', `${label}: ${what}`);
    client.destroy();
    this.ended(client);
  }

  unexpectedClose(client, label, what) {
    const { code } = client.outcome;
    this.fail('unexpected close', `${label}: the server closed the connection (${code}${client.closeFrame?.reason ? ` ${client.closeFrame.reason}` : ''}) with ${what}`);
    this.ended(client);
  }

  /** After our close frame: the server must answer with the same code, then close TCP. */
  async closeEchoed(client, label, code, entry) {
    await this.until(() => client.closed, client, entry);
    if (entry.hung) return this.ended(client);
    const out = client.outcome;
    if (out.code !== code || !out.clean) {
      this.fail('missing close code', `${label}: sent close ${code}, the server answered ${out.code === 1006 ? 'no close frame' : `close ${out.code}`}${out.clean ? '' : ' (not clean)'}${client.violations.length ? `; ${client.violations.join('; ')}` : ''}`);
    }
    this.ended(client);
  }

  /** Echo: one large message sent while not reading, read later a piece at a time. */
  async slowEcho(rng, label) {
    const size = this.load.slowSize;
    const type = rng.chance(0.5) ? 'text' : 'binary';
    const bytes = type === 'text' ? rng.text(size) : rng.bytes(size);
    let offset = 0;
    let bad = null;
    let ended = false;
    const client = await this.open({
      onData: (t, payload, fin) => {
        if (t !== type) bad ??= `came back as ${t}, sent as ${type}`;
        if (!payload.equals(bytes.subarray(offset, offset + payload.length))) bad ??= `bytes ${offset}-${offset + payload.length} of ${bytes.length} differ`;
        offset += payload.length;
        if (fin) {
          ended = true;
          if (offset !== bytes.length) bad ??= `the echo ended after ${offset} of ${bytes.length} bytes`;
        }
      },
    });
    client.pauseReading();
    let pausing = true;
    const w = this.watch(client, label, () => pausing);
    try {
      const piece = 16 * 1024;
      const sending = (async () => {
        for (let at = 0; at < bytes.length; at += piece) {
          const end = Math.min(bytes.length, at + piece);
          if (!(await client.sendFrame({ opcode: at === 0 ? (type === 'text' ? OP.text : OP.binary) : OP.cont, fin: end === bytes.length, payload: bytes.subarray(at, end) }))) break;
        }
      })();
      this.count(`${type} (slow reader)`, bytes.length);
      await sleep(rng.range(...this.load.slowPauseMs));
      pausing = false;
      while (!ended && !bad && !client.closed && !w.entry.hung) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 200);
          client.socket.once('data', () => {
            client.socket.pause();
            clearTimeout(timer);
            resolve();
          });
          client.socket.resume();
        });
        await sleep(this.load.slowStepMs);
      }
      client.resumeReading();
      await sending;
      if (bad) return this.lost(client, label, bad);
      if (w.entry.hung) return this.ended(client);
      if (!ended) return this.unexpectedClose(client, label, `${offset} of ${bytes.length} bytes echoed`);
      client.sendClose(1000);
      this.count('close', 2);
      await this.closeEchoed(client, label, 1000, w.entry);
    } finally {
      w.done();
    }
  }

  /** An invalid frame (or a close) after some valid traffic: its close code must come back. */
  async invalidFrame(rng, label) {
    const cases = (this.cases ??= invalidCases(this.target.app, this.target.limits));
    const c = rng.pick(cases);
    const client = await this.open({});
    const w = this.watch(client, label);
    try {
      for (let i = rng.int(3); i > 0; i--) {
        const payload = this.target.app === 'led' ? rng.bytes(3) : rng.bytes(rng.int(200));
        client.sendFrame({ opcode: OP.binary, payload });
        this.count(this.target.app === 'led' ? 'colour' : 'binary', payload.length);
      }
      const specs = c.frames(rng);
      const bytes = Buffer.concat(specs.map((f) => frame({ ...f, mask: f.mask === null ? null : rng.bytes(4) })));
      const row = this.invalid.get(c.name) ?? { code: c.code, sent: 0, right: 0 };
      this.invalid.set(c.name, row);
      row.sent++;
      this.count(c.clean ? 'close (final frame)' : 'invalid frame', bytes.length);
      // 'echo': the code the close frame carries
      const want = c.code === 'echo' ? specs.at(-1).payload.readUInt16BE(0) : c.code;
      await client.write(bytes);
      if (c.clean) client.closeSent = true;
      await this.until(() => client.closed, client, w.entry);
      if (w.entry.hung) return this.ended(client);
      const out = client.outcome;
      if (out.code === want && (!c.clean || out.clean)) row.right++;
      else this.fail('missing close code', `${label}: after ${c.name} the server answered ${out.code === 1006 ? 'no close frame' : `close ${out.code}${client.closeFrame.reason ? ` (${client.closeFrame.reason})` : ''}`}${out.clean ? '' : ' (not clean)'}, expected ${want}`);
      this.ended(client);
    } finally {
      w.done();
    }
  }

  /** Some valid traffic, then part of a frame, then a TCP reset. */
  async resetter(rng, label) {
    const client = await this.open({});
    const w = this.watch(client, label);
    try {
      for (let i = rng.int(3); i > 0; i--) {
        const payload = this.target.app === 'led' ? rng.bytes(3) : rng.bytes(rng.int(2000));
        client.sendFrame({ opcode: OP.binary, payload });
        this.count(this.target.app === 'led' ? 'colour' : 'binary', payload.length);
      }
      const length = this.target.app === 'led' ? 3 : rng.range(2, 30000);
      const whole = frame({ opcode: rng.pick([OP.binary, OP.text]), payload: rng.bytes(length), mask: rng.bytes(4) });
      const cut = rng.range(1, whole.length - 1);
      await client.write(whole.subarray(0, cut));
      this.count('partial frame, then reset', cut);
      await sleep(rng.int(30));
      client.resetNow();
      this.ended(client, 'reset by the client');
    } finally {
      w.done();
    }
  }

  /** LED: colours with at most colourWindow unacknowledged (the broadcast back is the ack); then a normal close. */
  async flooder(rng, label) {
    const own = [];
    const client = await this.open({
      onData: (type, payload) => {
        if (type !== 'binary' || payload.length !== 3) return;
        const at = own.indexOf(payload.toString('hex'));
        if (at >= 0) {
          this.acksMissed += at;
          own.splice(0, at + 1);
        }
      },
    });
    const w = this.watch(client, label);
    try {
      const until = now() + rng.range(...this.load.floodMs);
      while (now() < until && !this.stopping && !client.closed) {
        if (!(await this.until(() => own.length < this.load.colourWindow, client, w.entry, this.load.hangMs / 2))) {
          this.acksMissed += own.length; // skipped while its send budget was full: the LED sends the latest colour instead
          own.length = 0;
          continue;
        }
        const colour = rng.bytes(3);
        own.push(colour.toString('hex'));
        if (rng.chance(0.1)) {
          const cut = rng.range(0, 3);
          client.sendFrame({ opcode: OP.binary, fin: false, payload: colour.subarray(0, cut) });
          client.sendFrame({ opcode: OP.cont, payload: colour.subarray(cut) });
          this.count('colour (2 fragments)', 3);
        } else {
          client.sendFrame({ opcode: OP.binary, payload: colour });
          this.count('colour', 3);
        }
        if (rng.chance(0.02)) {
          client.sendFrame({ opcode: OP.ping, payload: rng.bytes(8) });
          this.count('ping', 8);
        }
        await sleep(this.load.colourGapMs);
      }
      await this.until(() => own.length === 0, client, w.entry, this.load.hangMs / 2);
      this.acksMissed += own.length;
      if (w.entry.hung) return this.ended(client);
      if (client.closed) return this.unexpectedClose(client, label, 'colours in flight');
      client.sendClose(1000);
      this.count('close', 2);
      await this.closeEchoed(client, label, 1000, w.entry);
    } finally {
      w.done();
    }
  }

  /** LED: connected for the whole run, reading (slow: with pauses of seconds); its last colour is checked at the end. */
  async resident(rng, label, slow) {
    const state = { label, last: null, client: null, slow };
    state.client = await this.open({
      onData: (type, payload) => {
        if (type === 'binary' && payload.length === 3) state.last = `#${payload.toString('hex')}`;
      },
    });
    this.residents.push(state);
    if (!slow) return;
    while (!this.stopping && !state.client.closed) {
      state.client.pauseReading();
      await this.sleepUnlessStopping(rng.range(...this.load.slowPauseMs));
      state.client.resumeReading();
      await this.sleepUnlessStopping(rng.range(500, 2000));
    }
  }

  async sleepUnlessStopping(ms) {
    const end = now() + ms;
    while (!this.stopping && now() < end) await sleep(Math.min(100, end - now()));
  }

  async loop(role, index) {
    const rng = Rng.of(this.seed, this.target.name, role, index);
    const label = `${role} ${index}`;
    if (role === 'observer' || (role === 'slow' && this.target.app === 'led')) {
      try {
        await this.resident(rng, label, role === 'slow');
      } catch (error) {
        if (!(error instanceof Skip)) this.fail('client', `${label}: ${error.stack}`);
      }
      return;
    }
    const run = { messenger: this.messenger, slow: this.slowEcho, invalid: this.invalidFrame, resetter: this.resetter, flooder: this.flooder }[role];
    while (!this.stopping && this.target.alive) {
      try {
        await run.call(this, rng, label);
      } catch (error) {
        if (!(error instanceof Skip)) this.fail('client', `${label}: ${error.stack}`);
      }
      await sleep(rng.range(...this.load.gapMs));
    }
  }

  // ---- the run ----

  async start(deadline) {
    const count = Math.min(this.clients, this.target.limits.maxClients - 2);
    this.roles = Array.from({ length: count }, (_, i) => ROLES[this.target.app][i % ROLES[this.target.app].length]);
    this.monitor = startMonitor(this.target);
    this.deadline = deadline;
    this.loops = this.roles.map((role, i) => this.loop(role, i));
    if (this.target.app === 'led' && SLOWLORIS > 0) {
      this.attackers = Array.from({ length: SLOWLORIS }, () => new Slowloris(this.target.port));
      this.loops.push(this.phone());
    }
  }

  /**
   * A phone loading the page on a new connection every second while the slowloris goes
   * on (scripts/stress/phone.mjs, in a worker thread: its own event loop, so the times
   * are the server's, not this busy process's).
   */
  async phone() {
    this.loads = [];
    const worker = new Worker(new URL('./phone.mjs', import.meta.url), { workerData: { port: this.target.port, timeoutMs: 10_000 } });
    const done = new Promise((resolve) => {
      worker.on('message', (load) => {
        if (load === 'stopped') return resolve();
        if (!this.target.alive) return;
        this.loads.push(load.ms);
        if (load.error) this.fail('phone', `GET /: ${load.error}`);
        else if (load.status !== 200 || load.length === 0) this.fail('phone', `GET / answered ${load.status} with ${load.length} bytes`);
        else if (load.ms > PHONE_BOUND_MS) this.fail('phone', `the page took ${load.ms.toFixed(0)} ms (bound ${PHONE_BOUND_MS} ms) with ${SLOWLORIS} slowloris connections`);
      });
      worker.on('error', (error) => {
        this.fail('phone', `worker: ${error.message}`);
        resolve();
      });
      worker.on('exit', () => resolve());
    });
    while (!this.stopping && this.target.alive) await this.sleepUnlessStopping(1000);
    worker.postMessage('stop');
    await Promise.race([done, sleep(15_000)]);
    await worker.terminate();
  }

  stop() {
    this.stopping = true;
    for (const a of this.attackers ?? []) a.stop();
  }

  /** After the deadline: loops end, the LED's final colour is checked, residents close. */
  async finish() {
    await Promise.all(this.loops);
    if (this.target.app === 'led' && this.target.alive) {
      // quiet: no LED change for quietMs (bounded by the hang bound)
      const end = now() + this.load.hangMs;
      while (now() - this.target.out.lastChangeAt < this.load.quietMs && now() < end) await sleep(50);
      const final = this.target.out.ledColour;
      this.finalColour = final;
      for (const r of this.residents) {
        r.client.resumeReading();
        const ok = await this.until(() => r.last === final, r.client, null, this.load.hangMs);
        if (!ok) {
          if (r.client.closed) this.unexpectedClose(r.client, r.label, `last colour ${r.last}`);
          else this.fail('lost message', `${r.label}${r.slow ? ' (slow reader)' : ''} (port ${r.client.localPort}): its last colour is ${r.last}, the LED's is ${final} (waited ${this.load.hangMs} ms)`);
        }
      }
      for (const r of this.residents) {
        if (r.client.closed) {
          this.ended(r.client);
          continue;
        }
        r.client.sendClose(1000);
        this.count('close', 2);
        const w = this.watch(r.client, r.label);
        await this.closeEchoed(r.client, r.label, 1000, w.entry);
        w.done();
      }
    }
    this.rss = this.monitor.stop();
    this.after = await settle(this.target.pid, { fds: this.rss.before.fds, slack: FD_SLACK, minMs: this.load.settleMs[0], maxMs: this.load.settleMs[1] });
    this.bounds = { fdSlack: FD_SLACK, rssBound: rssBound(this.host, this.rss.warm) };
    if (!this.target.alive) {
      if (!this.failureCount.has('crash')) this.fail('crash', `the server exited (${this.target.exitStatus})`);
    }
    else this.failures.push(...leakFailures(this.target, this.rss, this.after, this.bounds));
  }

  report() {
    const t = this.target;
    const roles = new Map();
    for (const r of this.roles) roles.set(r, (roles.get(r) ?? 0) + 1);
    console.log(`\n${TAG}: ${t.name} (pid ${t.pid}, port ${t.port}): ${this.roles.length} clients (${[...roles].map(([r, n]) => `${n} ${r}`).join(', ')}), ${this.sessions} connections${this.refused ? `, ${this.refused} upgrades answered 503 and retried` : ''}`);
    console.log('  sent:');
    const sent = [...this.sent].sort((a, b) => b[1].bytes - a[1].bytes);
    const total = sent.reduce((s, [, r]) => [s[0] + r.messages, s[1] + r.bytes], [0, 0]);
    console.log(table(['kind', 'messages', 'bytes'], [...sent.map(([k, r]) => [k, r.messages, r.bytes]), ['total', total[0], total[1]]]));
    console.log('  connections ended with:');
    const ends = [...this.ends].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    console.log(table(['close', 'meaning', 'clean', 'unclean'], ends.map(([code, r]) => [String(code), codeName(Number.parseInt(code, 10)), r.clean, r.unclean])));
    if (this.invalid.size) {
      console.log('  invalid frames and closes (the close code each must bring):');
      const rows = [...this.invalid].sort((a, b) => a[0].localeCompare(b[0])).map(([name, r]) => [name, String(r.code), r.sent, r.right]);
      console.log(table(['sent', 'expected', 'times', 'right'], rows));
    }
    if (this.attackers) {
      const loads = [...this.loads].sort((a, b) => a - b);
      const at = (q) => (loads.length ? loads[Math.min(loads.length - 1, Math.floor(q * loads.length))].toFixed(0) : '-');
      console.log(`  slowloris: ${this.attackers.length} attackers opened ${this.attackers.reduce((n, a) => n + a.connections, 0)} connections, ` +
        `the server dropped ${this.attackers.reduce((n, a) => n + a.dropped, 0)}; the phone loaded the page ${loads.length} times: ` +
        `median ${at(0.5)} ms, 95% ${at(0.95)} ms, max ${loads.length ? loads[loads.length - 1].toFixed(0) : '-'} ms (bound ${PHONE_BOUND_MS} ms)`);
    }
    if (t.app === 'led') {
      console.log(`  LED: ${t.out.ledChanges} changes, final ${this.finalColour ?? t.out.ledColour}; ${this.residents.length} resident clients checked against it; ` +
        `a client fell behind (full send budget) ${t.out.behind} times and caught up ${t.out.caughtUp} times; ${this.acksMissed} flooder acks skipped`);
    }
    console.log(`  hangs: ${this.hangs} (bound ${(this.load.hangMs / 1000).toFixed(0)} s without progress)`);
    console.log('  server:');
    console.log(table(RESOURCE_HEADERS, [resourceRow(t, this.rss, this.after, this.bounds)]));
    if (t.out.errorLines) console.log(`  the server printed ${t.out.errorLines} error lines; last: ${t.out.lastErrors.at(-1)}`);
    if (t.out.writeFailed) console.log(`  the SDK traced "write failed" (a write to a socket whose peer is gone) ${t.out.writeFailed} times`);
    for (const [kind, n] of this.failureCount) if (n > 5) this.failures.push(`${t.name}: ${kind}: ${n - 5} more`);
  }
}

// ---- main ------------------------------------------------------------------------------------

moddable.installExitHandlers();
console.log(`${TAG}: ${MINUTES} min per host, ${CLIENTS} clients per app, apps ${APPS.join(' and ')}, hosts ${hosts.join(' then ')}, seed ${SEED}`);
const failures = [];
for (const host of hosts) {
  let targets;
  try {
    ({ targets } = await startTargets(host, APPS, TAG));
  } catch (error) {
    failures.push(`${host}: ${error.message}`);
    console.error(`${TAG}: ${host}: ${error.message}`);
    continue;
  }
  for (const t of targets) console.log(`${TAG}: ${t.name}: pid ${t.pid}, ws://127.0.0.1:${t.port}${t.path}`);
  const echo = targets.find((t) => t.app === 'echo');
  let rate;
  try {
    rate = echo ? await echoRate(echo, host === 'sim' ? 1 << 20 : 64 * 1024) : host === 'sim' ? 10e6 : 70e3;
  } catch (error) {
    failures.push(`${host}: measuring the echo: ${error.message}`);
    for (const target of targets) await target.stop();
    continue;
  }
  const echoClients = echo ? Math.min(CLIENTS, echo.limits.maxClients - 2) : 0;
  const load = sizeLoad(host, rate, echoClients);
  console.log(`${TAG}: ${host}: echo ${kib(rate)}/s${echo ? '' : ' (assumed: no echo app)'}; load sized from it: messages up to ${kib(load.window)} with ${kib(load.window)} in flight per messenger, slow reader ${kib(load.slowSize)}, a colour every ${load.colourGapMs} ms per flooder (${load.colourWindow} unacknowledged), hang bound ${(load.hangMs / 1000).toFixed(0)} s`);
  const runs = targets.map((t) => new AppRun(host, t, load, CLIENTS, SEED));
  const started = now();
  const deadline = started + MINUTES * 60_000;
  for (const run of runs) await run.start(deadline);
  let crashed = false;
  while (now() < deadline && !crashed) {
    await sleep(500);
    for (const run of runs) {
      run.checkHangs();
      if (!run.target.alive) {
        crashed = true;
        run.fail('crash', `the server exited (${run.target.exitStatus})`);
      }
    }
    if (Math.floor((now() - started) / 30_000) !== Math.floor((now() - started - 500) / 30_000)) {
      console.log(`${TAG}: ${host}: ${((now() - started) / 1000).toFixed(0)} s: ${runs.map((r) => `${r.target.app} ${r.sessions} connections, ${r.failures.length} failures`).join('; ')}`);
    }
  }
  for (const run of runs) run.stop();
  const finishing = Promise.all(runs.map((r) => r.finish()));
  let finished = false;
  finishing.then(() => (finished = true));
  while (!finished) {
    for (const run of runs) run.checkHangs();
    await sleep(250);
  }
  for (const run of runs) {
    run.report();
    failures.push(...run.failures);
  }
  console.log(`\n${TAG}: ${host}: ${((now() - started) / 1000).toFixed(0)} s`);
  for (const target of targets) await target.stop();
  moddable.stopAll();
}
console.log(`\n${TAG}: ${failures.length ? 'FAILED' : 'PASSED'}`);
for (const f of failures) console.log(`  ${f}`);
process.exit(failures.length ? 1 : 0);
