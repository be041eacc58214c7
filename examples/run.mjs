// node examples/run.mjs [client-echo] [server-echo] [http-server] [frame-parser]
//
// Builds each example with the Moddable SDK (mcconfig -d -p lin, then the makefile's
// "build" target only: never -m on lin, whose makefile kills every mcsim on the
// machine), runs it headless in the Moddable simulator (mcsim under Xvfb) with its
// trace() output read through an xsbug-protocol listener, and checks it against a
// real peer from the `ws` npm package on 127.0.0.1. JavaScript examples are built with
// -tc, so they are also type-checked against modules/typings.
// Needs $MODDABLE (a Moddable SDK with its Linux tools built) and Xvfb. Every process
// it starts is stopped by its PID.
//
// Options: --app DIR (build the one named example from a copy in DIR, e.g. an app outside
// this repository that includes modules/<name>/manifest.json by its path), --display :N (default: the first free of :75-:79), --port-base P (peers
// and apps use P..P+99, default 9200), --xsbug-base P (default 6300).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { startXsbugListener } from '../test/moddable/xsbug-listener.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const displayOption = option('--display', null);
const portBase = Number(option('--port-base', '9200'));
const xsbugBase = Number(option('--xsbug-base', '6300'));
const appOption = option('--app', null); // build and run this copy of the (one) named example instead

const MODDABLE = process.env.MODDABLE;
if (!MODDABLE || !existsSync(join(MODDABLE, 'build', 'bin', 'lin', 'release', 'mcconfig'))) {
  console.log('examples: SKIPPED: $MODDABLE is not set to a Moddable SDK with its Linux tools built.');
  process.exit(0);
}
const bin = join(MODDABLE, 'build', 'bin', 'lin', 'release');
const env = { ...process.env, PATH: `${process.env.PATH}:${bin}` };

const started = [];
const stopAll = () => {
  for (const child of started.splice(0).reverse()) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
};
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(from, to) {
  for (let port = from; port <= to; port++) {
    const ok = await new Promise((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

function run(command, argv, options = {}) {
  const result = spawnSync(command, argv, { stdio: 'inherit', env, ...options });
  if (result.status !== 0) throw new Error(`${command} ${argv.join(' ')} failed (${result.status ?? result.signal})`);
}

/** Resolves when the trace text so far matches `pattern`, rejects after `ms`. */
function waitForTrace(app, pattern, ms = 30000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(app.traces);
      if (match) {
        clearInterval(timer);
        clearTimeout(timeout);
        resolve(match);
      }
    };
    const timer = setInterval(check, 50);
    const timeout = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`no trace matching ${pattern} within ${ms} ms`));
    }, ms);
    check();
  });
}

/** A ws client that sends `messages` in order and collects what comes back; then closes. */
function wsRoundTrip(url, messages, expected) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received = [];
    const timer = setTimeout(() => reject(new Error(`${url}: no echo within 10 s`)), 10000);
    ws.on('open', () => {
      for (const message of messages) ws.send(message);
    });
    ws.on('message', (data, isBinary) => {
      received.push(isBinary ? Buffer.from(data) : data.toString());
      if (received.length === expected.length) ws.close(1000, 'done');
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      for (let i = 0; i < expected.length; i++) {
        const want = expected[i];
        const got = received[i];
        const same = typeof want === 'string' ? got === want : Buffer.isBuffer(got) && got.equals(want);
        if (!same) return reject(new Error(`${url}: message ${i}: got ${String(got)}, expected ${String(want)}`));
      }
      if (code !== 1000) return reject(new Error(`${url}: closed with ${code}`));
      resolve(`${received.length} echoes, close ${code}`);
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));

