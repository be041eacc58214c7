// npm run bench:moddable-cpu — CPU time per message received, our WebSocket client and
// server against the Moddable SDK's own, in Moddable's simulator (needs $MODDABLE; prints
// "SKIPPED" and exits 0 without it).
//
// Two release apps (mcconfig without -d, optimized C, no debugger), built and run only
// through scripts/moddable.mjs:
//   bench/moddable-cpu/cpu-ours      our WebSocketClient and WebSocketServer (src/)
//   bench/moddable-cpu/cpu-moddable  the SDK's client of examples/io/tcp/websocketclient
//                                    and the server of its `websocket` module (the one of
//                                    examples/network/http/httpserverwithwebsockets),
//                                    both included by path from $MODDABLE
// Both run bench/moddable-cpu/common/harness.js: each implementation reads the same
// prepared frames (bench/moddable-cpu/common/frames.js, which this runner imports too)
// from an in-memory socket, the same stand-in class for both (ECMA-419 for both clients
// and our server, the older `socket` API for the SDK's server), synchronously, in timed
// loops inside the app. (The SDK's desktop socket is polled every 20 ms and reads at
// most 1536 bytes per poll, ~75 KB/s: timed over it, the idle cost of the polling would
// be as large as the work.) The app brackets each timed loop with a MARK and a TIME line,
// each followed by 100 ms of idling; at each of these lines this runner reads the CPU
// time of the mcsim process, so the figures are CPU time even when other processes
// compete for the CPU; the app's own timer (wall clock) is reported beside it.
//
// Rounds alternate which app runs first (ours, Moddable; Moddable, ours; ...); each app
// run measures every size and side `repeat` times; the figure is the median over the
// rounds of each run's median. Every VERIFY line (one pass with every byte checksummed)
// must match the Adler-32 computed here, and every TIME line must count every message
// and byte with no message out of order or cut short, else the bench fails (exit 1).
//
// Cross-check over the real socket: in the last round each app also connects its client
// to a `ws` server here on 127.0.0.1 that sends unmasked binary frames (REAL_MESSAGES
// per size, then an empty message that ends the batch): the CPU time of mcsim over each
// batch, less the app's idle CPU (measured with the connection open and no traffic,
// before and after the batches) over the same wall time, divided by the messages.
//
// CPU time of mcsim (Linux): the run time of all its threads from
// /proc/<pid>/task/*/schedstat (ns), which is what /proc/<pid>/stat reports as
// utime + stime in 10 ms ticks (too coarse for 250 ms windows); /proc/<pid>/stat where
// schedstat is missing. Without /proc (macOS, Windows): the app's timer only, no
// cross-check.
//
// --alloc: also what each implementation allocates per message: instrumented release
// builds of both apps (mcconfig -i, in their own folders; the first build takes a few
// minutes) run one pass per size and side with the garbage collector off and report how
// much the XS slot and chunk heaps grew.
//
// Options: --rounds N (default 3), --min-ms N (per measurement, default 250),
// --repeat N (measurements per app run, default 3), --no-real (skip the cross-check),
// --alloc.
// BENCH_TRACE=1 prints every line the apps trace.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import {
  buildSimulatorApp,
  findSdkOrSkip,
  installExitHandlers,
  reservePorts,
  root,
  startSimulator,
  startXvfb,
  stopAll,
} from '../scripts/moddable.mjs';
import { REAL_MESSAGES, SIZES, expectedAdler, messagesPerPass, payloadByte } from './moddable-cpu/common/frames.js';

