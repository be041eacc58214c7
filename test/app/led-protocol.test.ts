// The LED app end to end: the real sim-host process (hosts/sim/led-main.ts, as `npm start`
// runs it) on an ephemeral port of 127.0.0.1, driven by `ws` clients, its virtual LED
// read from stdout (`LED #rrggbb`) and its button pressed through stdin ("b\n").
// Protocol (src/apps/led-app.ts): a 3-byte binary [R, G, B] sets the colour, which is applied
// and broadcast to every client (the sender too); a new client gets the current colour
// at once; text -> 1003, any other length -> 1007, on that connection only.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client, LedAppProcess, ROOT, closeClients, ledLine, listenersOn, sleep, stopApps, until } from './helpers';
import type { Rgb } from './helpers';
import { inProcessOnly } from '../moddable/mode';

// Under npm run test:moddable the app is the root manifest's build in the Moddable
// simulator (helpers.ts); these do not apply there:
const itWithButton = inProcessOnly('the simulator has no button (hosts/moddable/virtual-led.ts)');
const itOnSimHost = inProcessOnly(
  "the simulator build listens on every interface (Moddable's Listener ignores an address) and prints http://<device>:port",
);

let app: LedAppProcess;
/** web/dist as the app loaded it at start. */
const dist: Record<string, Buffer> = {};

beforeAll(async () => {
  app = await LedAppProcess.start();
  for (const name of ['index.html', 'app.js', 'app.css']) dist[name] = readFileSync(join(ROOT, 'web', 'dist', name));
}, 30_000);

afterEach(() => {
  closeClients();
  expect(app.unexpectedStderr()).toEqual([]);
  expect(app.running).toBe(true);
});

afterAll(async () => {
  closeClients();
  await stopApps();
});

/** A client with the page's Origin (or `null`: no Origin, as non-browser clients). */
async function open(origin: string | null = app.origin): Promise<{ client: Client; first: number[] }> {
  const client = await Client.open(app.wsUrl(), origin ?? undefined);
  const first = await client.nextBinary('the current colour on connect');
  return { client, first };
}

/** Set a colour through a client and wait until the LED and that client show it. */
async function setColor(client: Client, color: Rgb): Promise<void> {
  const mark = app.lines.length;
  client.send(color);
  await app.waitLed(color, mark);
  expect(await client.nextBinary('the echo')).toEqual(color);
}

/**
 * Nothing reached the LED since line `mark`: another client then sets `sentinel`, and
 * that must be the first LED line after the mark.
 */
async function ledUnchangedSince(mark: number, sentinel: Rgb, via: Client): Promise<void> {
  via.send(sentinel);
  const at = await app.waitLed(sentinel, mark);
  expect(app.ledLines(mark)).toEqual([ledLine(sentinel)]);
  expect(at).toBeGreaterThanOrEqual(mark);
  expect(await via.nextBinary('the sentinel echo')).toEqual(sentinel);
}

