// The LED device end to end over HTTP (issue 14): the real app (the sim host's process, or
// the root manifest's build in Moddable's simulator under npm run test:moddable) with its
// own records directory, driven with Node's http client and `ws`:
// - the JSON API: GET/POST /api/state, /api/info, their refusals (400, 401, 403, 405,
//   413, 415, 421), and a change made there reaching every open page at once;
// - the state kept across restarts (the records file on the sim host, Preference in the
//   simulator), written while a drag goes on, the latest colour restored;
// - the Wi-Fi set-up over HTTP against the simulated radio, the name it announces and
//   the Host names that follow;
// - the button's gestures as stdin keys (sim host only).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, LedAppProcess, closeClients, ledLine, sleep, stateDir, stopApps, until } from './helpers';
import type { Rgb } from './helpers';
import { MODDABLE, inProcessOnly } from '../moddable/mode';

const itOnSimHost = inProcessOnly('the simulator build takes no command-line arguments and has no button');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** One request on its own connection: method, path, headers, body. */
function request(app: LedAppProcess, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: app.port, method, path, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const post = (app: LedAppProcess, path: string, value: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  request(app, 'POST', path, { ...JSON_TYPE, ...headers }, typeof value === 'string' ? value : JSON.stringify(value));

/** [R, G, B] of "#rrggbb". */
const rgb = (color: string): Rgb => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) as Rgb;

/** The LED state record the app stored in `dir` (records.json on the sim host, Preference's file in the simulator), or undefined. */
function storedState(dir: string): Record<string, unknown> | undefined {
  const file = MODDABLE ? join(dir, 'modpreferences.json') : join(dir, 'records.json');
  if (!existsSync(file)) return undefined;
  try {
    const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const text = MODDABLE ? (all.led as Record<string, unknown> | undefined)?.state : all.state;
    return typeof text === 'string' ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // being rewritten
  }
}

const dirs: string[] = [];
function keptDir(): string {
  const dir = stateDir();
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  closeClients();
  await stopApps();
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('LED device: the JSON API', () => {
  it('GET /api/state starts off and white; POST changes the LED and every open page at once', async () => {
    const app = await LedAppProcess.start();
    expect((await request(app, 'GET', '/api/state')).json).toEqual({ on: false, color: '#ffffff', brightness: 100 });
    const a = await Client.open(app.wsUrl(), app.origin);
    const b = await Client.open(app.wsUrl());
    expect(await a.nextBinary()).toEqual([0, 0, 0]);
    expect(await b.nextBinary()).toEqual([0, 0, 0]);

    const mark = app.lines.length;
    // the colour the LED shows and its brightness (largest channel: 0xb0 = 69 % of 255), as the page shows them
    const set = await post(app, '/api/state', { on: true, color: '#20b060', brightness: 69 });
    expect(set.status).toBe(200);
    expect(set.headers['content-type']).toBe('application/json');
    expect(set.json).toEqual({ on: true, color: '#20b060', brightness: 69 });
    const shown: Rgb = [0x20, 0xb0, 0x60];
    await app.waitLed(shown, mark);
    expect(await a.nextBinary('the API change')).toEqual(shown);
    expect(await b.nextBinary('the API change')).toEqual(shown);
    expect((await request(app, 'GET', '/api/state')).json).toEqual({ on: true, color: '#20b060', brightness: 69 });

    // a brightness alone scales the colour's hue; off keeps colour and brightness for the next on
    expect((await post(app, '/api/state', { brightness: 100 })).json).toEqual({ on: true, color: '#2eff8b', brightness: 100 });
    expect(await a.nextBinary()).toEqual([0x2e, 0xff, 0x8b]);
    expect((await post(app, '/api/state', { on: false })).json).toEqual({ on: false, color: '#2eff8b', brightness: 100 });
    expect(await a.nextBinary()).toEqual([0, 0, 0]);
    expect((await post(app, '/api/state', { color: '#f00' })).json).toEqual({ on: false, color: '#ff0000', brightness: 100 });
    expect(await a.nextBinary()).toEqual([0, 0, 0]); // still off: the LED stays dark

    // a page's frame reads back as the page shows it: its hex value and its slider
    const m2 = app.lines.length;
    a.send([0x16, 0x79, 0x42]);
    await app.waitLed([0x16, 0x79, 0x42], m2);
    expect((await request(app, 'GET', '/api/state')).json).toEqual({ on: true, color: '#167942', brightness: 47 });
    const head = await request(app, 'HEAD', '/api/state');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(app.unexpectedStderr()).toEqual([]);
  });

  it('refuses what it cannot take, with the status and a sentence saying why, and changes nothing', async () => {
    const app = await LedAppProcess.start();
    const before = (await request(app, 'GET', '/api/state')).json;
    const mark = app.lines.length;
    // one at a time: the device serves 4 HTTP connections at once (a 5th gets 503 by design)
    const cases: [() => Promise<Answer>, number, RegExp][] = [
      [() => post(app, '/api/state', '{"on":tru'), 400, /not valid JSON/],
      [() => post(app, '/api/state', { power: true }), 400, /unknown field "power"/],
      [() => post(app, '/api/state', { brightness: 101 }), 400, /whole number from 0 to 100/],
      [() => post(app, '/api/state', { color: 'green' }), 400, /"color" must be/],
      [() => post(app, '/api/state', [1, 2, 3]), 400, /JSON object/],
      [() => request(app, 'POST', '/api/state', { 'content-type': 'text/plain' }, '{"on":true}'), 415, /Content-Type: application\/json/],
      [() => post(app, '/api/state', { on: true }, { origin: 'http://evil.example' }), 403, /another site/],
      [() => request(app, 'DELETE', '/api/state'), 405, /./],
      [() => post(app, '/api/state', { on: true, pad: 'x'.repeat(600) }), 413, /./],
      [() => post(app, '/api/setup/scan', '[]'), 400, /must be \{\}/],
      [() => request(app, 'GET', '/api/setup/scan'), 405, /POST/],
      [() => request(app, 'GET', '/api/state', { host: 'evil.example' }), 421, /./],
    ];
    for (const [send, status, pattern] of cases) {
      const answer = await send();
      expect(answer.status, answer.text).toBe(status);
      // the API's JSON {"error": sentence}, or the HTTP server's own text for what never reached a route
      expect((answer.json as { error?: string } | undefined)?.error ?? answer.text).toMatch(pattern);
    }
    expect((await request(app, 'GET', '/api/setup/scan')).headers.allow).toBe('POST');
    expect((await request(app, 'PUT', '/api/state')).headers.allow).toBe('GET, HEAD, POST');
    // the page's own Origin is let in
    expect((await post(app, '/api/state', {}, { origin: app.origin })).status).toBe(200);
    expect((await request(app, 'GET', '/api/state')).json).toEqual(before);
    expect(app.ledLines(mark)).toEqual([]);
    expect(app.running).toBe(true);
  });

  it('with a token: 401 without it, Bearer or ?token= let in; set-up stays open while the device is in set-up', async () => {
    const token = (MODDABLE ? MODDABLE.led.token.token : undefined) ?? 'sesame-1';
    const app = await LedAppProcess.start({ token });
    const refused = await request(app, 'GET', '/api/state');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.json).toEqual({ error: expect.stringMatching(/token/) });
    expect((await request(app, 'GET', '/api/state', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(app, '/api/state', { on: true })).status).toBe(401);
    expect((await request(app, 'GET', '/api/info')).status).toBe(401);
    expect((await request(app, 'GET', '/api/state', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await request(app, 'GET', `/api/state?token=${encodeURIComponent(token)}`)).status).toBe(200);
    const mark = app.lines.length;
    expect((await post(app, '/api/state', { on: true }, { authorization: `Bearer ${token}` })).status).toBe(200);
    await app.waitLed([255, 255, 255], mark);
    // no network known yet: the set-up page needs no token (the button or an empty device is the proof)
    await until('set-up mode', () => app.lines.some((l) => l.text.startsWith('Set-up: join Wi-Fi')), 10_000);
    expect((await request(app, 'GET', '/api/setup')).status).toBe(200);
  });

  it('GET /api/info names the device and its .local URL', async () => {
    const app = await LedAppProcess.start();
    const info = (await request(app, 'GET', '/api/info')).json as { name: string; url: string; mode: string };
    expect(info.name).toBe('atom-led-1a2b'); // the simulated radio's MAC 02:00:00:00:1a:2b
    expect(info.url).toBe(`http://atom-led-1a2b.local:${app.port}/`);
    expect(['setup', 'joining']).toContain(info.mode);
  });
});

describe('LED device: state kept across restarts', () => {
  it('comes back as it was: API state and a page frame, exactly', async () => {
    const records = keptDir();
    let app = await LedAppProcess.start({ records });
    expect(app.ledLines()[0]).toBe('LED #000000'); // nothing stored yet
    const set = await post(app, '/api/state', { on: true, color: '#3366ff', brightness: 40 });
    expect(set.json).toEqual({ on: true, color: '#142966', brightness: 40 });
    await until('the state written', () => storedState(records)?.color === '#142966');
    await app.stop();

    app = await LedAppProcess.start({ records });
    const shown = rgb('#142966');
    expect(app.ledLines()[0]).toBe(ledLine(shown));
    expect((await request(app, 'GET', '/api/state')).json).toEqual(set.json);
    const client = await Client.open(app.wsUrl());
    expect(await client.nextBinary('the restored colour')).toEqual(shown);

    // a page's frame comes back exactly
    client.send([0x16, 0x79, 0x42]);
    await app.waitLed([0x16, 0x79, 0x42]);
    await until('the frame written', () => storedState(records)?.color === '#167942', 10_000);
    await app.stop();
    app = await LedAppProcess.start({ records });
    expect(app.ledLines()[0]).toBe('LED #167942');
  });

  it('a drag is written at most once per interval, and the latest colour is the one kept', async () => {
    const records = keptDir();
    let app = await LedAppProcess.start({ records });
    const client = await Client.open(app.wsUrl());
    await client.nextBinary();
    const last: Rgb = [0x40, 0x80, 0xc0];
    for (let i = 1; i <= 30; i++) {
      client.send(i === 30 ? last : [i, 2 * i, 3 * i]);
      await client.nextBinary('the echo'); // one in flight, as the page sends
    }
    await until('the latest colour written', () => storedState(records)?.color === '#4080c0', 10_000);
    if (!MODDABLE) {
      // killed outright: what is on disk is what the periodic write left
      app.child!.kill('SIGKILL');
      await until('the app gone', () => !app.running);
    } else await app.stop();
    app = await LedAppProcess.start({ records });
    expect(app.ledLines()[0]).toBe(ledLine(last));
  });
});

describe('LED device: Wi-Fi set-up over HTTP (simulated radio)', () => {
  interface SetupStatus {
    mode: string;
    error: string;
    name: string;
    address?: string;
  }
  async function setupStatus(app: LedAppProcess): Promise<SetupStatus> {
    return (await request(app, 'GET', '/api/setup')).json as SetupStatus;
  }
  /** GET /api/setup until `test` holds (the radio answers later). */
  async function waitStatus(app: LedAppProcess, what: string, test: (status: SetupStatus) => boolean): Promise<SetupStatus> {
    const end = Date.now() + 20_000;
    for (;;) {
      const status = await setupStatus(app);
      if (test(status)) return status;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(status)}`);
      await sleep(50);
    }
  }

  it('no network known: set-up; a wrong password comes back as an error; the right one joins and announces the new name', async () => {
    const app = await LedAppProcess.start();
    await app.waitLine((l) => l === 'wifi: no network known', 0, 10_000);
    await app.waitLine((l) => l.startsWith('Set-up: join Wi-Fi "atom-led-1a2b-setup" (password ledsetup), open http://127.0.0.1:'), 0, 10_000);
    expect((await setupStatus(app)).mode).toBe('setup');
    expect((await post(app, '/api/setup', { ssid: 'home', password: 'short' })).status).toBe(400);

    const wrong = await post(app, '/api/setup', { ssid: 'home', password: 'not-the-password' });
    expect(wrong.status).toBe(202);
    expect((wrong.json as { mode: string }).mode).toBe('joining');
    const refused = await waitStatus(app, 'set-up again', (status) => status.mode === 'setup');
    expect(refused).toMatchObject({ mode: 'setup', error: 'wrong password' });

    // the new name is not answered for before it is claimed
    expect((await request(app, 'GET', '/api/info', { host: `my-led.local:${app.port}` })).status).toBe(421);
    const mark = app.lines.length;
    expect((await post(app, '/api/setup', { ssid: 'home', password: 'correct-horse', name: 'my-led' })).status).toBe(202);
    await app.waitLine((l) => l.startsWith(`Device: http://my-led.local:${app.port}/ (`), mark, 20_000);
    const status = await setupStatus(app);
    expect(status).toMatchObject({ mode: 'online', name: 'my-led', error: '' });
    expect(status.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const info = await request(app, 'GET', '/api/info', { host: `my-led.local:${app.port}` });
    expect(info.status).toBe(200);
    expect(info.json).toEqual({ name: 'my-led', url: `http://my-led.local:${app.port}/`, mode: 'online' });
    expect((await request(app, 'GET', '/', { host: `MY-LED.local:${app.port}` })).status).toBe(200);
    expect((await request(app, 'GET', '/', { host: `atom-led-1a2b.local:${app.port}` })).status).toBe(421);
  });

  itOnSimHost('build-time credentials join at start; a long press (key l) opens set-up again; set-up settings survive a restart', async () => {
    const records = keptDir();
    let app = await LedAppProcess.start({ records, args: ['--wifi-ssid', 'home', '--wifi-password', 'correct-horse'] });
    await app.waitLine((l) => l.startsWith(`Device: http://atom-led-1a2b.local:${app.port}/ (`), 0, 20_000);
    const mark = app.lines.length;
    app.child!.stdin!.write('l\n');
    await app.waitLine((l) => l.startsWith('Set-up: join Wi-Fi "atom-led-1a2b-setup"'), mark, 10_000);
    await waitStatus(app, 'set-up', (status) => status.mode === 'setup');
    expect((await post(app, '/api/setup', { ssid: 'cafe', password: '', name: 'kitchen' })).status).toBe(202);
    await app.waitLine((l) => l.startsWith(`Device: http://kitchen.local:${app.port}/`), mark, 20_000);
    await app.stop();

    app = await LedAppProcess.start({ records });
    await app.waitLine((l) => l === 'wifi: joining "cafe"', 0, 10_000);
    await app.waitLine((l) => l.startsWith(`Device: http://kitchen.local:${app.port}/`), 0, 20_000);
  });
});

describe('LED device: set-up after a long press, with a token', () => {
  itOnSimHost('the set-up routes skip the token only on the set-up network, not on the home network the station joined', async () => {
    const app = await LedAppProcess.start({ token: 'sesame-2', args: ['--wifi-ssid', 'home', '--wifi-password', 'correct-horse'] });
    await app.waitLine((l) => l.startsWith(`Device: http://atom-led-1a2b.local:${app.port}/ (192.168.1.50)`), 0, 20_000);
    const home = { host: `192.168.1.50:${app.port}` }; // the station's address on the (simulated) home network
    expect((await request(app, 'GET', '/api/setup', home)).status).toBe(401);
    const mark = app.lines.length;
    app.child!.stdin!.write('l\n');
    await app.waitLine((l) => l.startsWith('Set-up: join Wi-Fi'), mark, 10_000);
    // set-up is open: from the set-up network (here 127.0.0.1, the sim host's set-up address) no token...
    expect((await request(app, 'GET', '/api/setup')).status).toBe(200);
    // ...but a page on the home network still needs it, and the LED API always does
    expect((await request(app, 'GET', '/api/setup', home)).status).toBe(401);
    expect((await post(app, '/api/setup', { ssid: 'cafe', password: '' }, home)).status).toBe(401);
    expect((await request(app, 'GET', '/api/setup', { ...home, authorization: 'Bearer sesame-2' })).status).toBe(200);
    expect((await request(app, 'GET', '/api/state')).status).toBe(401);
  });
});

describe('LED device: the button as keys on the sim host', () => {
  itOnSimHost('b toggles, d cycles the presets from the current colour, all broadcast and kept', async () => {
    const records = keptDir();
    const app = await LedAppProcess.start({ records });
    const client = await Client.open(app.wsUrl());
    expect(await client.nextBinary()).toEqual([0, 0, 0]);
    const press = async (key: string, expected: Rgb): Promise<void> => {
      const mark = app.lines.length;
      app.child!.stdin!.write(`${key}\n`);
      await app.waitLed(expected, mark);
      expect(await client.nextBinary(`the colour after ${key}`)).toEqual(expected);
    };
    await press('b', [255, 255, 255]);
    await press('d', [255, 0, 0]); // white is the last preset: the first
    await press('d', [255, 255, 0]);
    await press('b', [0, 0, 0]);
    await press('d', [0, 255, 0]); // on again, with the next preset
    expect((await request(app, 'GET', '/api/state')).json).toEqual({ on: true, color: '#00ff00', brightness: 100 });
  });
});
