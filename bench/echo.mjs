// npm run bench:echo — our echo server on the sim host against a `ws` echo server.
//
// Both servers run as child processes (neither shares a process or an event loop with
// the client): ours is test/testee/echo-server.ts through hosts/sim/run.mjs in message
// mode (whole messages reassembled, as ws does), the reference is bench/echo-ws-server.mjs.
// The client is one `ws` WebSocket per server, in this process. Measurements alternate
// between the servers round by round, so drift (thermal, other load) hits both alike.
//
//   round trip: one 16-byte binary message in flight, p50/p99 over all rounds
//   throughput: WINDOW messages kept in flight, messages echoed per second (median round);
//   large messages (1 and 16 MiB) also sent in 64 KiB fragments (the echo is one message)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));
const wsVersion = createRequire(import.meta.url)('ws/package.json').version;
const quick = process.argv.includes('--quick');
// Many short rounds, alternating which server goes first: a disturbance lands on both.
const RTT_ROUNDS = quick ? 4 : 20;
const RTT_PER_ROUND = 2500;
const ROUNDS = quick ? 3 : 15;
const ROUNDS_LARGE = quick ? 3 : 5;
const MAX_MESSAGE = 16 << 20;
const FRAGMENT = 64 * 1024;

const children = [];

function startServer(name, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const m = /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearInterval(check);
        resolve({ name, url: m[1], child });
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`${name} exited: ${out}`));
      }
    }, 10);
  });
}

function stopAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // by its PID
  }
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

