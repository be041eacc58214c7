// The LED device's pages and API (issue 14) served by the real LED app process
// (hosts/sim/led-main.ts, as `npm start` runs it; under npm run test:moddable the root
// manifest's build in the Moddable simulator, see helpers.ts), in headless Chromium:
// - the LED page shows the device's name (from its simulated radio's MAC) and links to the
//   set-up page, passing the token on;
// - changes made over the HTTP API (Node's fetch) reach every open page, and a page's own
//   change shows in GET /api/state;
// - the Wi-Fi set-up flow on setup.html against the simulated radio (scan, a wrong
//   password, the right one and a new name), and the device answering to its new name;
// - the device's 400s shown under the set-up form.
// Every wait is for a condition, with a generous limit; nothing depends on how fast it goes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LedAppProcess, ledLine, stateDir, stopApps } from './helpers';
import { contextOptions, launchChromium } from './browser-helpers';
import type { Kind } from './browser-helpers';
import { onModdable } from '../moddable/mode';

/** The simulated radio's MAC is 02:00:00:00:1a:2b (src/device/simulated-wifi.ts). */
const NAME = 'atom-led-1a2b';
/** The token of the simulator's token build (test/moddable/run.mjs); the sim host takes any. */
const TOKEN = 'abc';
/** The simulated networks, strongest first (src/device/simulated-wifi.ts). */
const NETWORKS = ['home', 'cafe', 'neighbour', 'attic'];
const PASSWORD_ERROR = 'password must be empty (an open network) or 8 to 63 characters long';
const TOKEN_ERROR = 'this device needs its token: Authorization: Bearer <token>, or ?token=<token>';

let browser: Browser | null = null;
/** The contexts of the running test (closed after it). */
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  browser = null;
  await stopApps();
});