const examples = {
  // Our WebSocketClient (JS) against a ws echo server.
  'client-echo': {
    javascript: true,
    async before(port) {
      const server = new WebSocketServer({ port, host: '127.0.0.1' });
      const seen = [];
      server.on('connection', (socket) => {
        socket.on('message', (data, isBinary) => {
          seen.push(isBinary ? `binary ${data.length}` : `text ${data.length}`);
          socket.send(data, { binary: isBinary });
        });
        socket.on('close', (code) => seen.push(`close ${code}`));
      });
      await new Promise((resolve) => server.on('listening', resolve));
      this.server = server;
      this.seen = seen;
      return [`url=ws://127.0.0.1:${port}/`];
    },
    async check(app) {
      const [, verdict] = await waitForTrace(app, /client-echo: (PASS|FAIL.*)\n/);
      await sleep(200);
      await new Promise((resolve) => this.server.close(resolve));
      return { ok: verdict === 'PASS', peer: `ws server saw: ${this.seen.join(', ')}` };
    },
  },
  // Our WebSocketServer (TS) against a ws client.
  'server-echo': {
    async before(port) {
      return [`port=${port}`];
    },
    async check(app, port) {
      await waitForTrace(app, /listening on port/);
      const peer = await wsRoundTrip(`ws://127.0.0.1:${port}/`, ['hello from ws', binary, 'x'.repeat(1000)], [
        'hello from ws',
        binary,
        'x'.repeat(1000),
      ]);
      await waitForTrace(app, /server-echo: closed \S+ 1000 "done" clean=true/, 5000);
      return { ok: true, peer: `ws client: ${peer}` };
    },
  },
  // Our HttpServer with the WebSocket hand-off (TS) against fetch and a ws client.
  'http-server': {
    async before(port) {
      return [`port=${port}`];
    },
    async check(app, port) {
      await waitForTrace(app, /listening on port/);
      const base = `http://127.0.0.1:${port}`;
      const page = await fetch(`${base}/`);
      const html = await page.text();
      if (page.status !== 200 || !html.includes('new WebSocket')) throw new Error(`GET / -> ${page.status}`);
      const status = await fetch(`${base}/status`);
      const json = await status.json();
      if (status.status !== 200 || json.clients !== 0) throw new Error(`GET /status -> ${status.status} ${JSON.stringify(json)}`);
      const missing = await fetch(`${base}/nothing-here`);
      await missing.text();
      if (missing.status !== 404) throw new Error(`GET /nothing-here -> ${missing.status}`);
      const peer = await wsRoundTrip(`ws://127.0.0.1:${port}/ws`, ['hi', binary], ['echo: hi', binary]);
      await waitForTrace(app, /http-server: ws closed \S+ 1000/, 5000);
      return {
        ok: true,
        peer: `fetch: GET / ${page.status} (${html.length} bytes), GET /status ${status.status} ${JSON.stringify(json)}, GET /nothing-here ${missing.status}; ws client on /ws: ${peer}`,
      };
    },
  },
  // The frame parser alone, on bytes (JS): no network peer.
  'frame-parser': {
    javascript: true,
    async before() {
      return [];
    },
    async check(app) {
      const [, verdict] = await waitForTrace(app, /frame-parser: (PASS|FAIL.*)\n/);
      return { ok: verdict === 'PASS', peer: 'none (bytes only)' };
    },
  },
};

const names = args.length ? args : Object.keys(examples);
for (const name of names) if (!examples[name]) throw new Error(`unknown example ${name}`);
if (appOption && names.length !== 1) throw new Error('--app needs exactly one example name');

let display = displayOption;
if (!display) {
  for (let n = 75; n <= 79; n++) {
    if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) {
      display = `:${n}`;
      break;
    }
  }
  if (!display) throw new Error('no free X display in :75-:79');
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '800x600x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  started.push(xvfb);
  await sleep(1000);
}

let failed = 0;
for (const name of names) {
  const example = examples[name];
  const dir = appOption ? resolve(appOption) : join(here, name);
  const build = basename(dir); // mcconfig names the app after its directory
  const port = await freePort(portBase, portBase + 99);
  const config = await example.before(port);
  console.log(`\n=== ${name} (${dir}): mcconfig -d -p lin${example.javascript ? ' -tc' : ''} ${config.join(' ')}`);
  const cleanup = [];
  try {
    run(join(bin, 'mcconfig'), ['-d', '-p', 'lin', ...(example.javascript ? ['-tc'] : []), ...config], { cwd: dir });
    run('make', ['-C', join(MODDABLE, 'build', 'tmp', 'lin', 'mc', 'debug', build), '-f', 'makefile', 'build']);
    const so = join(MODDABLE, 'build', 'bin', 'lin', 'mc', 'debug', build, 'mc.so');

    const app = { traces: '' };
    const xsbugPort = await freePort(xsbugBase, xsbugBase + 99);
    const listener = await startXsbugListener(xsbugPort, (text) => {
      process.stdout.write(`[mcsim ${name}] ${text}`);
      app.traces += text;
    });
    cleanup.push(() => listener.close());
    const configHome = mkdtempSync(join(tmpdir(), 'mcsim-examples-'));
    mkdirSync(join(configHome, 'tech.moddable.mcsim')); // mcsim copies mc.so here: a private copy per run
    cleanup.push(() => rmSync(configHome, { recursive: true, force: true }));
    const mcsim = spawn(join(bin, 'mcsim'), [so], {
      env: { ...env, DISPLAY: display, XDG_CONFIG_HOME: configHome, XSBUG_HOST: '127.0.0.1', XSBUG_PORT: String(xsbugPort) },
      stdio: 'ignore',
    });
    started.push(mcsim);
    cleanup.unshift(async () => {
      process.kill(mcsim.pid, 'SIGTERM');
      started.splice(started.indexOf(mcsim), 1);
      await new Promise((resolve) => (mcsim.exitCode !== null ? resolve() : mcsim.on('exit', resolve)));
    });

    const result = await example.check(app, port);
    console.log(`=== ${name}: ${result.ok ? 'PASS' : 'FAIL'}; peer: ${result.peer}`);
    if (!result.ok) failed++;
  } catch (error) {
    console.log(`=== ${name}: FAIL: ${error.message}`);
    failed++;
  } finally {
    for (const step of cleanup) await step();
  }
}
stopAll();
console.log(`\nexamples: ${names.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
