// The device name on the LED page (GET /api/info) and the set-up page (web/setup.html,
// /api/setup) in headless Chromium against the stand-in device (stand-in.ts), whose fake
// Wi-Fi set-up the tests step through (a scan or a join stays under way until the test
// finishes it). Also the pages as built for the device (scripts/build-web.mjs, minified).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserSuite, sleep, until } from './stand-in';
import type { ApiRequest, Device, DeviceOptions, Network } from './stand-in';

const suite = browserSuite();
const device = (options: DeviceOptions = {}): Promise<Device> => suite.device(options);

// printable ASCII without spaces (the contract's tokens), with characters a URL must escape
const TOKEN = 'a&b+c%d';
const TOKEN_QUERY = '?token=a%26b%2Bc%25d';
const NETWORKS: Network[] = [
  { ssid: 'cafe', rssi: -81, secure: false },
  { ssid: 'home', rssi: -52, secure: true },
  { ssid: 'neighbour', rssi: -70, secure: true },
];

/** The LED page, once its WebSocket is connected. */
async function openLed(d: Device, query = '', phone = true): Promise<Page> {
  const page = await suite.page({ phone });
  await page.goto(`${d.origin}/${query}`);
  await page.waitForFunction(() => document.getElementById('status')!.dataset.state === 'connected', undefined, { timeout: 10_000 });
  return page;
}

/** The set-up page, once it shows the device's state. */
async function openSetup(d: Device, query = ''): Promise<Page> {
  const page = await suite.page();
  await page.goto(`${d.origin}/setup.html${query}`);
  await modeIs(page, 'setup');
  return page;
}

const modeIs = (page: Page, mode: string): Promise<unknown> =>
  page.waitForFunction((m) => document.getElementById('mode')!.dataset.mode === m, mode, { timeout: 10_000 });

const text = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();

/** The set-up form, filled as a user would (by the fields' labels). */
async function fill(page: Page, fields: { ssid: string; password: string; name?: string; token?: string }): Promise<void> {
  await page.getByLabel('Network name (SSID)').fill(fields.ssid);
  await page.getByLabel('Password', { exact: true }).fill(fields.password);
  if (fields.name !== undefined) await page.getByLabel('Device name').fill(fields.name);
  if (fields.token !== undefined) await page.getByLabel('Token (optional)').fill(fields.token);
}

const posts = (d: Device): ApiRequest[] => d.requests('POST', '/api/setup');