/** A page in a context of its own, kept in `into` (closed after the test by default). */
async function newPage(kind: Kind = 'phone', into: BrowserContext[] = contexts): Promise<Page> {
  const context = await browser!.newContext(contextOptions(kind));
  into.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${kind}: ${e.message}`));
  return page;
}

// --- the LED page ----------------------------------------------------------------

const connected = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => document.getElementById('status')!.dataset.state === 'connected', undefined, { timeout: 15_000 });

/** The LED page, once its WebSocket is connected. */
async function openLed(app: LedAppProcess, query = '', kind: Kind = 'phone', into?: BrowserContext[]): Promise<Page> {
  const page = await newPage(kind, into);
  const response = await page.goto(app.url + query);
  expect(response?.status()).toBe(200);
  await connected(page);
  return page;
}

const shows = (page: Page, color: string): Promise<unknown> =>
  page.waitForFunction((c) => document.getElementById('hex')!.textContent === c, color, { timeout: 10_000 });

const powerIs = (page: Page, on: boolean): Promise<unknown> =>
  page.waitForFunction((want) => (document.getElementById('power') as HTMLInputElement).checked === want, on, { timeout: 10_000 });

const nameIs = (page: Page, name: string): Promise<unknown> =>
  page.waitForFunction((n) => document.getElementById('name')!.textContent === n, name, { timeout: 10_000 });

// --- the set-up page -------------------------------------------------------------

/** What the set-up page showed, each time it changed (recorded in the page). */
interface Seen {
  mode: string;
  text: string;
  error: string;
  formHidden: boolean;
  formError: string;
  scanDisabled: boolean;
}

/** The set-up page at `url`, recording every state it shows (window.seen). */
async function openSetup(url: string): Promise<Page> {
  const page = await newPage('phone');
  await page.addInitScript(() => {
    const w = window as unknown as { seen: Seen[] };
    w.seen = [];
    document.addEventListener('DOMContentLoaded', () => {
      const $ = (id: string): HTMLElement => document.getElementById(id)!;
      const note = (): void => {
        const now: Seen = {
          mode: $('mode').dataset.mode ?? '',
          text: $('mode').textContent ?? '',
          error: $('error').textContent ?? '',
          formHidden: $('form').hidden === true,
          formError: $('form-error').textContent ?? '',
          scanDisabled: ($('scan') as HTMLButtonElement).disabled,
        };
        const last = w.seen[w.seen.length - 1];
        if (!last || JSON.stringify(last) !== JSON.stringify(now)) w.seen.push(now);
      };
      note();
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
  });
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  return page;
}

const seen = (page: Page): Promise<Seen[]> => page.evaluate(() => (window as unknown as { seen: Seen[] }).seen);

const modeIs = (page: Page, mode: string): Promise<unknown> =>
  page.waitForFunction((m) => document.getElementById('mode')!.dataset.mode === m, mode, { timeout: 15_000 });

const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? '';

/** The network list's buttons: their SSIDs (value) and texts. */
const networkList = (page: Page): Promise<{ value: string; text: string }[]> =>
  page.locator('#networks button').evaluateAll((buttons) => buttons.map((b) => ({ value: (b as HTMLButtonElement).value, text: b.textContent ?? '' })));

/** The hrefs of the links in #mode ("Connected: open <a> or <a>"). */
const modeLinks = (page: Page): Promise<{ href: string; text: string }[]> =>
  page.locator('#mode a').evaluateAll((links) => links.map((a) => ({ href: (a as HTMLAnchorElement).href, text: a.textContent ?? '' })));

// --- HTTP from Node --------------------------------------------------------------

interface JsonReply {
  status: number;
  type: string | null;
  body: unknown;
}

async function reply(response: Response): Promise<JsonReply> {
  const raw = await response.text();
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: kept as text for the assertion's message
  }
  return { status: response.status, type: response.headers.get('content-type'), body };
}

const withToken = (path: string, token?: string): string => (token === undefined ? path : `${path}?token=${encodeURIComponent(token)}`);

async function getJson(app: LedAppProcess, path: string, token?: string): Promise<JsonReply> {
  return reply(await fetch(app.origin + withToken(path, token)));
}

async function postJson(app: LedAppProcess, path: string, body: unknown, token?: string): Promise<JsonReply> {
  return reply(
    await fetch(app.origin + withToken(path, token), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  );
}

/** The status of GET `path` sent to the app with this Host header (fetch does not let one set Host). */
function statusWithHost(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The app's `wifi` record on the sim host (<records dir>/records.json), or undefined. */
function wifiRecord(records: string): Record<string, unknown> | undefined {
  const file = join(records, 'records.json');
  if (!existsSync(file)) return undefined;
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return all.wifi === undefined ? undefined : (JSON.parse(all.wifi) as Record<string, unknown>);
}

const RECORDS_SKIP = 'the records file is not checked in the Moddable simulator: the app keeps its records with Preference there (mcsim\'s own file format)';

/** Nothing on the app's stderr but its log of refused WebSocket handshakes. */
function quiet(app: LedAppProcess): void {
  expect(app.unexpectedStderr()).toEqual([]);
}

// --- the tests -------------------------------------------------------------------

describe('the LED page names the device and links to set-up', () => {
  it('shows the name in its header and title; the Set-up link keeps ?token= and the set-up page works with that token', async () => {
    const app = await LedAppProcess.start({ token: TOKEN });
    try {
      await app.waitLine((l) => l === 'wifi: no network known', 0, 15_000);
      // Put the device on the (simulated) network: the token is waived while set-up is
      // open, so once the set-up access point has closed, every /api call needs it.
      const joined = await postJson(app, '/api/setup', { ssid: 'home', password: 'correct-horse' });
      expect(joined.status).toBe(202);
      await app.waitLine((l) => l === 'wifi: set-up access point closed', 0, 40_000);
      expect((await getJson(app, '/api/setup')).status).toBe(401);
      const status = await getJson(app, '/api/setup', TOKEN);
      expect(status).toMatchObject({ status: 200, body: { mode: 'online', name: NAME } });
      const address = (status.body as { address: string }).address;
      expect(typeof address).toBe('string');

      const page = await openLed(app, `?token=${TOKEN}`);
      await nameIs(page, NAME);
      expect(await page.title()).toBe(NAME);
      const link = page.getByRole('link', { name: 'Set-up' });
      const href = new URL((await link.getAttribute('href'))!, app.url);
      expect(href.href).toBe(`${app.origin}/setup.html?token=${TOKEN}`);

      await link.click();
      await page.waitForURL(`${app.origin}/setup.html?token=${TOKEN}`);
      await modeIs(page, 'online');
      const port = app.port === 80 ? '' : `:${app.port}`;
      expect(await text(page, '#mode')).toBe(`Connected: open http://${NAME}.local${port}/ or http://${address}${port}/`);
      expect(await modeLinks(page)).toEqual([
        { text: `http://${NAME}.local${port}/`, href: `http://${NAME}.local${port}/?token=${TOKEN}` },
        { text: `http://${address}${port}/`, href: `http://${address}${port}/?token=${TOKEN}` },
      ]);
      expect(await text(page, '#error')).toBe('');
      expect(await text(page, '#name')).toBe(NAME);
      expect(await page.title()).toBe(NAME);
      expect(await page.inputValue('#token')).toBe(TOKEN); // saving the form keeps the device's token
      expect(await page.locator('#home').evaluate((a) => (a as HTMLAnchorElement).href)).toBe(`${app.origin}/?token=${TOKEN}`);

      // the same page without the token gets nothing from the device: its 401 shows
      const bare = await newPage('phone');
      await bare.goto(`${app.origin}/setup.html`);
      await bare.waitForFunction((t) => document.getElementById('error')!.textContent === t, TOKEN_ERROR, { timeout: 10_000 });
      expect(await text(bare, '#mode')).toBe('Loading…');
      expect(await bare.getAttribute('#mode', 'data-mode')).toBeNull();
      quiet(app);
    } finally {
      await app.stop();
    }
  }, 90_000);
});