function open(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_MESSAGE });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** n round trips, one message in flight; returns each round trip in microseconds. */
function roundTrips(ws, n, payload) {
  return new Promise((resolve, reject) => {
    const times = new Float64Array(n);
    let i = 0;
    let t0 = 0n;
    const onClose = (code) => reject(new Error(`closed with ${code}`));
    const onMessage = (data) => {
      times[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (data.length !== payload.length) return reject(new Error(`bad echo: ${data.length} bytes`));
      if (++i === n) {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        return resolve(times);
      }
      t0 = process.hrtime.bigint();
      ws.send(payload);
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    t0 = process.hrtime.bigint();
    ws.send(payload);
  });
}

/** One binary message, whole or (fragmented) as frames of FRAGMENT bytes. */
function sendMessage(ws, payload, fragmented) {
  if (!fragmented) return ws.send(payload);
  for (let at = 0; at < payload.length; at += FRAGMENT) {
    ws.send(payload.subarray(at, at + FRAGMENT), { binary: true, fin: at + FRAGMENT >= payload.length });
  }
}

/** n messages with `window` in flight; returns messages per second. Checks every echo's length and the last one's bytes. */
function pipelined(ws, n, window, payload, fragmented = false) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    const onClose = (code) => reject(new Error(`closed with ${code}`));
    const onMessage = (data) => {
      if (data.length !== payload.length) return reject(new Error(`bad echo: ${data.length} bytes`));
      if (++received === n) {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        ws.off('message', onMessage);
        ws.off('close', onClose);
        if (!Buffer.from(data).equals(payload)) return reject(new Error('echo differs'));
        return resolve(n / seconds);
      }
      if (sent < n) {
        sent++;
        sendMessage(ws, payload, fragmented);
      }
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    const t0 = process.hrtime.bigint();
    while (sent < window && sent < n) {
      sent++;
      sendMessage(ws, payload, fragmented);
    }
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function percentile(values, p) {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const started = Date.now();
const servers = await Promise.all([
  startServer('ours', ['hosts/sim/run.mjs', 'test/testee/echo-server.ts', '--port', '0', '--message-mode', '--max-message', String(MAX_MESSAGE)]),
  startServer('ws', ['bench/echo-ws-server.mjs', '--port', '0', '--max-message', String(MAX_MESSAGE)]),
]);
const sockets = {};
for (const s of servers) sockets[s.name] = await open(s.url);

console.log(`Echo servers over loopback, Node ${process.version}, ws ${wsVersion}; client: one ws WebSocket per server in the bench process`);
console.log('ours: test/testee/echo-server.ts on hosts/sim (child process, message mode, 16 MiB max message, sim TCP: 8 KiB send buffer, 64 KiB receive window)');
console.log('ws:   bench/echo-ws-server.mjs (child process, ws WebSocketServer, maxPayload 16 MiB, no compression)');
console.log(`binary messages; rounds alternate between the servers: ${RTT_ROUNDS} for round trips, ${ROUNDS} per throughput figure (${ROUNDS_LARGE} for 1 and 16 MiB; median round)\n`);

// Warm-up: JIT both servers and the client on every size.
for (const name of ['ours', 'ws']) {
  await roundTrips(sockets[name], 2000, randomBytes(16));
  for (const size of [16, 1024, 65536]) await pipelined(sockets[name], size > 4096 ? 200 : 5000, 32, randomBytes(size));
}

const rows = [];
// Round trips: one message in flight.
{
  const n = RTT_PER_ROUND;
  const payload = randomBytes(16);
  const samples = { ours: [], ws: [] };
  for (let r = 0; r < RTT_ROUNDS; r++) {
    for (const name of r % 2 ? ['ws', 'ours'] : ['ours', 'ws']) samples[name].push(...(await roundTrips(sockets[name], n, payload)));
  }
  for (const p of [50, 99]) {
    const ours = percentile(samples.ours, p);
    const ws = percentile(samples.ws, p);
    rows.push({ label: `round trip 16 B, p${p} (µs)`, ours: ours.toFixed(1), ws: ws.toFixed(1), ratio: ws / ours });
  }
  rows.push({ label: `  (${RTT_ROUNDS} x ${n} round trips each, pooled)`, ours: '', ws: '', ratio: null });
}
// Pipelined throughput.
const MiB = 1 << 20;
const sizes = [
  { size: 16, label: '16 B', window: 64, n: 50000 },
  { size: 1024, label: '1 KiB', window: 64, n: 40000 },
  { size: 65536, label: '64 KiB', window: 16, n: 2000 },
  { size: MiB, label: '1 MiB', window: 2, n: 50, rounds: ROUNDS_LARGE },
  { size: MiB, label: '1 MiB in 64 KiB frames', window: 2, n: 50, rounds: ROUNDS_LARGE, fragmented: true },
  { size: 16 * MiB, label: '16 MiB', window: 1, n: 4, rounds: ROUNDS_LARGE },
  { size: 16 * MiB, label: '16 MiB in 64 KiB frames', window: 1, n: 4, rounds: ROUNDS_LARGE, fragmented: true },
];
for (const { size, label, window, n, rounds = ROUNDS, fragmented = false } of sizes) {
  const payload = randomBytes(size);
  const rates = { ours: [], ws: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? ['ws', 'ours'] : ['ours', 'ws']) rates[name].push(await pipelined(sockets[name], n, window, payload, fragmented));
  }
  const ours = median(rates.ours);
  const ws = median(rates.ws);
  const mib = size >= 1024 ? ` = ${((ours * size) / (1 << 20)).toFixed(0)} / ${((ws * size) / (1 << 20)).toFixed(0)} MiB/s` : '';
  const k = (x) => (x >= 1000 ? `${(x / 1000).toFixed(0)}k` : x.toFixed(1));
  const spread = (xs) => `${k(Math.min(...xs))}-${k(Math.max(...xs))}`;
  rows.push({
    label: `throughput ${label}, ${window} in flight (msg/s)`,
    ours: ours.toFixed(ours >= 100 ? 0 : 1),
    ws: ws.toFixed(ws >= 100 ? 0 : 1),
    ratio: ours / ws,
    note: `${n} msgs/round${mib}; rounds: ours ${spread(rates.ours)}, ws ${spread(rates.ws)}`,
  });
}

const pad = (s, n) => String(s).padEnd(n);
console.log(pad('figure', 58) + pad('ours', 12) + pad('ws', 12) + pad('ours vs ws', 12) + 'notes');
for (const r of rows) {
  console.log(pad(r.label, 58) + pad(r.ours, 12) + pad(r.ws, 12) + pad(r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`, 12) + (r.note ?? ''));
}
const ratios = rows.filter((r) => r.ratio !== null).map((r) => r.ratio);
console.log(`\n(ratio: throughput ours/ws, latency ws/ours: above 1.00x we are better; lowest ${Math.min(...ratios).toFixed(2)}x, goal >= 1.00x; ${((Date.now() - started) / 1000).toFixed(0)} s)`);

for (const name of ['ours', 'ws']) sockets[name].terminate();
stopAll();
