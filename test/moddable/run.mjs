// npm run test:moddable — the project's real-peer suites against our apps running in the
// real Moddable simulator (mcsim), headless under Xvfb. Everything that builds, starts or
// stops a Moddable app goes through scripts/moddable.mjs:
//
// 1. reserves a block of free ports for this run (another clone's run on the same
//    machine gets another block), then builds, each once, with mcconfig -d -p lin into
//    test-output/moddable/build (never -m: its makefile kills every mcsim on the machine)
//    and make's "build" target:
//    - the echo app, hosts/moddable/echo (portBase = the block's first port);
//    - the LED app from the root manifest.json twice: on the block's next two ports,
//      the second with token=abc (web/dist first);
//    - the wss:// client app, hosts/moddable/tls-client (its control port after them;
//      test/interop/client-tls.test.ts starts and stops it);
// 2. starts Xvfb on a display it picks itself and the echo app in its own mcsim (traces
//    in test-output/moddable/echo-trace.log); the LED tests start and stop their own
//    mcsim (test/app/helpers.ts);
// 3. measures the echo app's throughput (the simulator's sockets are polled: ~75 KB/s
//    each way on lin), from which the suites size their waits (test/moddable/mode.ts);
// 4. runs vitest.moddable.config.ts with MODDABLE_TARGETS set, one file at a time, then
//    prints which suite ran against which app, the counts and why tests were skipped;
//    exits non-zero on any failure.
// Without $MODDABLE it says so and skips: CI has no SDK. Extra arguments go to vitest
// (e.g. a test file to run only that suite).
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import WebSocket from 'ws';
import {
  buildSimulatorApp,
  buildWeb,
  findSdkOrSkip,
  installExitHandlers,
  reservePorts,
  root,
  takeLock,
  startSimulator,
  startXvfb,
  stopAll,
  track,
} from '../../scripts/moddable.mjs';

const TAG = 'test:moddable';
const sdk = findSdkOrSkip(TAG);
if (!sdk) {
  console.log('  (Build the SDK per its Getting Started guide, then: MODDABLE=/path/to/moddable npm run test:moddable)');
  process.exit(0);
}
if (sdk.host !== 'lin') {
  console.log(`${TAG}: SKIPPED: the suites drive the Linux simulator under Xvfb; this is ${sdk.host}.`);
  process.exit(0);
}
installExitHandlers();
const started = Date.now();
const out = join(root, 'test-output', 'moddable'); // git-ignored
mkdirSync(out, { recursive: true });
// Runs in other clones have their own folders; two in this clone would share its builds.
if (!takeLock(join(out, 'run.lock'))) {
  console.error(`${TAG}: another test:moddable run in this clone (pid ${readFileSync(join(out, 'run.lock'), 'utf8')}) is using ${relative(root, out)}; wait for it or stop it.`);
  process.exit(1);
}
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1) + ' s';
const fail = (line) => {
  console.error(`${TAG}: ${line}`);
  process.exit(1);
};

// --- 1. Ports and builds -------------------------------------------------------------------

// The echo app's ports are offsets from its base (hosts/moddable/echo/servers.ts, under
// its PORT_SPAN of 40); the LED builds take two ports after them.
const block = await reservePorts(100);
const ECHO_BASE = block.base;
const LED_OFFSET = 90;
console.log(`${TAG}: ports ${block.base}-${block.base + 99} (free, held for this run)`);

/**
 * Builds into test-output/moddable/build/<folder> (incremental across runs) and returns a
 * copy of the app named after `what`: builds of one manifest with other config share a
 * folder, and only their config is rebuilt.
 */
function build(what, { manifestDir, folder = what, config }) {
  const t = Date.now();
  try {
    const result = buildSimulatorApp(sdk, { manifestDir, outputDir: join(out, 'build', folder), config, quiet: true, log: join(out, what) });
    const app = join(out, `${what}.so`);
    copyFileSync(result.app, app);
    const shown = Object.entries(config).map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(`${TAG}: built ${what} (${relative(root, manifestDir) || 'manifest.json'} ${shown}) in ${seconds(t)}`);
    return app;
  } catch (error) {
    return fail(`${what}: ${error.message}`);
  }
}