describe('changes made over the HTTP API reach the open pages', () => {
  let app: LedAppProcess;
  let phone: Page;
  let desktop: Page;
  const shared: BrowserContext[] = [];
  const posted = { on: true, color: '#20b060', brightness: 69 };

  beforeAll(async () => {
    app = await LedAppProcess.start();
    phone = await openLed(app, '', 'phone', shared);
    desktop = await openLed(app, '', 'desktop', shared);
  }, 60_000);

  afterAll(async () => {
    for (const context of shared.splice(0)) await context.close().catch(() => {});
    if (!app) return;
    try {
      quiet(app);
    } finally {
      await app.stop();
    }
  });

  it('both pages show the device name; without a token the Set-up link is plain setup.html', async () => {
    for (const page of [phone, desktop]) {
      await nameIs(page, NAME);
      expect(await page.title()).toBe(NAME);
      expect(await page.locator('#setup').evaluate((a) => (a as HTMLAnchorElement).href)).toBe(`${app.origin}/setup.html`);
      expect(await text(page, '#hex')).toBe('#000000'); // a new device's LED is off
    }
  });

  it('POST /api/state {"on":true,"color":"#20b060","brightness":69}: both pages show the LED\'s colour at once; GET answers it', async () => {
    for (const page of [phone, desktop]) await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    const mark = app.lines.length;
    const answer = await postJson(app, '/api/state', posted);
    expect(answer).toMatchObject({ status: 200, body: posted });
    expect(answer.type).toMatch(/^application\/json/);
    const at = await app.waitLine((l) => l.startsWith('LED #'), mark, 10_000);
    const led = app.lines[at]!.text;
    expect(led).toBe(ledLine(posted.color)); // the colour posted: its largest channel 0xb0 is 69 % of 255
    for (const page of [phone, desktop]) {
      await shows(page, led.slice(4));
      await powerIs(page, true);
      // pushed to the page over its WebSocket: the page was not reloaded
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
      expect(await text(page, '#status')).toBe('connected');
    }
    expect(await getJson(app, '/api/state')).toMatchObject({ status: 200, body: posted });
  });

  it('the pages\' brightness slider shows the brightness the API was given (69)', async () => {
    // The LED page's slider is the HSV value of the colour it receives (web/README.md,
    // "Colour model"); the API's brightness is the same figure (src/device/led-state.ts).
    for (const page of [phone, desktop]) {
      await shows(page, posted.color);
      expect({ brightness: await page.inputValue('#brightness'), api: (await getJson(app, '/api/state')).body }).toEqual({
        brightness: String(posted.brightness),
        api: posted,
      });
    }
  });

  it('POST /api/state {"on":false} turns both pages off; GET answers the colour and brightness kept', async () => {
    for (const page of [phone, desktop]) await powerIs(page, true); // lit by the POST before
    const mark = app.lines.length;
    const off = { ...posted, on: false };
    expect(await postJson(app, '/api/state', { on: false })).toMatchObject({ status: 200, body: off });
    await app.waitLed('#000000', mark, 10_000);
    for (const page of [phone, desktop]) {
      await shows(page, '#000000');
      await powerIs(page, false);
    }
    expect(await getJson(app, '/api/state')).toMatchObject({ status: 200, body: off });
  });

  it('a preset clicked on a page reaches the LED, the other page and GET /api/state', async () => {
    const mark = app.lines.length;
    await phone.getByRole('button', { name: 'Warm white' }).click();
    await app.waitLed('#ffb060', mark, 10_000);
    await shows(desktop, '#ffb060');
    await powerIs(desktop, true);
    expect(await getJson(app, '/api/state')).toMatchObject({ status: 200, body: { on: true, color: '#ffb060', brightness: 100 } });
  });
});

