// npm run bench:moddable-memory — XS memory of the LED app in the real Moddable simulator
// with the Atom Lite's fixed heap (hosts/moddable/led-memory: the app plus a probe that
// traces chunk and slot use after a full GC every second), with 0, 1 and 8 browser
// clients: each client is a headless Chromium page in its own browser context (like
// separate phones: own HTTP connections) that loads the web app from the device and
// connects its WebSocket. Then 8 pages are opened and closed 3 more times to show that
// memory returns to its baseline. Prints a table; exits 1 if a client could not connect
// or the heap was exceeded. Needs $MODDABLE (a Moddable SDK with its Linux tools built).
// Never mcconfig -m on lin (its makefile kills every mcsim): build, start, stop by PID.
//
// --tls: instead, one wss:// client beside the LED app (hosts/moddable/led-tls-memory, the
// same heaps): what it holds before, during and after its TLS handshake, against a `ws`
// echo server over https here (a CA made for this run, in the app's resources), and the
// handshake time. Prints a table; exits 1 if the client could not connect.
import https from 'node:https';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { SDK_COMPATIBLE, testPki } from '../scripts/tls-certs.mjs';
import { chromium } from 'playwright-core';
import {
  buildSimulatorApp,
  buildWeb,
  findSdkOrSkip,
  installExitHandlers,
  reservePorts,
  root,
  startSimulator,
  startXvfb,
  stopAll,
} from '../scripts/moddable.mjs';

const sdk = findSdkOrSkip('bench:moddable-memory');
if (!sdk) process.exit(0);
installExitHandlers(); // every process started below is stopped by its PID
const { ports: [PORT] } = await reservePorts(1); // a free port, held for this run
const HEAP_SLOTS = 4928; // m5atom_lite creation, also in that manifest
const CHUNK_BYTES = 78848;
const SLOT_BYTES = 32; // an XS slot on a 64-bit host (16 bytes on the ESP32)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const TLS_MODE = process.argv.includes('--tls');
let tlsPort = 0;
let env = {};
if (TLS_MODE) {
  const pki = testPki();
  const server = https.createServer({ ...pki.server, ...SDK_COMPATIBLE });
  new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  ({ ports: [tlsPort] } = await reservePorts(1));
  await new Promise((resolve) => server.listen(tlsPort, '127.0.0.1', resolve));
  server.unref();
  env = { WSS_CA: pki.files.ca };
}
const probe = TLS_MODE ? 'led-tls-memory' : 'led-memory';
buildWeb();
console.log(`building hosts/moddable/${probe} (mcconfig -d, then make build; never -m)`);
const { app } = buildSimulatorApp(sdk, {
  manifestDir: join(root, 'hosts', 'moddable', probe),
  config: TLS_MODE ? { port: PORT, url: `wss://localhost:${tlsPort}/` } : { port: PORT },
  quiet: true,
  env,
});
const display = process.env.DISPLAY || (await startXvfb());
const lines = [];
let aborted = '';
await startSimulator(sdk, {
  app,
  display,
  onLine: (line) => {
    lines.push(line);
    if (/abort|memory full|stack overflow/i.test(line)) aborted ||= line;
  },
});