try {
  buildWeb();
} catch (error) {
  fail(`web/dist: ${error.message}`);
}
const echoSo = build('echo', { manifestDir: join(root, 'hosts', 'moddable', 'echo'), config: { portBase: ECHO_BASE } });
const LED = {
  default: { port: ECHO_BASE + LED_OFFSET },
  token: { port: ECHO_BASE + LED_OFFSET + 1, token: 'abc' },
};
LED.default.so = build('led', { manifestDir: root, config: { port: LED.default.port } });
LED.token.so = build('led-token', { manifestDir: root, folder: 'led', config: { port: LED.token.port, token: LED.token.token } });
const TLS_CLIENT = { port: ECHO_BASE + LED_OFFSET + 2 };
TLS_CLIENT.so = build('tls-client', { manifestDir: join(root, 'hosts', 'moddable', 'tls-client'), config: { controlPort: TLS_CLIENT.port } });

// --- 2. Xvfb and the echo app ------------------------------------------------------------

const display = await startXvfb();
console.log(`${TAG}: Xvfb ${display}`);

const traceLog = createWriteStream(join(out, 'echo-trace.log'));
let traces = '';
let ready;
const isReady = new Promise((resolve) => (ready = resolve));
const echoSim = await startSimulator(sdk, {
  app: echoSo,
  display,
  onText: (text) => {
    traceLog.write(text);
    if (/# (Exception|Break)|^control|could not take/m.test(text)) process.stdout.write(`[echo app] ${text}`);
    if (!traces.includes('test servers ready')) {
      traces += text;
      if (traces.includes('test servers ready')) ready();
    }
  },
});
console.log(`${TAG}: echo app in mcsim (pid ${echoSim.pid}); traces: ${relative(root, join(out, 'echo-trace.log'))}`);
const startTimeout = setTimeout(() => fail(`the echo app did not start within 60 s; traces: ${traces}`), 60_000);
const early = await Promise.race([isReady.then(() => null), echoSim.exited.then((how) => `mcsim exited (${how})`)]);
if (early) fail(`${early} before the echo app started; traces: ${traces}`);
clearTimeout(startTimeout);

// --- 3. Throughput -----------------------------------------------------------------------

/**
 * Bytes per second through the stream echo with one message of `size` bytes: it sends
 * each piece back as it arrives, so this is the one-way rate of the simulator's sockets,
 * or of XS validating text when that is slower.
 */
function echoRate(url, message) {
  const size = Buffer.byteLength(message);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let got = 0;
    let t0 = 0;
    const timer = setTimeout(() => reject(new Error(`no echo of ${size} bytes within 300 s`)), 300_000);
    ws.on('open', () => {
      t0 = performance.now();
      ws.send(message);
    });
    ws.on('message', (data) => {
      got += data.length;
      if (got < size) return;
      const rate = size / ((performance.now() - t0) / 1000);
      clearTimeout(timer);
      ws.close(1000);
      resolve(rate);
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
let throughput;
try {
  const echoUrl = `ws://127.0.0.1:${ECHO_BASE + 1}/`;
  await echoRate(echoUrl, Buffer.alloc(4096)); // warm-up
  const binary = await echoRate(echoUrl, Buffer.alloc(256 * 1024, 0x5a));
  const text = await echoRate(echoUrl, 'é€𝄞a'.repeat(256 * 1024 / 10));
  throughput = Math.min(binary, text);
  console.log(`${TAG}: echo throughput ${(binary / 1024).toFixed(0)} KiB/s binary, ${(text / 1024).toFixed(0)} KiB/s text (256 KiB through the stream echo); the suites' waits are sized from the slower`);
} catch (error) {
  fail(`measuring the echo app's throughput: ${error.message}`);
}

// --- 4. The suites ----------------------------------------------------------------------

const results = join(out, 'results.json');
const skipLog = join(out, 'skips.jsonl');
rmSync(results, { force: true });
rmSync(skipLog, { force: true });
const targets = {
  control: `ws://127.0.0.1:${ECHO_BASE}/`,
  echo: `ws://127.0.0.1:${ECHO_BASE + 1}/`,
  led: LED,
  tlsClient: TLS_CLIENT,
  display,
  throughput,
  skipLog,
};
const vitestStarted = Date.now();
// Asynchronously: this process must keep reading the debugger socket, or the simulated
// machine blocks on its trace output.
const vitest = track(
  spawn(
    process.execPath,
    [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'vitest.moddable.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)],
    { cwd: root, stdio: 'inherit', env: { ...sdk.env, DISPLAY: display, MODDABLE_TARGETS: JSON.stringify(targets) } },
  ),
);
const status = await new Promise((resolve) => vitest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
const vitestTime = seconds(vitestStarted);
const echoAlive = echoSim.running;
await echoSim.stop();
traceLog.end();

// --- Summary -----------------------------------------------------------------------------

const APPS = [
  [/^test\/moddable\//, `echo app (hosts/moddable/echo) in mcsim: stream echo on :${ECHO_BASE + 1}`],
  [/^test\/interop\/probes-/, `echo app (hosts/moddable/echo) in mcsim: fixed echo servers :${ECHO_BASE + 10}-${ECHO_BASE + 14}`],
  [/^test\/interop\/client-tls/, `tls-client app (hosts/moddable/tls-client: our client over the SDK's TLS) in its own mcsim; control :${TLS_CLIENT.port}`],
  [/^test\/interop\/client-fuzzingserver/, 'testee app (hosts/moddable/testee, client role) in its own mcsim per run (npm run testee:client -- --moddable)'],
  [/^test\/interop\/server-/, `echo app (hosts/moddable/echo) in mcsim: recorded servers from :${ECHO_BASE + 20} + control :${ECHO_BASE}`],
  [/^test\/app\//, `LED app (manifest.json; port=${LED.default.port}, and port=${LED.token.port} token=abc) in its own mcsim per start`],
];
let report = null;
try {
  report = JSON.parse(readFileSync(results, 'utf8'));
} catch {
  console.error(`${TAG}: vitest wrote no results`);
}
const skips = existsSync(skipLog)
  ? readFileSync(skipLog, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
  : [];
let failed = status !== 0;
if (!echoAlive) {
  console.error(`${TAG}: the echo app's mcsim exited during the run (see ${relative(root, join(out, 'echo-trace.log'))})`);
  failed = true;
}
if (report) {
  console.log(`\n${TAG} summary (suite: passed / failed / skipped, time -> app)`);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const file of [...report.testResults].sort((a, b) => a.name.localeCompare(b.name))) {
    const name = relative(root, file.name);
    const count = (s) => file.assertionResults.filter((t) => s.includes(t.status)).length;
    const c = { passed: count(['passed']), failed: count(['failed']), skipped: count(['skipped', 'pending', 'todo']) };
    for (const k of Object.keys(totals)) totals[k] += c[k];
    if (file.status === 'failed' && c.failed === 0) c.failed = 'file failed';
    const app = APPS.find(([re]) => re.test(name))?.[1] ?? '?';
    const time = ((file.endTime - file.startTime) / 1000).toFixed(1);
    console.log(`  ${name}: ${c.passed} / ${c.failed} / ${c.skipped}, ${time} s -> ${app}`);
    for (const t of file.assertionResults.filter((t) => t.status === 'failed')) console.log(`      FAILED: ${t.fullName}`);
    const reasons = new Map();
    for (const s of skips.filter((s) => s.file === name)) reasons.set(s.reason, [...(reasons.get(s.reason) ?? []), s.name]);
    for (const [reason, names] of reasons) console.log(`      skipped ${names.length}: ${reason}`);
    if (file.status === 'failed' || c.failed) failed = true;
  }
  console.log(`  total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped; vitest ${vitestTime}, all ${seconds(started)}`);
}
console.log(`${TAG}: ${failed ? 'FAILED' : 'passed'}`);
stopAll();
process.exit(failed ? status || 1 : 0);