describe('device name on the LED page', () => {
  it('shows the name from /api/info in the header and the title; the Set-up link keeps ?token=', async () => {
    const d = await device({ token: TOKEN, info: { name: 'kitchen-led', url: 'http://kitchen-led.local/', mode: 'online' } });
    const page = await openLed(d, TOKEN_QUERY);
    await page.waitForFunction(() => document.getElementById('name')!.textContent === 'kitchen-led');
    expect(await page.title()).toBe('kitchen-led');
    const link = page.getByRole('link', { name: 'Set-up' });
    const href = new URL((await link.getAttribute('href'))!, d.origin);
    expect(href.pathname + href.search).toBe('/setup.html' + TOKEN_QUERY);
    expect(d.urls).toEqual(['/ws' + TOKEN_QUERY]);
    // the link opens the set-up page, which passes the token on too
    await link.click();
    await modeIs(page, 'setup');
    expect(page.url()).toBe(`${d.origin}/setup.html${TOKEN_QUERY}`);
    expect(d.api.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/info', 'GET /api/setup']);
    expect(d.api.every((r) => r.token === TOKEN)).toBe(true);
  });

  it('/api/info answered 404 (a device from before it): the page keeps "LED" and works', async () => {
    const d = await device({ info: null });
    const page = await openLed(d);
    await until('the /api/info request', () => d.requests('GET', '/api/info').length === 1);
    // a colour change and its round trip through the device: the 404 is long handled by then
    await page.fill('#hex-input', '#123456');
    await page.press('#hex-input', 'Enter');
    await until('the frame', () => d.frames.length === 1);
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/info')));
    expect(await text(page, '#name')).toBe('LED');
    expect(await page.title()).toBe('LED');
    expect(await page.getAttribute('#status', 'data-state')).toBe('connected');
    expect(new URL((await page.getAttribute('#setup', 'href'))!, d.origin).pathname).toBe('/setup.html');
  });

  it('a long name stays on one line: same header height as "LED", nothing wider than a phone', async () => {
    const long = 'a-very-long-device-name-that-uses-all-sixty-three-characters-ok';
    expect(long).toHaveLength(63);
    const plain = await openLed(await device({ info: null }));
    const named = await openLed(await device({ info: { name: long, url: `http://${long}.local/`, mode: 'online' } }));
    await named.waitForFunction((n) => document.getElementById('name')!.textContent === n, long);
    const layout = (page: Page): Promise<{ header: number; swatch: number; wide: boolean }> =>
      page.evaluate(() => ({
        header: document.querySelector('header')!.getBoundingClientRect().height,
        swatch: document.getElementById('swatch')!.getBoundingClientRect().top,
        wide: document.documentElement.scrollWidth > window.innerWidth,
      }));
    const a = await layout(plain);
    expect(await layout(named)).toEqual(a);
    expect(a.wide).toBe(false);
  });
});

describe('set-up page', () => {
  it('lists the networks of a scan, strongest first; clicking one (or Enter on it) fills the SSID', async () => {
    const d = await device({ token: TOKEN });
    const page = await openSetup(d, TOKEN_QUERY);
    expect(await text(page, '#name')).toBe('atom-led-2b3c');
    expect(await text(page, '#mode')).toBe('Set-up');
    expect(await page.inputValue('#device-name')).toBe('atom-led-2b3c');
    expect(await page.inputValue('#token')).toBe(TOKEN); // the device's token stays unless changed
    const scan = page.getByRole('button', { name: 'Scan' });
    await scan.click();
    await until('the scan request', () => d.setup.state.scanning);
    expect(d.requests('POST', '/api/setup/scan').map((r) => [r.contentType, r.body])).toEqual([['application/json', '{}']]);
    expect(await scan.isDisabled()).toBe(true);
    // the page polls while the device scans
    const before = d.requests('GET', '/api/setup').length;
    await until('a poll during the scan', () => d.requests('GET', '/api/setup').length > before + 1, 10_000);
    d.setup.finishScan(NETWORKS);
    await page.waitForFunction(() => document.querySelectorAll('#networks button').length === 3, undefined, { timeout: 10_000 });
    expect(await page.locator('#networks button').allInnerTexts()).toEqual(['home · -52 dBm 🔒', 'neighbour · -70 dBm 🔒', 'cafe · -81 dBm']);
    expect(await scan.isEnabled()).toBe(true);
    await page.getByRole('button', { name: /^home/ }).click();
    expect(await page.inputValue('#ssid')).toBe('home');
    expect(await page.evaluate(() => document.activeElement!.id)).toBe('password'); // next: its password
    // keyboard
    await page.getByRole('button', { name: /^cafe/ }).focus();
    await page.keyboard.press('Enter');
    expect(await page.inputValue('#ssid')).toBe('cafe');
    expect(d.api.length).toBeGreaterThan(3);
    expect(d.api.filter((r) => r.token !== TOKEN)).toEqual([]);
  });

  it('Save & join posts the JSON, shows "Joining…", polls once a second, then the .local and IP links', async () => {
    const d = await device({ token: TOKEN });
    const page = await openSetup(d, TOKEN_QUERY);
    await fill(page, { ssid: 'home', password: 'correct horse', name: 'my-led', token: 'n3w' });
    await page.getByRole('button', { name: 'Save & join' }).click();
    await until('the join request', () => d.setup.joins.length === 1);
    expect(posts(d).map((r) => [r.contentType, r.body])).toEqual([
      ['application/json', '{"ssid":"home","password":"correct horse","name":"my-led","token":"n3w"}'],
    ]);
    await page.waitForFunction(() => document.getElementById('mode')!.textContent === 'Joining home…');
    expect(await page.isHidden('#form')).toBe(true);
    expect(await text(page, '#name')).toBe('my-led');
    const polled = d.api.length;
    await until('two polls while joining', () => d.api.length >= polled + 2, 10_000);
    d.setup.finishJoin({ address: '192.168.1.23' });
    await modeIs(page, 'online');
    const port = `:${d.port}`;
    expect(await text(page, '#mode')).toBe(`Connected: open http://my-led.local${port}/ or http://192.168.1.23${port}/`);
    // the links carry the token just saved
    expect(await page.locator('#mode a').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href))).toEqual([
      `http://my-led.local${port}/?token=n3w`,
      `http://192.168.1.23${port}/?token=n3w`,
    ]);
    expect(await page.isVisible('#form')).toBe(true);
    expect(await page.isVisible('#error')).toBe(false);
    // every /api request carried the token: the page's until the device took the new one
    const at = d.api.indexOf(posts(d)[0]!);
    expect(d.api.slice(0, at + 1).map((r) => r.token)).toEqual(Array(at + 1).fill(TOKEN));
    expect(d.api.slice(at + 1).map((r) => r.token)).toEqual(Array(d.api.length - at - 1).fill('n3w'));
    // at most one poll a second (no upper bound: that would depend on this machine's speed)
    const polls = d.api.slice(at + 1).map((r) => r.at);
    for (let i = 1; i < polls.length; i++) expect(polls[i]! - polls[i - 1]!).toBeGreaterThanOrEqual(999);
    // online: no more polling
    const done = d.api.length;
    await sleep(1_500);
    expect(d.api).toHaveLength(done);
  });

  it('a failed join shows the error and the form again; trying again works', async () => {
    const d = await device();
    const page = await openSetup(d);
    expect(await page.inputValue('#token')).toBe('');
    await fill(page, { ssid: 'home', password: 'not the password' });
    await page.getByRole('button', { name: 'Save & join' }).click();
    await modeIs(page, 'joining');
    d.setup.finishJoin({ error: 'wrong password' });
    await modeIs(page, 'setup');
    expect(await text(page, '#mode')).toBe('Set-up');
    expect(await text(page, '#error')).toBe('Could not join: wrong password');
    expect(await page.getAttribute('#error', 'role')).toBe('alert');
    expect(await page.isVisible('#form')).toBe(true);
    expect(await page.inputValue('#ssid')).toBe('home'); // kept for a second try
    expect(posts(d)[0]!.body).toBe('{"ssid":"home","password":"not the password","name":"atom-led-2b3c","token":""}');
    await page.getByLabel('Password', { exact: true }).fill('the password');
    await page.getByLabel('Show').check();
    expect(await page.getAttribute('#password', 'type')).toBe('text');
    await page.getByLabel('Password', { exact: true }).press('Enter'); // submits
    await modeIs(page, 'joining');
    expect(await text(page, '#error')).toBe('');
    d.setup.finishJoin({ address: '10.0.0.7' });
    await modeIs(page, 'online');
    expect(posts(d).map((r) => JSON.parse(r.body).password)).toEqual(['not the password', 'the password']);
  });

  it("shows the device's 400 error text next to the form; fields the page can check are not sent", async () => {
    const d = await device();
    const page = await openSetup(d);
    // a name the device would refuse: the browser stops it (pattern)
    await fill(page, { ssid: 'home', password: '', name: 'My LED' });
    await page.getByRole('button', { name: 'Save & join' }).click();
    expect(await page.$eval('#device-name', (e) => (e as HTMLInputElement).validity.patternMismatch)).toBe(true);
    // 17 characters but 34 bytes: only the device can tell
    await fill(page, { ssid: 'é'.repeat(17), password: '', name: 'my-led' });
    await page.getByRole('button', { name: 'Save & join' }).click();
    await page.waitForFunction(() => document.getElementById('form-error')!.textContent !== '');
    expect(await text(page, '#form-error')).toBe('The network name (ssid) must be 1 to 32 bytes.');
    expect(await page.isVisible('#form-error')).toBe(true);
    expect(await page.evaluate(() => document.getElementById('form-error')!.closest('form') !== null)).toBe(true);
    expect(await page.getAttribute('#mode', 'data-mode')).toBe('setup');
    await page.getByLabel('Network name (SSID)').fill('home');
    await page.getByRole('button', { name: 'Save & join' }).click();
    await modeIs(page, 'joining');
    expect(await text(page, '#form-error')).toBe('');
    expect(posts(d).map((r) => JSON.parse(r.body).ssid)).toEqual(['é'.repeat(17), 'home']); // never the invalid name
  });
});