async function until(what, test, ms = 20000) {
  const end = Date.now() + ms;
  while (!test()) {
    if (aborted) throw new Error(`the app aborted: ${aborted}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The next MEM line after `settle` ms that matches the expected counts. */
async function measure(label, ws, settle = 2200) {
  await sleep(settle);
  const from = lines.length;
  let mem = null;
  await until(`MEM ws=${ws}`, () => {
    for (let i = from; i < lines.length; i++) {
      const m = /^MEM ws=(\d+) http=(\d+) chunk=(\d+) slot=(\d+) stack=(\d+).*timers=(\d+)/.exec(lines[i]);
      if (m && Number(m[1]) === ws) mem = m.slice(1).map(Number);
    }
    return mem !== null;
  });
  const [clients, http, chunk, slot, , timers] = mem;
  const row = { label, clients, http, chunk, slots: slot / SLOT_BYTES, timers };
  rows.push(row);
  console.log(`${label}: ws=${clients} http=${http} slots=${row.slots} chunk=${chunk} timers=${timers}`);
  return row;
}

/** --tls: the four TLS lines of the probe, as a table. */
async function measureTls() {
  await until('the TLS client to close', () => lines.some((l) => l.startsWith('TLS phase=closed')) || lines.some((l) => l.startsWith('TLS error')), 60000);
  const error = lines.find((l) => l.startsWith('TLS error'));
  if (error) throw new Error(error);
  const phases = lines.map((l) => /^TLS phase=(\w+) chunk=(\d+) slot=(\d+)(?: ms=(\d+))?/.exec(l)).filter(Boolean);
  const labels = {
    before: 'LED app idle, before connecting (after GC)',
    handshake: 'during the handshake (most seen between callbacks, no GC)',
    open: 'connection open (after GC)',
    closed: 'closed (after GC)',
  };
  console.log('\n| one wss:// client beside the LED app | slots used | chunk bytes used |');
  console.log('|---|---|---|');
  for (const [, phase, chunk, slot] of phases) console.log(`| ${labels[phase]} | ${Number(slot) / SLOT_BYTES} | ${chunk} |`);
  const open = phases.find((p) => p[1] === 'open');
  console.log(`\nhandshake (connect() to 'open', RSA-2048 certificate, ECDHE P-256, TLS 1.2, debug build): ${open[4]} ms`);
  console.log(`Atom Lite heap: ${HEAP_SLOTS} slots, chunk ${CHUNK_BYTES} bytes, stack 512 slots (the manifest's creation): the handshake ran within them.`);
}

const rows = [];
let browser = null;
let status = 0;
if (TLS_MODE) {
  try {
    await until('the app', () => lines.some((l) => l.startsWith('LED app:')));
    await measureTls();
  } catch (error) {
    console.error(`bench:moddable-memory --tls: ${error.message}`);
    status = 1;
  }
  stopAll();
  process.exit(status);
}
try {
  await until('the app', () => lines.some((l) => l.startsWith('LED app:')));
  await measure('started, nothing served yet', 0);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const open = async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.waitForFunction(() => /connected/i.test(document.body.innerText), null, { timeout: 15000 });
    return context;
  };
  let contexts = [await open()];
  await measure('1 browser client (page served, WebSocket open)', 1);
  while (contexts.length < 8) contexts.push(await open());
  const eight = await measure('8 browser clients', 8);
  for (const c of contexts) await c.close();
  const baseline = await measure('all 8 closed', 0, 3500);
  for (let round = 1; round <= 3; round++) {
    contexts = [];
    while (contexts.length < 8) contexts.push(await open());
    await measure(`round ${round}: 8 browser clients`, 8);
    for (const c of contexts) await c.close();
    await measure(`round ${round}: all closed`, 0, 3500);
  }
  const last = rows[rows.length - 1];
  console.log('\n| state | WebSocket clients | HTTP connections | slots used | chunk bytes used | timers |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.label} | ${r.clients} | ${r.http} | ${r.slots} | ${r.chunk} | ${r.timers} |`);
  console.log(`\nAtom Lite heap: ${HEAP_SLOTS} slots, chunk ${CHUNK_BYTES} bytes (64-bit simulator: ${SLOT_BYTES}-byte slots; chunk bytes run larger than on the 32-bit ESP32).`);
  console.log(`8 browser clients: ${eight.slots} of ${HEAP_SLOTS} slots (${Math.round((eight.slots / HEAP_SLOTS) * 100)}%), ${HEAP_SLOTS - eight.slots} spare.`);
  console.log(`baseline after closing 8: ${baseline.slots} slots; after 3 more rounds: ${last.slots} (drift ${last.slots - baseline.slots}).`);
  if (eight.slots > HEAP_SLOTS || eight.chunk > CHUNK_BYTES) status = 1;
} catch (error) {
  console.error(`bench:moddable-memory: ${error.message}`);
  status = 1;
}
await browser?.close();
stopAll();
process.exit(status);