describe('LED app process', () => {
  itOnSimHost('starts with the LED off, prints its URL and listens on 127.0.0.1 only by default', () => {
    expect(app.ledLines()[0]).toBe('LED #000000');
    expect(app.url).toBe(`http://127.0.0.1:${app.port}/`);
    expect(app.lines.map((l) => l.text)).toContain(`LED app: http://127.0.0.1:${app.port}/`);
    const listening = listenersOn(app.port);
    expect(listening.v4).toEqual(['0100007F']); // 127.0.0.1, not 00000000 (0.0.0.0)
    expect(listening.v6).toEqual([]);
    // what hosts/sim/led-main.ts and the device print, and nothing else (no stray traces)
    const known = /^(LED #[0-9a-f]{6}|LED app: http:\/\/\S+|State and Wi-Fi settings: .+|Wi-Fi and mDNS are simulated here: .+|Button: type b .+|wifi: .+|Set-up: join Wi-Fi .+|Device: http:\/\/\S+ .*)$/;
    for (const line of app.lines) expect(line.text).toMatch(known);
  });

  it('a new client receives the current colour at once', async () => {
    const { client: a } = await open();
    await setColor(a, [0x12, 0x34, 0x56]);
    const b = await Client.open(app.wsUrl(), app.origin);
    // unasked (b sends nothing) and before anything else: its first message
    expect(await b.nextBinary()).toEqual([0x12, 0x34, 0x56]);
    const { first: withoutOrigin } = await open(null);
    expect(withoutOrigin).toEqual([0x12, 0x34, 0x56]);
    await sleep(100);
    expect(b.pending).toBe(0); // only that one frame
    expect(a.pending).toBe(0); // other clients' arrivals send nothing to anyone
  });

  it('a 3-byte frame sets the LED (stdout) and is broadcast to every client, the sender included', async () => {
    const { client: a } = await open();
    const { client: b } = await open();
    const { client: c } = await open(null);
    const mark = app.lines.length;
    a.send([0xff, 0x80, 0x01]);
    await app.waitLed([0xff, 0x80, 0x01], mark);
    expect(await a.nextBinary('the sender echo')).toEqual([0xff, 0x80, 0x01]);
    expect(await b.nextBinary()).toEqual([0xff, 0x80, 0x01]);
    expect(await c.nextBinary()).toEqual([0xff, 0x80, 0x01]);
    await sleep(100);
    expect(app.ledLines(mark)).toEqual(['LED #ff8001']);
    expect([a.pending, b.pending, c.pending]).toEqual([0, 0, 0]);
  });

  it("two clients see each other's changes, in order", async () => {
    const { client: a } = await open();
    const { client: b } = await open(null);
    const mark = app.lines.length;
    a.send([1, 2, 3]);
    expect(await b.nextBinary()).toEqual([1, 2, 3]);
    expect(await a.nextBinary()).toEqual([1, 2, 3]);
    b.send([4, 5, 6]);
    expect(await a.nextBinary()).toEqual([4, 5, 6]);
    expect(await b.nextBinary()).toEqual([4, 5, 6]);
    // a burst from both, interleaved: every client gets every colour, in the LED's order
    const burst: Rgb[] = [];
    for (let i = 0; i < 20; i++) {
      const color: Rgb = [i, 255 - i, i & 1 ? 0xaa : 0x55];
      burst.push(color);
      (i & 1 ? b : a).send(color);
    }
    const fromA: number[][] = [];
    const fromB: number[][] = [];
    for (let i = 0; i < 20; i++) fromA.push(await a.nextBinary());
    for (let i = 0; i < 20; i++) fromB.push(await b.nextBinary());
    expect(fromA).toEqual(fromB);
    // (the LED line is written before the broadcast, but stdout and the sockets are read apart)
    await until('the burst on the LED', () => app.ledLines(mark).length >= 22);
    const leds = app.ledLines(mark).slice(2);
    expect(leds).toEqual(fromA.map((c) => ledLine(c)));
    expect([...fromA].sort()).toEqual([...burst].sort());
    // each sender's own colours keep their order
    const order = (from: number[][], parity: number): string =>
      from.filter((c) => (c[2] === 0xaa ? 1 : 0) === parity).map((c) => c.join()).join(' ');
    expect(order(fromA, 0)).toBe(order(burst, 0));
    expect(order(fromA, 1)).toBe(order(burst, 1));
  });

  it('a text frame closes that client with 1003; the others keep working and the LED is unchanged', async () => {
    const { client: a } = await open();
    const { client: b } = await open();
    await setColor(b, [0x10, 0x20, 0x30]);
    expect(await a.nextBinary()).toEqual([0x10, 0x20, 0x30]);
    const mark = app.lines.length;
    a.send('ff0000');
    expect((await a.waitClose()).code).toBe(1003);
    expect(b.isOpen).toBe(true);
    expect(b.pending).toBe(0);
    await ledUnchangedSince(mark, [0x11, 0x22, 0x33], b);
    const { first } = await open();
    expect(first).toEqual([0x11, 0x22, 0x33]);
  });

  it('a binary frame of 0, 2 or 4 bytes closes that client with 1007; the others are unaffected', async () => {
    const { client: keeper } = await open();
    const { client: watcher } = await open(null);
    await setColor(keeper, [0x40, 0x50, 0x60]);
    expect(await watcher.nextBinary()).toEqual([0x40, 0x50, 0x60]);
    const mark = app.lines.length;
    for (const bad of [[1, 2], [1, 2, 3, 4], []]) {
      const { client } = await open();
      client.send(bad);
      const closed = await client.waitClose();
      expect(closed.code, `${bad.length} bytes`).toBe(1007);
    }
    expect(keeper.isOpen && watcher.isOpen).toBe(true);
    expect([keeper.pending, watcher.pending]).toEqual([0, 0]);
    await ledUnchangedSince(mark, [0x41, 0x51, 0x61], keeper);
    expect(await watcher.nextBinary()).toEqual([0x41, 0x51, 0x61]);
  });

  itWithButton('the button (stdin "b") turns the LED off, broadcasting [0,0,0]; again brings the colour back', async () => {
    const { client: a } = await open();
    const { client: b } = await open(null);
    await setColor(a, [0x20, 0x40, 0x80]);
    expect(await b.nextBinary()).toEqual([0x20, 0x40, 0x80]);
    let mark = app.lines.length;
    app.press();
    await app.waitLed('#000000', mark);
    expect(await a.nextBinary()).toEqual([0, 0, 0]);
    expect(await b.nextBinary()).toEqual([0, 0, 0]);
    const { first: whileOff } = await open();
    expect(whileOff).toEqual([0, 0, 0]);
    mark = app.lines.length;
    app.press();
    await app.waitLed([0x20, 0x40, 0x80], mark);
    expect(await a.nextBinary()).toEqual([0x20, 0x40, 0x80]);
    expect(await b.nextBinary()).toEqual([0x20, 0x40, 0x80]);
    await sleep(100);
    expect(app.ledLines(mark)).toEqual(['LED #204080']);
    expect([a.pending, b.pending]).toEqual([0, 0]);
    // a client turning it off, then the button: the colour from before comes back
    await setColor(a, [0, 0, 0]);
    expect(await b.nextBinary()).toEqual([0, 0, 0]);
    mark = app.lines.length;
    app.press();
    await app.waitLed([0x20, 0x40, 0x80], mark);
    expect(await b.nextBinary()).toEqual([0x20, 0x40, 0x80]);
  });

  it('a foreign Origin is refused with 403 and changes nothing', async () => {
    const { client: b } = await open();
    const mark = app.lines.length;
    for (const origin of ['http://evil.example', `http://localhost:${app.port}`, `http://127.0.0.1:${app.port}.evil.example`, 'null']) {
      expect(await Client.attempt(app.wsUrl(), origin), origin).toBe('HTTP 403');
    }
    expect(b.pending).toBe(0);
    expect(app.ledLines(mark)).toEqual([]);
    await ledUnchangedSince(mark, [0x77, 0x66, 0x55], b);
    // the right Origin (any case) and no Origin are let in
    expect(await Client.attempt(app.wsUrl(), app.origin.toUpperCase().replace('HTTP', 'http'))).toBe('open');
    expect(await Client.attempt(app.wsUrl())).toBe('open');
    expect(app.stderr.match(/handshake rejected: 403 origin not allowed/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('HTTP: / serves the page (gzip when accepted), /app.js and /app.css with their content types', async () => {
    const plain = await get('/');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(dist['index.html']!)).toBe(true);
    expect(plain.body.toString()).toContain('<script src="app.js"');

    const gz = await get('/', { 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(gz.headers['vary']).toMatch(/accept-encoding/i);
    expect(gz.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);

    expect((await get('/index.html')).body.equals(plain.body)).toBe(true);
    expect((await get('/?token=abc')).status).toBe(200);

    const js = await get('/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript(;|$)/);
    expect(js.body.equals(dist['app.js']!)).toBe(true);
    const jsGz = await get('/app.js', { 'accept-encoding': 'gzip' });
    expect(jsGz.headers['content-encoding']).toBe('gzip');
    expect(jsGz.headers['content-type']).toMatch(/^text\/javascript(;|$)/);
    expect(gunzipSync(jsGz.body).equals(js.body)).toBe(true);

    const css = await get('/app.css', { 'accept-encoding': 'gzip' });
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css(;|$)/);
    expect(gunzipSync(css.body).equals(dist['app.css']!)).toBe(true);

    expect((await get('/nothing-here.js')).status).toBe(404);
    expect((await get('/ws')).status).toBe(404); // the WebSocket endpoint is not a page
  });
});

describe('LED app process with --token', () => {
  let secured: LedAppProcess;

  beforeAll(async () => {
    secured = await LedAppProcess.start({ token: 'abc' });
  }, 30_000);

  afterAll(async () => {
    closeClients();
    await secured.stop();
  });

  it('refuses a WebSocket without the token, accepts ?token=abc', async () => {
    expect(secured.lines.map((l) => l.text)).toContain(secured.banner('?token=abc'));
    const origin = secured.origin;
    expect(await Client.attempt(secured.wsUrl(), origin)).toBe('HTTP 403');
    expect(await Client.attempt(secured.wsUrl(), undefined)).toBe('HTTP 403');
    expect(await Client.attempt(secured.wsUrl('?token=abd'), origin)).toBe('HTTP 403');
    expect(await Client.attempt(secured.wsUrl('?token='), origin)).toBe('HTTP 403');
    expect(await Client.attempt(secured.wsUrl('?token=abc'), 'http://evil.example')).toBe('HTTP 403');
    const client = await Client.open(secured.wsUrl('?token=abc'), origin);
    expect(await client.nextBinary()).toEqual([0, 0, 0]);
    const mark = secured.lines.length;
    client.send([9, 8, 7]);
    await secured.waitLed([9, 8, 7], mark);
    expect(await client.nextBinary()).toEqual([9, 8, 7]);
    const other = await Client.open(secured.wsUrl('?x=1&token=abc'));
    expect(await other.nextBinary()).toEqual([9, 8, 7]);
    expect(secured.unexpectedStderr()).toEqual([]);
    expect(secured.stderr).toMatch(/handshake rejected: 403/);
  });
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: app.port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
