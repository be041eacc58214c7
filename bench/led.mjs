// npm run bench:led — input event -> LED latency of the LED app over loopback.
//
// The app is the real sim-host process (hosts/sim/led-main.ts, as `npm start` runs it)
// on an ephemeral port of 127.0.0.1; its virtual LED prints `LED #rrggbb` on stdout,
// which this process reads through a pipe. Every colour is different from the one
// before, and the next one is sent only after the previous LED line was read, so each
// figure is one change in flight:
//
//   ws:   a `ws` client sends a 3-byte [R, G, B] frame; time from send() to the LED
//         line read here (and, for reference, to the broadcast echo back at the sender).
//   page: the real page (web/) in headless Chromium; page.evaluate sets #hex-input and
//         dispatches `change`, the page's own handler sends the frame; time from just
//         before page.evaluate to the LED line (so it includes one CDP hop into the
//         browser; the bare page.evaluate round trip is listed for reference). The page
//         sends at most one colour per 40 ms and waits for each acknowledgement, so the
//         changes are paced 50 ms apart: this measures latency, not the rate limit.
//
//   node bench/led.mjs [--quick]
import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const WARMUP = 50;
const N = quick ? 100 : 500;
const PAGE_WARMUP = 10;
const PAGE_N = quick ? 30 : 100;
const PAGE_GAP_MS = 50;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (c) => '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('');

let app = null;
let browser = null;

function stopApp() {
  if (app && app.exitCode === null && app.signalCode === null) app.kill('SIGTERM'); // by its PID
}
process.on('exit', stopApp);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopApp();
    process.exit(130);
  });
}

// --- the app and its stdout -----------------------------------------------------------

const lines = []; // { text, at }
let wake = null;

function startApp() {
  execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: root, stdio: 'pipe' });
  const env = { ...process.env };
  delete env.PORT;
  delete env.HOST;
  delete env.LED_TOKEN;
  app = spawn(process.execPath, ['hosts/sim/run.mjs', 'hosts/sim/led-main.ts', '--port', '0', '--ephemeral'], {
    cwd: root,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let partial = '';
  app.stdout.setEncoding('utf8');
  app.stdout.on('data', (chunk) => {
    const at = performance.now();
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const text of parts) lines.push({ text, at });
    wake?.();
  });
  app.once('exit', (code, signal) => {
    wake?.();
    if (!stopping) {
      console.error(`bench:led: the app exited (${code ?? signal})`);
      process.exit(1);
    }
  });
}
let stopping = false;

/** The first line at or after index `from` equal to `text`: { index, at }. */
async function waitLine(text, from, timeoutMs = 5000) {
  const end = performance.now() + timeoutMs;
  let i = from;
  for (;;) {
    for (; i < lines.length; i++) if (lines[i].text === text) return { index: i, at: lines[i].at };
    if (performance.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(text)}`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 50);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });
  }
}

// --- statistics --------------------------------------------------------------------------

function summary(name, samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { name, n: s.length, p50: q(50), p99: q(99), max: s[s.length - 1] };
}

function printTable(rows) {
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'path'.padEnd(w)}  ${'n'.padStart(4)}  ${'p50 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}  ${'max ms'.padStart(8)}`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${String(r.n).padStart(4)}  ${r.p50.toFixed(3).padStart(8)}  ${r.p99.toFixed(3).padStart(8)}  ${r.max.toFixed(3).padStart(8)}`,
    );
  }
}

/** A colour different from the previous one for every i (i < 65536). */
const colorFor = (i) => [i & 0xff, ((i >> 8) & 0xff) ^ 0x5a, (i * 7 + 0x33) & 0xff];

// --- ws client --------------------------------------------------------------------------

async function benchWs(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
  const inbox = [];
  let onMessage = null;
  ws.on('message', (data) => {
    inbox.push({ data: [...data], at: performance.now() });
    onMessage?.();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const nextMessage = () =>
    inbox.length
      ? Promise.resolve(inbox.shift())
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
          onMessage = () => {
            clearTimeout(timer);
            onMessage = null;
            resolve(inbox.shift());
          };
        });
  await nextMessage(); // the current colour, on connect
  const led = [];
  const echo = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const color = colorFor(i + 1);
    const mark = lines.length;
    const frame = Buffer.from(color);
    const t0 = performance.now();
    ws.send(frame);
    const [line, message] = await Promise.all([waitLine(`LED ${hex(color)}`, mark), nextMessage()]);
    if (hex(message.data) !== hex(color)) throw new Error(`echo ${hex(message.data)}, sent ${hex(color)}`);
    if (i >= WARMUP) {
      led.push(line.at - t0);
      echo.push(message.at - t0);
    }
  }
  ws.close();
  return [summary('ws client send -> LED line', led), summary('ws client send -> echo at sender', echo)];
}

// --- the page in Chromium ----------------------------------------------------------------

async function benchPage(port) {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.getElementById('status').dataset.state === 'connected', undefined, { timeout: 10_000 });
  const toLed = [];
  const cdp = [];
  for (let i = 0; i < PAGE_WARMUP + PAGE_N; i++) {
    const wanted = hex(colorFor(0x4000 + i * 3));
    const mark = lines.length;
    const t0 = performance.now();
    const shown = await page.evaluate((text) => {
      const input = document.getElementById('hex-input');
      input.value = text;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return document.getElementById('hex').textContent; // what the page sent (via HSV)
    }, wanted);
    const line = await waitLine(`LED ${shown}`, mark);
    if (i >= PAGE_WARMUP) toLed.push(line.at - t0);
    const t1 = performance.now();
    await page.evaluate(() => 0);
    if (i >= PAGE_WARMUP) cdp.push(performance.now() - t1);
    await sleep(Math.max(0, t0 + PAGE_GAP_MS - performance.now()));
  }
  const version = browser.version();
  await browser.close();
  browser = null;
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  return { version, rows: [summary('page #hex-input change -> LED line', toLed), summary('page.evaluate round trip (CDP only)', cdp)] };
}

// --- main --------------------------------------------------------------------------------

const started = performance.now();
startApp();
let port = 0;
{
  const end = performance.now() + 20_000;
  for (;;) {
    const m = lines.map((l) => /^LED app: http:\/\/127\.0\.0\.1:(\d+)\//.exec(l.text)).find(Boolean);
    if (m) {
      port = Number(m[1]);
      break;
    }
    if (performance.now() > end) throw new Error('the app did not print its URL');
    await sleep(10);
  }
}

let failed = false;
try {
  const wsRows = await benchWs(port);
  let pageRows = [];
  let version = '';
  try {
    ({ version, rows: pageRows } = await benchPage(port));
  } catch (error) {
    console.error(`bench:led: the Chromium part failed: ${error.message}`);
    failed = true;
  }
  console.log(`LED app: input -> LED latency over loopback (sim host, node ${process.version}${version ? `, Chromium ${version}` : ''})`);
  console.log(`ws: ${N} changes after ${WARMUP} warm-up; page: ${PAGE_N} changes after ${PAGE_WARMUP}, ${PAGE_GAP_MS} ms apart`);
  printTable([...wsRows, ...pageRows]);
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
} finally {
  await browser?.close().catch(() => {});
  stopping = true;
  stopApp();
}
if (failed) process.exitCode = 1;