describe('Wi-Fi set-up on setup.html against the simulated radio', () => {
  it('scan, a wrong password (its error, the form again), then the right one and a new name: Connected, and the device answers to my-led.local', async () => {
    const records = stateDir();
    const app = await LedAppProcess.start({ records });
    try {
      await app.waitLine((l) => l === 'wifi: no network known', 0, 15_000);
      expect(await getJson(app, '/api/setup')).toMatchObject({ status: 200, body: { mode: 'setup', name: NAME, ssid: '', error: '' } });
      const port = app.port === 80 ? '' : `:${app.port}`;
      const newHost = `my-led.local${port}`;
      expect(await statusWithHost(app.port, newHost, '/api/info')).toBe(421); // not its name yet

      const page = await openSetup(`${app.origin}/setup.html`);
      await modeIs(page, 'setup');
      expect(await text(page, '#mode')).toBe('Set-up');
      expect(await text(page, '#name')).toBe(NAME);
      expect(await page.inputValue('#device-name')).toBe(NAME);

      // the scan made when set-up opened, then one asked for with the Scan button
      await page.waitForFunction((n) => document.querySelectorAll('#networks button').length === n, NETWORKS.length, { timeout: 15_000 });
      expect((await networkList(page)).map((n) => n.value)).toEqual(NETWORKS);
      const scanFrom = (await seen(page)).length;
      await page.getByRole('button', { name: 'Scan' }).click();
      // disabled while the device scans, enabled again when the page's poll sees the result
      await page.waitForFunction(
        (i) => (window as unknown as { seen: Seen[] }).seen.slice(i).some((s) => s.scanDisabled) && !(document.getElementById('scan') as HTMLButtonElement).disabled,
        scanFrom,
        { timeout: 15_000 },
      );
      const list = await networkList(page);
      expect(list.map((n) => n.value)).toEqual(NETWORKS);
      expect(list[0]!.text).toBe('home · -52 dBm 🔒');
      expect(list[1]!.text).toBe('cafe · -67 dBm'); // open: no lock

      // choose "home": the SSID field takes it and the password field the focus
      await page.getByRole('button', { name: /^home · / }).click();
      expect(await page.inputValue('#ssid')).toBe('home');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
      await page.keyboard.type('wrong-horse');
      let from = (await seen(page)).length;
      let mark = app.lines.length;
      await page.getByRole('button', { name: 'Save & join' }).click();
      await page.waitForFunction(
        () => {
          const s = (window as unknown as { seen: Seen[] }).seen.at(-1)!;
          return s.mode === 'setup' && s.error === 'Could not join: wrong password' && !s.formHidden;
        },
        undefined,
        { timeout: 20_000 },
      );
      await app.waitLine((l) => l === 'wifi: cannot join "home": wrong password', mark);
      const during = (await seen(page)).slice(from);
      const joining = during.findIndex((s) => s.mode === 'joining');
      expect(joining, JSON.stringify(during)).toBeGreaterThanOrEqual(0);
      expect(during[joining]).toMatchObject({ text: 'Joining home…', formHidden: true, formError: '' });
      expect(await page.locator('#form').isVisible()).toBe(true);
      expect(await text(page, '#form-error')).toBe(''); // the 202 was not an error: the join failed later

      // the right password and a new name
      await page.getByLabel('Password', { exact: true }).fill('correct-horse');
      await page.getByLabel('Device name').fill('my-led');
      from = (await seen(page)).length;
      mark = app.lines.length;
      await page.getByRole('button', { name: 'Save & join' }).click();
      await modeIs(page, 'online');
      expect((await seen(page)).slice(from).some((s) => s.mode === 'joining' && s.formHidden)).toBe(true);
      const status = await getJson(app, '/api/setup');
      expect(status).toMatchObject({ status: 200, body: { mode: 'online', name: 'my-led', ssid: 'home', error: '' } });
      const address = (status.body as { address: string }).address;
      expect(typeof address).toBe('string');
      expect(await text(page, '#mode')).toBe(`Connected: open http://my-led.local${port}/ or http://${address}${port}/`);
      expect(await modeLinks(page)).toEqual([
        { text: `http://my-led.local${port}/`, href: `http://my-led.local${port}/` },
        { text: `http://${address}${port}/`, href: `http://${address}${port}/` },
      ]);
      expect(await text(page, '#error')).toBe('');
      expect(await text(page, '#name')).toBe('my-led');
      expect(await page.title()).toBe('my-led');

      // what the device prints, then tells, and the name it answers to
      const printed = await app.waitLine((l) => l.startsWith('Device: '), mark, 15_000);
      expect(app.lines[printed]!.text).toBe(`Device: http://my-led.local${port}/ (${address})`);
      expect(await getJson(app, '/api/info')).toMatchObject({ status: 200, body: { name: 'my-led', url: `http://my-led.local${port}/`, mode: 'online' } });
      expect(await statusWithHost(app.port, newHost, '/api/info')).toBe(200);
      expect(await statusWithHost(app.port, newHost, '/')).toBe(200);
      expect(await statusWithHost(app.port, 'evil.example', '/api/info')).toBe(421);
      expect(await statusWithHost(app.port, 'evil.example', '/')).toBe(421);

      if (onModdable) console.log(`[moddable] not checked: ${RECORDS_SKIP}`);
      else expect(wifiRecord(records)).toMatchObject({ ssid: 'home', password: 'correct-horse', name: 'my-led' });
      quiet(app);
    } finally {
      await app.stop();
      rmSync(records, { recursive: true, force: true });
    }
  }, 90_000);
});