const TAG = 'bench:moddable-cpu';
const USAGE = 'npm run bench:moddable-cpu -- [--rounds N] [--min-ms N] [--repeat N] [--no-real] [--alloc]';
let options;
try {
  ({ values: options } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rounds: { type: 'string', default: '3' },
      'min-ms': { type: 'string', default: '250' },
      repeat: { type: 'string', default: '3' },
      'no-real': { type: 'boolean', default: false },
      alloc: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  console.error(`${TAG}: ${error.message}\nusage: ${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(`usage: ${USAGE}`);
  process.exit(0);
}
const ROUNDS = Number(options.rounds);
const MIN_MS = Number(options['min-ms']);
const REPEAT = Number(options.repeat);
for (const [name, value] of [['rounds', ROUNDS], ['min-ms', MIN_MS], ['repeat', REPEAT]]) {
  if (!(Number.isInteger(value) && value >= 1)) {
    console.error(`${TAG}: --${name} must be a whole number >= 1\nusage: ${USAGE}`);
    process.exit(2);
  }
}

const sdk = findSdkOrSkip(TAG);
if (!sdk) process.exit(0);
installExitHandlers(); // every process started below is stopped by its PID

const IMPLS = [
  { name: 'ours', label: 'ours', dir: 'cpu-ours' },
  { name: 'moddable', label: 'Moddable', dir: 'cpu-moddable' },
];
const SIDES = ['client', 'server'];
const IDLE_MS = 3000;
const SLOT_BYTES = 32; // an XS slot on this 64-bit simulator (16 bytes on the ESP32)
const APP_TIMEOUT = 180_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const sizeLabel = (size) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const us = (value) => (value >= 100 ? fixed(value, 0) : value >= 10 ? fixed(value, 1) : fixed(value, 2));
const thousands = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

// ---- CPU time from /proc -----------------------------------------------------------------

const procCpu = existsSync('/proc/self/stat');
const CLK_TCK = (() => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return Number.isInteger(value) && value > 0 ? value : 100;
})();

/** CPU seconds (user + system) of all threads of a process so far: /proc/<pid>/stat utime + stime. */
function statSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15
}

/** The same in ns resolution: the run time of each thread from /proc/<pid>/task/<tid>/schedstat; null without schedstat. */
function schedSeconds(pid) {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch (error) {
      if (error.code === 'ENOENT' && existsSync(`/proc/${pid}/task/${tid}`)) return null; // no schedstat in this kernel
      // else the thread has just ended: its time is lost, as it is from utime + stime
    }
  }
  return total / 1e9;
}

const haveSchedstat = procCpu && existsSync('/proc/self/schedstat');
const cpuSource = haveSchedstat ? '/proc/<pid>/task/*/schedstat' : `/proc/<pid>/stat (1/${CLK_TCK} s ticks)`;
/** CPU seconds of a process so far (see the top of this file). */
function cpuSeconds(pid) {
  return (haveSchedstat ? schedSeconds(pid) : null) ?? statSeconds(pid);
}

// ---- expectations --------------------------------------------------------------------------

const expected = {};
for (const side of SIDES) {
  for (const size of SIZES) {
    const count = messagesPerPass(size, side === 'server');
    expected[`${side} ${size}`] = { count, adler: expectedAdler(size, count) };
  }
}

class BenchFailure extends Error {}

// ---- one app run -----------------------------------------------------------------------------

const realPeer = { expecting: false, waiters: [] };

/**
 * Runs one app until "MEMORY done" (and, with `real`, through the cross-check); returns
 * { times: { 'side size': [{ wall, cpu, share }, ...] }, real }: µs per message by the
 * app's timer and by mcsim's CPU time, and CPU / wall. allocOnly (an instrumented
 * build): { allocs: { 'side size': { slots, chunk } } } per message.
 */
async function runApp(impl, app, display, real, allocOnly = false) {
  const lines = [];
  const listeners = new Set();
  const cpuAt = new Map(); // index of a MARK or TIME line -> mcsim's CPU seconds when it arrived
  let pid = 0;
  const onLine = (line) => {
    if (procCpu && pid && (line.startsWith('MARK ') || line.startsWith('TIME '))) {
      try {
        cpuAt.set(lines.length, cpuSeconds(pid));
      } catch {
        cpuAt.set(lines.length, NaN); // the simulator has just exited: reported below
      }
    }
    lines.push(line);
    if (process.env.BENCH_TRACE) console.log(`[${impl.name}] ${line}`);
    for (const listener of listeners) listener(line);
  };
  // The app connects as soon as its in-memory part is done: be ready before it starts.
  realPeer.expecting = real;
  const peer = real ? nextPeer(APP_TIMEOUT) : null;
  peer?.catch(() => {}); // awaited (and its failure reported) in crossCheck
  const sim = await startSimulator(sdk, { app, display, console: true, onLine });
  pid = sim.pid; // the app prints nothing before it runs, which is after this
  let exited = false;
  sim.exited.then(() => (exited = true));
  /** The first line (from `from` on) matching re; rejects on FAIL, exit or timeout. */
  const expectLine = (re, ms, from = 0) =>
    new Promise((resolve, reject) => {
      const check = (line) => {
        if (line.startsWith('FAIL ')) return finish(new BenchFailure(`${impl.label} app: ${line}`));
        const m = re.exec(line);
        if (m) finish(null, m);
      };
      const timer = setTimeout(() => finish(new BenchFailure(`${impl.label} app: no ${re} within ${ms / 1000} s${exited ? ' (the simulator exited)' : ''}; last lines:\n  ${lines.slice(-5).join('\n  ')}`)), ms);
      const exitCheck = setInterval(() => exited && finish(new BenchFailure(`${impl.label} app: the simulator exited; last lines:\n  ${lines.slice(-5).join('\n  ')}`)), 200);
      function finish(error, m) {
        clearTimeout(timer);
        clearInterval(exitCheck);
        listeners.delete(check);
        if (error) reject(error);
        else resolve(m);
      }
      listeners.add(check);
      for (const line of lines.slice(from)) {
        if (!listeners.has(check)) break;
        check(line);
      }
    });

  const times = {};
  const allocs = {};
  let realResult = null;
  try {
    await expectLine(/^MEMORY done$/, APP_TIMEOUT);
    if (allocOnly) {
      for (const line of lines) {
        const words = line.split(' ');
        if (words[0] === 'VERIFY') checkVerify(impl, words);
        else if (words[0] === 'ALLOC') {
          const [, , side, sizeText, messages, errors, slotBytes, chunkBytes] = words;
          const want = expected[`${side} ${sizeText}`].count;
          if (Number(messages) !== want || Number(errors) !== 0) throw new BenchFailure(`${impl.label} ${side} ${sizeLabel(Number(sizeText))}, allocation pass: ${messages} of ${want} messages, ${errors} out of order or of the wrong length`);
          allocs[`${side} ${sizeText}`] = { slots: Number(slotBytes) / SLOT_BYTES / want, chunk: Number(chunkBytes) / want };
        }
      }
      if (Object.keys(allocs).length !== SIDES.length * SIZES.length) throw new BenchFailure(`${impl.label} app: ALLOC lines missing (is the build instrumented?)`);
      return { allocs };
    }
    let mark = -1;
    lines.forEach((line, index) => {
      const words = line.split(' ');
      if (words[0] === 'VERIFY') checkVerify(impl, words);
      else if (words[0] === 'MARK') mark = index;
      else if (words[0] === 'TIME') {
        const { key, messages, ms } = checkTime(impl, words);
        const cpu = procCpu && mark >= 0 ? cpuAt.get(index) - cpuAt.get(mark) : null;
        (times[key] ??= []).push({ wall: (ms * 1000) / messages, cpu: cpu === null ? null : (cpu * 1e6) / messages, share: cpu === null ? null : (cpu * 1000) / ms });
        mark = -1;
      }
    });
    for (const side of SIDES) {
      for (const size of SIZES) {
        const n = times[`${side} ${size}`]?.length ?? 0;
        if (n !== REPEAT) throw new BenchFailure(`${impl.label} app: ${n} of ${REPEAT} TIME lines for ${side} ${size}`);
      }
    }
    if (real) realResult = await crossCheck(impl, sim, expectLine, lines, peer);
  } finally {
    realPeer.expecting = false;
    realPeer.waiters.length = 0;
    await sim.stop();
  }
  return { times, real: realResult };
}

function checkVerify(impl, [, name, side, sizeText, messages, bytes, errors, adler, dropped]) {
  const size = Number(sizeText);
  const want = expected[`${side} ${size}`];
  const problems = [];
  if (name !== impl.name) problems.push(`from app ${name}`);
  if (Number(messages) !== want.count) problems.push(`${messages} of ${want.count} messages`);
  if (Number(bytes) !== want.count * size) problems.push(`${bytes} of ${want.count * size} bytes`);
  if (Number(errors) !== 0) problems.push(`${errors} messages out of order or of the wrong length`);
  if (Number(adler) !== want.adler) problems.push(`Adler-32 ${adler}, expected ${want.adler}`);
  if (Number(dropped) !== 0) problems.push(`${dropped} bytes left unread`);
  if (problems.length) throw new BenchFailure(`${impl.label} ${side} ${sizeLabel(size)}, verification pass: ${problems.join(', ')}`);
}

function checkTime(impl, [, name, side, sizeText, passes, messages, bytes, errors, ms]) {
  const size = Number(sizeText);
  const want = expected[`${side} ${size}`];
  const count = Number(passes) * want.count;
  const problems = [];
  if (name !== impl.name) problems.push(`from app ${name}`);
  if (Number(messages) !== count) problems.push(`${messages} of ${count} messages`);
  if (Number(bytes) !== count * size) problems.push(`${bytes} of ${count * size} bytes`);
  if (Number(errors) !== 0) problems.push(`${errors} messages out of order or of the wrong length`);
  if (!(Number(ms) >= MIN_MS)) problems.push(`${ms} ms`);
  if (problems.length) throw new BenchFailure(`${impl.label} ${side} ${sizeLabel(size)}, timed run: ${problems.join(', ')}`);
  return { key: `${side} ${size}`, messages: count, ms: Number(ms) };
}

// ---- the real-socket cross-check ---------------------------------------------------------

function payloads(size, count) {
  const list = [];
  for (let n = 0; n < count; n++) {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = payloadByte(n, i, size);
    list.push(payload);
  }
  return list;
}
const realPayloads = Object.fromEntries(SIZES.map((size) => [size, payloads(size, REAL_MESSAGES[size])]));

/** The app's client connection to our server (its next one, once expected). */
function nextPeer(ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchFailure(`no WebSocket connection from the app within ${ms / 1000} s`)), ms);
    realPeer.waiters.push((socket) => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

async function idleRate(pid) {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(IDLE_MS);
  return (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
}

async function crossCheck(impl, sim, expectLine, lines, peer) {
  const socket = await peer;
  await expectLine(/^REAL open/, 30_000);
  await sleep(500);
  const idleBefore = await idleRate(sim.pid);
  const batches = [];
  for (const size of SIZES) {
    const list = realPayloads[size];
    const mark = lines.length;
    const c0 = cpuSeconds(sim.pid);
    const t0 = performance.now();
    for (const payload of list) socket.send(payload, { binary: true });
    socket.send(Buffer.alloc(0), { binary: true });
    const [line] = await expectLine(new RegExp(`^REAL batch ${size} \\d+ \\d+ \\d+$`), 120_000, mark);
    const cpu = cpuSeconds(sim.pid) - c0;
    const wall = (performance.now() - t0) / 1000;
    const [, , , messages, bytes, errors] = line.split(' ');
    if (Number(messages) !== list.length || Number(bytes) !== list.length * size || Number(errors) !== 0) {
      throw new BenchFailure(`${impl.label} client over the real socket, ${sizeLabel(size)}: ${messages} of ${list.length} messages, ${bytes} of ${list.length * size} bytes, ${errors} out of order or of the wrong length`);
    }
    batches.push({ size, messages: list.length, cpu, wall });
    await sleep(300);
  }
  const idleAfter = await idleRate(sim.pid);
  const idle = (idleBefore + idleAfter) / 2;
  socket.terminate();
  return {
    idleBefore,
    idleAfter,
    batches: batches.map((b) => ({ ...b, idle: idle * b.wall, perMessage: ((b.cpu - idle * b.wall) * 1e6) / b.messages })),
  };
}

// ---- main -----------------------------------------------------------------------------------

let status = 0;
const realWanted = !options['no-real'] && procCpu;
try {
  const { ports: [realPort] } = await reservePorts(1); // held for this run
  const apps = {};
  const instrumented = {};
  for (const impl of IMPLS) {
    console.log(`${TAG}: building bench/moddable-cpu/${impl.dir} (release: mcconfig without -d, then make build; never -m)`);
    apps[impl.name] = buildSimulatorApp(sdk, {
      manifestDir: join(root, 'bench', 'moddable-cpu', impl.dir),
      release: true,
      quiet: true,
      config: { minMs: MIN_MS, repeat: REPEAT, realPort: realWanted ? realPort : 0 },
    }).app;
    if (options.alloc) {
      console.log(`${TAG}: building bench/moddable-cpu/${impl.dir} instrumented (mcconfig -i, then make build)`);
      instrumented[impl.name] = buildSimulatorApp(sdk, {
        manifestDir: join(root, 'bench', 'moddable-cpu', impl.dir),
        release: true,
        instrument: true,
        quiet: true,
        config: { allocOnly: 1, realPort: 0 },
      }).app;
    }
  }
  const display = sdk.host === 'lin' ? process.env.DISPLAY || (await startXvfb()) : undefined;

  let server = null;
  if (realWanted) {
    server = new WebSocketServer({ host: '127.0.0.1', port: realPort, perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    server.on('connection', (socket) => {
      // An app of an earlier round connects once its in-memory part is done, just before
      // it is stopped: only the last round's connections are used.
      const waiter = realPeer.expecting ? realPeer.waiters.shift() : undefined;
      if (waiter) waiter(socket);
      else socket.terminate();
    });
  }

  const perRun = {}; // 'side size' -> impl -> { cpu, wall, share }: each run's median
  const realResults = {};
  const started = performance.now();
  const main = procCpu ? 'cpu' : 'wall';
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? IMPLS : [...IMPLS].reverse();
    for (const impl of order) {
      const last = round === ROUNDS;
      process.stdout.write(`${TAG}: round ${round}/${ROUNDS}, ${impl.label}${last && realWanted ? ' (then the real-socket cross-check)' : ''} ... `);
      const { times, real } = await runApp(impl, apps[impl.name], display, last && realWanted);
      for (const [key, values] of Object.entries(times)) {
        const entry = ((perRun[key] ??= {})[impl.name] ??= { cpu: [], wall: [], share: [] });
        for (const field of ['cpu', 'wall', 'share']) entry[field].push(procCpu || field === 'wall' ? median(values.map((v) => v[field])) : NaN);
      }
      if (real) realResults[impl.name] = real;
      const at = (side, size) => us(median(times[`${side} ${size}`].map((v) => v[main])));
      console.log(SIZES.map((size) => `${sizeLabel(size)}: client ${at('client', size)}, server ${at('server', size)} µs`).join('; '));
    }
  }
  server?.close();
  const allocs = {};
  if (options.alloc) {
    for (const impl of IMPLS) {
      process.stdout.write(`${TAG}: allocations, ${impl.label} (instrumented build) ... `);
      allocs[impl.name] = (await runApp(impl, instrumented[impl.name], display, false, true)).allocs;
      console.log('done');
    }
  }

  const seconds = Math.round((performance.now() - started) / 1000);
  const what = procCpu ? `CPU time of mcsim (${cpuSource}) over the app's timed loops` : "the app's timer (wall clock)";
  console.log(`\nReceiving, per message: ${what}; Moddable simulator (${sdk.host}, release builds), in-memory sockets; median over ${ROUNDS} alternating rounds of each run's median of ${REPEAT} measurements of >= ${MIN_MS} ms; µs/MiB of payload; ${seconds} s\n`);
  console.log('| side | size | ours µs/msg | Moddable µs/msg | ours µs/MiB | Moddable µs/MiB | ours/Moddable | per round |');
  console.log('|---|---|---|---|---|---|---|---|');
  const ratios = {};
  for (const side of SIDES) {
    for (const size of SIZES) {
      const runs = perRun[`${side} ${size}`];
      const ours = median(runs.ours[main]);
      const theirs = median(runs.moddable[main]);
      ratios[`${side} ${size}`] = ours / theirs;
      const perMiB = (value) => (value * 1048576) / size;
      const roundRatios = runs.ours[main].map((value, i) => (value / runs.moddable[main][i]).toFixed(2)).join(', ');
      console.log(`| ${side} | ${sizeLabel(size)} | ${us(ours)} | ${us(theirs)} | ${thousands(perMiB(ours))} | ${thousands(perMiB(theirs))} | ${fixed(ours / theirs, 2)} | ${roundRatios} |`);
    }
  }
  if (procCpu) {
    const shareOf = (name) => median(SIDES.flatMap((side) => SIZES.flatMap((size) => perRun[`${side} ${size}`][name].share)));
    const share = (name) => `${(shareOf(name) * 100).toFixed(0)} %`;
    console.log(`\nThe app's own timer (wall clock) for the same loops; mcsim ran for a median ${share('ours')} (ours) and ${share('moddable')} (Moddable) of that time (less: other processes had the CPU):\n`);
    console.log('| side | size | ours µs/msg | Moddable µs/msg | ours/Moddable |');
    console.log('|---|---|---|---|---|');
    for (const side of SIDES) {
      for (const size of SIZES) {
        const runs = perRun[`${side} ${size}`];
        const ours = median(runs.ours.wall);
        const theirs = median(runs.moddable.wall);
        console.log(`| ${side} | ${sizeLabel(size)} | ${us(ours)} | ${us(theirs)} | ${fixed(ours / theirs, 2)} |`);
      }
    }
    if (Math.min(shareOf('ours'), shareOf('moddable')) < 0.9) {
      console.log('\nNOTE: other processes took more than 10 % of the timed wall time. CPU time excludes the waiting, not the slowing (shared caches and memory bandwidth): the per-round ratios show how much the figures moved; run again on a quieter machine for figures to compare.');
    }
  }
  if (options.alloc) {
    console.log(`\nAllocated per message received (one pass with the garbage collector off, instrumented build: growth of the XS slot heap in ${SLOT_BYTES}-byte slots and of the chunk heap in bytes, divided by the messages; includes each handler's own view of the data, see docs/BENCHMARKS.md):\n`);
    console.log('| side | size | ours slots | ours chunk bytes | Moddable slots | Moddable chunk bytes |');
    console.log('|---|---|---|---|---|---|');
    const n = (value) => (value >= 10 ? value.toFixed(0) : value.toFixed(2));
    for (const side of SIDES) {
      for (const size of SIZES) {
        const a = allocs.ours[`${side} ${size}`];
        const b = allocs.moddable[`${side} ${size}`];
        console.log(`| ${side} | ${sizeLabel(size)} | ${n(a.slots)} | ${n(a.chunk)} | ${n(b.slots)} | ${n(b.chunk)} |`);
      }
    }
  }
  if (realWanted) {
    const ours = realResults.ours;
    const theirs = realResults.moddable;
    const pct = (rate) => `${(rate * 100).toFixed(1)} %`;
    console.log(`\nCross-check, the clients over the simulator's real socket (a \`ws\` server on 127.0.0.1 sending unmasked binary frames): CPU time of mcsim less its idle CPU over the same wall time (idle, connection open, no traffic: ours ${pct(ours.idleBefore)} then ${pct(ours.idleAfter)} of a core, Moddable ${pct(theirs.idleBefore)} then ${pct(theirs.idleAfter)}):\n`);
    console.log('| size | messages | wall s, ours / Moddable | CPU ms less idle ms, ours | same, Moddable | ours µs/msg | Moddable µs/msg | ours/Moddable | in memory |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (let i = 0; i < SIZES.length; i++) {
      const a = ours.batches[i];
      const b = theirs.batches[i];
      const ms = (x) => (x * 1000).toFixed(0);
      console.log(`| ${sizeLabel(a.size)} | ${a.messages} | ${a.wall.toFixed(1)} / ${b.wall.toFixed(1)} | ${ms(a.cpu)} - ${ms(a.idle)} | ${ms(b.cpu)} - ${ms(b.idle)} | ${us(a.perMessage)} | ${us(b.perMessage)} | ${fixed(a.perMessage / b.perMessage, 2)} | ${fixed(ratios[`client ${a.size}`], 2)} |`);
    }
  } else if (!options['no-real']) {
    console.log(`\n(no real-socket cross-check: it reads CPU times from /proc, which ${process.platform} does not have)`);
  }
} catch (error) {
  console.log('');
  console.error(`${TAG}: FAILED: ${error instanceof BenchFailure ? error.message : error.stack}`);
  status = 1;
}
stopAll();
process.exit(status);
