// npm run test:moddable — the project's real-peer suites against our apps running in the
// real Moddable simulator (mcsim), headless under Xvfb:
//
// 1. builds, each once, with mcconfig -d -p lin -o <private dir> (never -m: its makefile
//    kills every mcsim on the machine) and `make ... build` (only that target):
//    - the echo app, hosts/moddable/echo (the stream echo of test/moddable/echo.test.ts,
//      the fixed servers of hosts/moddable/echo/servers.ts, a control channel);
//    - the LED app from the root manifest.json twice: port=8090, and port=8091 token=abc
//      (web/dist first: node scripts/build-web.mjs);
// 2. starts Xvfb on the first free display of :80-:84 and the echo app in its own mcsim
//    (its own XDG_CONFIG_HOME, an xsbug listener on 6200-6209; traces go to
//    test-output/moddable/echo-trace.log); the LED tests start and stop their own mcsim
//    (test/app/helpers.ts, xsbug 6210-6299);
// 3. runs vitest.moddable.config.ts with MODDABLE_TARGETS set (test/moddable/mode.ts),
//    one file at a time, then prints which suite ran against which app, the counts and
//    why tests were skipped; exits non-zero on any failure.
// Every process is started and stopped by PID. Without $MODDABLE it says so and skips: CI
// has no SDK. Extra arguments go to vitest (e.g. a test file to run only that suite).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMcsim } from './mcsim.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODDABLE = process.env.MODDABLE;
if (!MODDABLE || !existsSync(join(MODDABLE, 'build', 'bin', 'lin', 'release', 'mcconfig'))) {
  console.log('test:moddable: SKIPPED: $MODDABLE is not set to a Moddable SDK with its Linux tools built.');
  console.log('  (Build it per its Getting Started guide, then: MODDABLE=/path/to/moddable npm run test:moddable)');
  process.exit(0);
}
const started = Date.now();
const bin = join(MODDABLE, 'build', 'bin', 'lin', 'release');
const env = { ...process.env, MODDABLE, PATH: `${process.env.PATH}:${bin}` };
const out = join(root, 'test-output', 'moddable'); // git-ignored
mkdirSync(out, { recursive: true });
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1) + ' s';

// --- Processes we start, stopped by PID ------------------------------------------------

let xvfb = null;
let echoSim = null;
let vitest = null;
function stopAllNow() {
  for (const child of [vitest, xvfb]) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  echoSim?.kill();
}
process.on('exit', stopAllNow);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function run(what, command, args, options = {}) {
  const log = join(out, `${what}.log`);
  const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const text = (result.stdout ?? '') + (result.stderr ?? '');
  writeFileSync(log, text);
  if (result.status !== 0) {
    console.error(text.split('\n').slice(-40).join('\n'));
    console.error(`test:moddable: ${what}: ${command} ${args.join(' ')} failed (${result.status ?? result.signal}); log: ${relative(root, log)}`);
    process.exit(1);
  }
}

// --- 1. Builds ------------------------------------------------------------------------

/** mcconfig into a private output directory, then the makefile's "build" target only. */
function build(what, { cwd, name, config = [] }) {
  const t = Date.now();
  const dir = join(out, 'build', what);
  mkdirSync(dir, { recursive: true });
  run(`${what}-mcconfig`, join(bin, 'mcconfig'), ['-d', '-p', 'lin', '-o', dir, ...config], { cwd });
  run(`${what}-make`, 'make', ['-C', join(dir, 'tmp', 'lin', 'mc', 'debug', name), '-f', 'makefile', 'build']);
  const so = join(dir, 'bin', 'lin', 'mc', 'debug', name, 'mc.so');
  if (!existsSync(so)) {
    console.error(`test:moddable: ${what}: no ${so}`);
    process.exit(1);
  }
  console.log(`test:moddable: built ${what} (${[relative(root, cwd) || 'manifest.json', ...config].join(' ')}) in ${seconds(t)}`);
  return so;
}

run('build-web', process.execPath, ['scripts/build-web.mjs'], { cwd: root });
const echoSo = build('echo', { cwd: join(root, 'hosts', 'moddable', 'echo'), name: 'echo' });
const LED = { default: { port: 8090 }, token: { port: 8091, token: 'abc' } };
LED.default.so = build('led', { cwd: root, name: 'main', config: [`port=${LED.default.port}`] });
LED.token.so = build('led-token', { cwd: root, name: 'main', config: [`port=${LED.token.port}`, `token=${LED.token.token}`] });