describe('the pages as built for the device', () => {
  it('the minified copies (scripts/build-web.mjs) work: name, set-up scan and join', async () => {
    const out = mkdtempSync(join(tmpdir(), 'led-web-'));
    try {
      execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-web.mjs', import.meta.url)), `--out=${out}`], { stdio: 'pipe' });
      const d = await device({ root: out, token: TOKEN, info: { name: 'built-led', url: 'http://built-led.local/', mode: 'online' } });
      const led = await openLed(d, TOKEN_QUERY);
      await led.waitForFunction(() => document.getElementById('name')!.textContent === 'built-led');
      const page = await openSetup(d, TOKEN_QUERY);
      await page.getByRole('button', { name: 'Scan' }).click();
      await until('the scan request', () => d.setup.state.scanning);
      d.setup.finishScan(NETWORKS);
      await page.getByRole('button', { name: /^home/ }).click({ timeout: 10_000 });
      await page.getByLabel('Password', { exact: true }).fill('correct horse');
      await page.getByRole('button', { name: 'Save & join' }).click();
      await modeIs(page, 'joining');
      d.setup.finishJoin({ address: '192.168.1.23' });
      await modeIs(page, 'online');
      expect(posts(d)[0]!.body).toBe(`{"ssid":"home","password":"correct horse","name":"atom-led-2b3c","token":"${TOKEN}"}`);
      expect(d.api.filter((r) => r.token !== TOKEN)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
