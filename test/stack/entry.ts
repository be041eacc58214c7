// Runs inside XS (test/stack/run.mjs): the echo app, the LED app behind the HTTP server
// (the device's path) and the client over the synchronous fake sockets, with every
// callback the host would make (socket readable/writable/error, timers) delivered PAD
// JavaScript frames deep. run.mjs finds the largest PAD that still completes: what is
// left of XS's stack is what the deepest of these call chains uses. On a device a
// JavaScript stack overflow aborts the machine (the ESP32 reboots), and its stack is
// small: `creation.stack` 384 slots in Moddable's simulator, 512 on the Atom Lite.
// Also checks the behaviour that keeps chains short: a write that fails inside a
// handler's send() reports the close from the timer, after that send returned.
import { installPlatform } from '../../src/net/platform';
import { WebSocketServer } from '../../src/net/server';
import { WebSocketClient } from '../../src/net/client';
import { HttpServer } from '../../src/net/http-server';
import { MemoryStore } from '../../src/http/static-store';
import { startEchoServer } from '../../src/apps/echo-app';
import { LedApp } from '../../src/apps/led-app';
import { acceptKey } from '../../src/websocket/handshake';
import { FakeConn, advance, lastListener, lastOutgoing, now } from '../xs/fakes/fake-io';

declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const PAD: number;

installPlatform({ now: () => now });

const failures: string[] = [];
let passed = 0;
function check(ok: boolean, what: string): void {
  if (ok) passed++;
  else failures.push(what);
}

/** Run `f` `n` frames deeper than the caller: where a host's callback would start. */
function pad(n: number, f: () => void): void {
  if (n === 0) f();
  else pad(n - 1, f);
}
declare const STEP: number | undefined;
let step = 0;
const at = (f: () => void): void => pad(typeof STEP !== 'number' || STEP === step++ ? PAD : 0, f);
const send = (c: FakeConn, bytes: Uint8Array | string): void => at(() => c.send(bytes));
const grant = (c: FakeConn, n: number): void => at(() => c.grant(n));
const fail = (c: FakeConn): void => at(() => c.fail());
const wait = (ms: number): void => at(() => advance(ms));

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function textOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** One frame as a client sends it (masked) or a server does (unmasked). */
function frame(opcode: number, payload: Uint8Array, { fin = true, masked = true } = {}): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : 2;
  const out = new Uint8Array(2 + ext + (masked ? 4 : 0) + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = (masked ? 0x80 : 0) | (ext ? 126 : n);
  if (ext) {
    out[2] = n >> 8;
    out[3] = n & 0xff;
  }
  let o = 2 + ext;
  const key = [0x12, 0x34, 0x56, 0x78];
  if (masked) for (let i = 0; i < 4; i++) out[o++] = key[i];
  for (let i = 0; i < n; i++) out[o + i] = masked ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** The frames in `bytes` (unmasked), after an HTTP head if `head`. */
function framesOf(bytes: Uint8Array, head = false): Frame[] {
  let i = 0;
  if (head) {
    const end = textOf(bytes).indexOf('\r\n\r\n');
    if (end < 0) return [];
    i = end + 4;
  }
  const out: Frame[] = [];
  while (i + 2 <= bytes.length) {
    let n = bytes[i + 1] & 0x7f;
    let o = i + 2;
    if (n === 126) {
      n = (bytes[o] << 8) | bytes[o + 1];
      o += 2;
    }
    const masked = (bytes[i + 1] & 0x80) !== 0;
    const key = masked ? bytes.slice(o, o + 4) : null;
    if (key) o += 4;
    if (o + n > bytes.length) break;
    const payload = bytes.slice(o, o + n);
    if (key) for (let k = 0; k < n; k++) payload[k] ^= key[k & 3];
    out.push({ opcode: bytes[i] & 0x0f, payload });
    i = o + n;
  }
  return out;
}

const closeCode = (f: Frame | undefined): number => (f && f.opcode === 8 && f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : -1);

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const upgrade = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: device.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}

// 0. Calibration: an empty callback, as deep as the others (run.mjs pads only this one).
at(() => {});

// 1. The echo app as the Moddable simulator runs it (logging each event).
{
  const log: string[] = [];
  const server = startEchoServer({ port: 9000, keepAliveInterval: 1000, clientTimeout: 500, log: (line) => log.push(line) });
  const listener = lastListener!;
  const open = (): FakeConn => {
    const c = listener.connect();
    grant(c, 64 * 1024);
    send(c, upgrade('/'));
    const reply = c.take();
    check(textOf(reply).startsWith('HTTP/1.1 101'), 'echo: 101');
    return c;
  };

  const a = open();
  send(a, frame(1, bytesOf('hello')));
  send(a, frame(2, pattern(1024)));
  send(a, frame(1, bytesOf('frag'), { fin: false }));
  send(a, frame(9, bytesOf('p')));
  send(a, frame(0, bytesOf('ment')));
  const echoed = framesOf(a.take());
  check(echoed.length === 4 && textOf(echoed[0].payload) === 'hello' && echoed[1].payload.length === 1024, 'echo: text and binary echoed');
  check(echoed.length === 4 && echoed[2].opcode === 10 && textOf(echoed[3].payload) === 'fragment', 'echo: pong, then the fragmented message');
  wait(1000); // a keep-alive ping is due
  check(framesOf(a.take()).some((f) => f.opcode === 9), 'echo: keep-alive ping');
  send(a, frame(8, new Uint8Array([0x03, 0xe8])));
  check(closeCode(framesOf(a.take())[0]) === 1000, 'echo: close echoed');
  fail(a);

  const b = open();
  send(b, frame(3, bytesOf('x'))); // reserved opcode
  check(closeCode(framesOf(b.take())[0]) === 1002, 'echo: reserved opcode -> 1002');
  fail(b);

  const c = open();
  send(c, frame(8, new Uint8Array([0x03, 0xe8, 0xff]))); // reason not UTF-8
  check(closeCode(framesOf(c.take())[0]) === 1007, 'echo: invalid close reason -> 1007');
  fail(c);

  // The peer is gone when the echo writes: send() inside the message handler fails. The
  // close must come from the timer, after the handler returned.
  const d = open();
  d.broken = true;
  const before = log.length;
  send(d, frame(1, bytesOf('into the void')));
  check(log.length === before, `echo: no close reported inside the failed send (got ${log.slice(before).join('; ')})`);
  wait(0);
  check(log.length === before + 1 && /^closed .* 1006 /.test(log[before]), `echo: 1006 reported from the timer (got ${log.slice(before).join('; ')})`);
  check(server.clientsCount === 0, 'echo: every client gone');
  server.stop();
}

