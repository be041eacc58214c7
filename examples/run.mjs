// node examples/run.mjs [client-echo] [server-echo] [http-server] [frame-parser] [wss-client]
//
// Builds each example with the Moddable SDK through scripts/moddable.mjs (mcconfig -d -p
// lin into the example's build/ folder, then the makefile's "build" target only: never -m on
// lin, whose makefile kills every mcsim on the machine), runs it headless in the Moddable
// simulator (mcsim under Xvfb) with its trace() output read through an xsbug-protocol
// listener, and checks it against a real peer from the `ws` npm package on 127.0.0.1.
// JavaScript examples are built with -tc, so they are also type-checked against
// modules/typings. Needs $MODDABLE (a Moddable SDK with its Linux tools built) and Xvfb.
// Every process it starts is stopped by its PID; its ports are a free block held for
// this run, so two runs on one machine do not collide.
//
// Options: --app DIR (build the one named example from a copy in DIR, e.g. an app outside
// this repository that includes modules/<name>/manifest.json by its path), --display :N
// (default: a free one Xvfb picks).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';
import { WebSocket, WebSocketServer } from 'ws';
import { SDK_COMPATIBLE, testPki } from '../scripts/tls-certs.mjs';
import {
  buildSimulatorApp,
  findSdkOrSkip,
  installExitHandlers,
  reservePorts,
  startSimulator,
  startXvfb,
  stopAll,
} from '../scripts/moddable.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const displayOption = option('--display', null);
const appOption = option('--app', null); // build and run this copy of the (one) named example instead

const sdk = findSdkOrSkip('examples');
if (!sdk) process.exit(0);
installExitHandlers();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
  // Our WebSocketClient (TS) over the SDK's TLS against a ws echo server over https, its
  // certificate signed by a CA made for this run, which the build puts in the resources.
  'wss-client': {
    async before(port) {
      const pki = testPki();
      const httpsServer = https.createServer({ ...pki.server, ...SDK_COMPATIBLE });
      const server = new WebSocketServer({ server: httpsServer });
      const seen = [];
      server.on('connection', (socket, request) => {
        seen.push(`TLS ${request.socket.getProtocol()} ${request.socket.getCipher().name}`);
        socket.on('message', (data, isBinary) => {
          seen.push(isBinary ? `binary ${data.length}` : `text ${data.length}`);
          socket.send(data, { binary: isBinary });
        });
        socket.on('close', (code) => seen.push(`close ${code}`));
      });
      await new Promise((resolve) => httpsServer.listen(port, '127.0.0.1', resolve));
      this.server = httpsServer;
      this.seen = seen;
      this.env = { WSS_CA: pki.files.ca };
      return [`url=wss://localhost:${port}/`];
    },
    async check(app) {
      const [, verdict] = await waitForTrace(app, /wss-client: (PASS|FAIL.*)\n/, 60000);
      await sleep(200);
      this.server.closeAllConnections();
      await new Promise((resolve) => this.server.close(resolve));
      return { ok: verdict === 'PASS', peer: `ws server over https saw: ${this.seen.join(', ')}` };
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

const display = displayOption ?? (await startXvfb());
const { ports } = await reservePorts(names.length);

let failed = 0;
for (const [index, name] of names.entries()) {
  const example = examples[name];
  const dir = appOption ? resolve(appOption) : join(here, name);
  const port = ports[index];
  const config = await example.before(port);
  console.log(`\n=== ${name} (${dir}): mcconfig -d -p lin${example.javascript ? ' -tc' : ''} ${config.join(' ')}`);
  let sim = null;
  try {
    const settings = Object.fromEntries(config.map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
    // Into the app's own build/ folder (git-ignored): mcconfig -tc checks mc.config.js with
    // the app folder as TypeScript's rootDir, so the output must sit below it.
    const { app: so } = buildSimulatorApp(sdk, { manifestDir: dir, outputDir: join(dir, 'build', 'moddable'), config: settings, typecheck: example.javascript, quiet: true, env: example.env ?? {} });
    const app = { traces: '' };
    sim = await startSimulator(sdk, {
      app: so,
      display,
      onText: (text) => {
        process.stdout.write(`[mcsim ${name}] ${text}`);
        app.traces += text;
      },
    });
    const result = await example.check(app, port);
    console.log(`=== ${name}: ${result.ok ? 'PASS' : 'FAIL'}; peer: ${result.peer}`);
    if (!result.ok) failed++;
  } catch (error) {
    console.log(`=== ${name}: FAIL: ${error.message}`);
    failed++;
  } finally {
    await sim?.stop();
  }
}
stopAll();
console.log(`\nexamples: ${names.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