describe("the device's 400s on the set-up page", () => {
  it('an SSID over 32 bytes the page lets through, a 5-character password and a name past the browser\'s checks: the device\'s error shows under the form; nothing is stored', async () => {
    const records = stateDir();
    const app = await LedAppProcess.start({ records });
    try {
      await app.waitLine((l) => l === 'wifi: no network known', 0, 15_000);
      // the device's 400 itself, over fetch
      const direct = await postJson(app, '/api/setup', { ssid: 'home', password: '12345' });
      expect(direct).toMatchObject({ status: 400, body: { error: PASSWORD_ERROR } });
      expect(direct.type).toMatch(/^application\/json/);

      const page = await openSetup(`${app.origin}/setup.html`);
      await modeIs(page, 'setup');
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/setup') posts.push(r.postData() ?? '');
      });
      const formErrorIs = (message: string): Promise<unknown> =>
        page.waitForFunction((m) => document.getElementById('form-error')!.textContent === m, message, { timeout: 10_000 });

      // 17 x "é": 17 characters (the page allows 32) but 34 bytes (an SSID has at most 32)
      const ssid = 'é'.repeat(17);
      await page.getByLabel('Network name (SSID)').fill(ssid);
      await page.getByLabel('Password', { exact: true }).fill('correct-horse');
      await page.getByRole('button', { name: 'Save & join' }).click();
      await formErrorIs('ssid must be 1 to 32 bytes long');
      expect(posts.map((p) => JSON.parse(p) as unknown)).toEqual([{ ssid, password: 'correct-horse', name: NAME, token: '' }]);
      expect(await page.locator('#form').isVisible()).toBe(true);
      expect(await page.getAttribute('#mode', 'data-mode')).toBe('setup');

      // a 5-character password: the browser's own check stops it (nothing sent)...
      await page.getByLabel('Network name (SSID)').fill('home');
      await page.getByLabel('Password', { exact: true }).fill('12345');
      expect(
        await page.evaluate(() => [(document.getElementById('password') as HTMLInputElement).validity.tooShort, (document.getElementById('form') as HTMLFormElement).checkValidity()]),
      ).toEqual([true, false]);
      await page.getByRole('button', { name: 'Save & join' }).click();
      // ...past it (as a browser without form validation would send it), the device refuses it
      await page.evaluate(() => ((document.getElementById('form') as HTMLFormElement).noValidate = true));
      await page.getByRole('button', { name: 'Save & join' }).click();
      await formErrorIs(PASSWORD_ERROR);
      expect(posts.map((p) => JSON.parse(p) as unknown).slice(1)).toEqual([{ ssid: 'home', password: '12345', name: NAME, token: '' }]);

      // a name the device refuses (the page's pattern would have stopped it)
      await page.getByLabel('Password', { exact: true }).fill('correct-horse');
      await page.getByLabel('Device name').fill('-my-led-');
      await page.getByRole('button', { name: 'Save & join' }).click();
      await formErrorIs("name must be 1 to 63 characters: lowercase letters, digits and '-', not starting or ending with '-'");
      expect(posts).toHaveLength(3);
      expect(await page.locator('#form').isVisible()).toBe(true);
      expect(await text(page, '#error')).toBe('');

      // nothing accepted: still in set-up, no network known, nothing joined or stored
      expect(await getJson(app, '/api/setup')).toMatchObject({ status: 200, body: { mode: 'setup', name: NAME, ssid: '', error: '' } });
      expect(app.lines.some((l) => l.text.startsWith('wifi: set-up accepted'))).toBe(false);
      if (onModdable) console.log(`[moddable] not checked: ${RECORDS_SKIP}`);
      else expect(wifiRecord(records)).toBeUndefined();
      quiet(app);
    } finally {
      await app.stop();
      rmSync(records, { recursive: true, force: true });
    }
  }, 60_000);
});