// 2. The LED app behind the HTTP server: the Atom Lite's path (page, hand-off, broadcast).
{
  const ws = new WebSocketServer({ isStandAlone: false, prefix: '/ws', maxClients: 4 });
  const shown: number[][] = [];
  const app = new LedApp(ws, { set: (r, g, b) => void shown.push([r, g, b]) }, { log: () => {} });
  const http = new HttpServer({
    port: 80,
    store: new MemoryStore({ '/index.html': '<!doctype html><title>LED</title>\n' }),
    websocket: { path: '/ws', server: ws },
  });
  http.start();
  const listener = lastListener!;
  const page = listener.connect();
  grant(page, 8192);
  send(page, 'GET / HTTP/1.1\r\nHost: device.local\r\n\r\n');
  check(textOf(page.take()).startsWith('HTTP/1.1 200'), 'led: page served');
  fail(page);

  const clients: FakeConn[] = [];
  for (let i = 0; i < 3; i++) {
    const c = listener.connect();
    grant(c, 8192);
    send(c, upgrade('/ws'));
    grant(c, 8192); // the WebSocket's own socket (taken over from the HTTP one) waits for room
    const got = framesOf(c.take(), true);
    check(got.length === 1 && got[0].payload.length === 3, `led: client ${i} gets the colour on opening`);
    clients.push(c);
  }
  send(clients[0], frame(2, new Uint8Array([10, 20, 30])));
  check(clients.every((c) => framesOf(c.take()).length === 1) && app.color.join() === '10,20,30', 'led: colour broadcast to all');
  send(clients[1], frame(1, bytesOf('red')));
  check(closeCode(framesOf(clients[1].take())[0]) === 1003, 'led: text -> 1003');
  clients[2].broken = true;
  send(clients[0], frame(2, new Uint8Array([1, 2, 3])));
  check(shown.length > 0 && shown[shown.length - 1].join() === '1,2,3', 'led: colour shown while a client is gone');
  wait(0);
  for (const c of clients) fail(c);
  wait(10_000);
  check(ws.clientsCount === 0 && http.connectionsCount === 0, 'led: everything released');
  http.stop();
  ws.stop();
}

// 3. The client: handshake, echo from its message handler, a failed write, the close handshake.
{
  const client = new WebSocketClient({ keepAliveInterval: 0 });
  const events: string[] = [];
  client.on('open', () => events.push('open'));
  client.on('message', (data, isText) => {
    events.push(`message ${isText ? data : (data as Uint8Array).length}`);
    client.send(data);
  });
  client.on('close', (code) => events.push(`close ${code}`));
  const run = (breakAfterOpen: boolean): void => {
    events.length = 0;
    client.connect('ws://127.0.0.1:9001/x');
    wait(0);
    const s = lastOutgoing!;
    grant(s, 8192);
    const request = textOf(s.take());
    const key = /Sec-WebSocket-Key: ([^\r]+)/i.exec(request);
    check(!!key, 'client: request has a key');
    send(s, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key ? key[1] : '')}\r\n\r\n`);
    check(events.join() === 'open', `client: open (got ${events.join()})`);
    if (breakAfterOpen) {
      s.broken = true;
      send(s, frame(1, bytesOf('hi'), { masked: false }));
      check(events.join() === 'open,message hi', `client: no close inside the failed send (got ${events.join()})`);
      wait(0);
      check(events.join() === 'open,message hi,close 1006', `client: 1006 from the timer (got ${events.join()})`);
      return;
    }
    send(s, frame(2, pattern(300), { masked: false }));
    const back = framesOf(s.take());
    const sent = pattern(300);
    check(back.length === 1 && back[0].opcode === 2 && back[0].payload.every((x, k) => x === sent[k]), 'client: message echoed (masked)');
    send(s, frame(8, new Uint8Array([0x03, 0xe8]), { masked: false }));
    check(closeCode(framesOf(s.take())[0]) === 1000, 'client: close answered');
    fail(s); // the server closes TCP after the close handshake
    wait(0);
    check(events.join() === 'open,message 300,close 1000', `client: message, then close 1000 (got ${events.join()})`);
  };
  run(false);
  run(true);
}

issueCommand(bytesOf(JSON.stringify({ passed, failures })).buffer as ArrayBuffer);