// --- 2. Xvfb and the echo app ------------------------------------------------------------

async function startXvfb() {
  for (let n = 80; n <= 84; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const child = spawn('Xvfb', [`:${n}`, '-screen', '0', '800x600x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', () => resolve(true)));
    for (let i = 0; i < 50; i++) {
      if (existsSync(`/tmp/.X11-unix/X${n}`)) return { child, display: `:${n}` };
      if (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(false), 100))])) break;
    }
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  throw new Error('no free X display in :80-:84');
}

const x = await startXvfb();
xvfb = x.child;
console.log(`test:moddable: Xvfb ${x.display} (pid ${xvfb.pid})`);

const traceLog = createWriteStream(join(out, 'echo-trace.log'));
let traces = '';
let ready;
const isReady = new Promise((resolve) => (ready = resolve));
echoSim = await startMcsim({
  mcsim: join(bin, 'mcsim'),
  so: echoSo,
  display: x.display,
  xsbugPorts: [6200, 6209],
  onText: (text) => {
    traceLog.write(text);
    if (/# (Exception|Break)|^control|could not take/m.test(text)) process.stdout.write(`[echo app] ${text}`);
    if (!traces.includes('test servers ready')) {
      traces += text;
      if (traces.includes('test servers ready')) ready();
    }
  },
});
console.log(`test:moddable: echo app in mcsim (pid ${echoSim.pid}, xsbug ${echoSim.xsbugPort}); traces: ${relative(root, join(out, 'echo-trace.log'))}`);
const timeout = setTimeout(() => {
  console.error(`test:moddable: the echo app did not start within 30 s; traces: ${traces}`);
  process.exit(1);
}, 30_000);
await isReady;
clearTimeout(timeout);

// --- 3. The suites ----------------------------------------------------------------------

const results = join(out, 'results.json');
const skipLog = join(out, 'skips.jsonl');
rmSync(results, { force: true });
rmSync(skipLog, { force: true });
const targets = {
  control: 'ws://127.0.0.1:9100/',
  led: LED,
  mcsim: join(bin, 'mcsim'),
  display: x.display,
  xsbugPorts: [6210, 6299],
  skipLog,
};
const vitestStarted = Date.now();
// Asynchronously: this process must keep reading the debugger socket, or the simulated
// machine blocks on its trace output.
vitest = spawn(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'vitest.moddable.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...env, MODDABLE_TARGETS: JSON.stringify(targets), MODDABLE_ECHO_URL: 'ws://127.0.0.1:9101/' } },
);
const status = await new Promise((resolve) => vitest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
const vitestTime = seconds(vitestStarted);
await echoSim.stop();
xvfb.kill('SIGTERM');
await new Promise((resolve) => (xvfb.exitCode !== null || xvfb.signalCode !== null ? resolve() : xvfb.once('exit', resolve)));
traceLog.end();

// --- Summary -----------------------------------------------------------------------------

const APPS = [
  [/^test\/moddable\//, 'echo app (hosts/moddable/echo) in mcsim: stream echo on :9101'],
  [/^test\/interop\/probes-/, 'echo app (hosts/moddable/echo) in mcsim: fixed echo servers :9110-9114'],
  [/^test\/interop\/server-/, 'echo app (hosts/moddable/echo) in mcsim: recorded servers :9120-9135 + control :9100'],
  [/^test\/app\//, `LED app (manifest.json; port=${LED.default.port}, and port=${LED.token.port} token=abc) in its own mcsim per start`],
];
let report = null;
try {
  report = JSON.parse(readFileSync(results, 'utf8'));
} catch {
  console.error('test:moddable: vitest wrote no results');
}
const skips = existsSync(skipLog)
  ? readFileSync(skipLog, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
  : [];
let failed = status !== 0;
if (report) {
  console.log('\ntest:moddable summary (suite: passed / failed / skipped, time -> app)');
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
    for (const [reason, names] of reasons) console.log(`      skipped ${new Set(names).size === names.length ? names.length : `${names.length} (${new Set(names).size} names)`}: ${reason}`);
    if (file.status === 'failed' || c.failed) failed = true;
  }
  console.log(`  total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped; vitest ${vitestTime}, all ${seconds(started)}`);
}
console.log(`test:moddable: ${failed ? 'FAILED' : 'passed'}`);
process.exit(failed ? status || 1 : 0);
