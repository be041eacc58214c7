// The LED web page (web/) served by the real LED app process (hosts/sim/led-main.ts, as
// `npm start` runs it), in headless Chromium (playwright-core, Debian's /usr/bin/chromium):
// the page's own controls (hex field + Enter, a pointer drag on the hue/saturation
// surface) reach the virtual LED (`LED #rrggbb` on the app's stdout) and a second page;
// the device's button (stdin "b") is followed by both pages; after the app process is
// stopped and started again on the same port the page reconnects by itself.
// Screenshots go to test-output/ (git-ignored). Only Chromium is available here (no
// Firefox binary), so this is a Chromium-only check.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LedAppProcess, ROOT, ledLine, sleep, stopApps, until } from './helpers';
import { contextOptions, launchChromium } from './browser-helpers';
import type { Kind } from './browser-helpers';
import { inProcessOnly } from '../moddable/mode';

// Under npm run test:moddable the app is the root manifest's build in the Moddable
// simulator (helpers.ts), which has no button.
const itWithButton = inProcessOnly('the simulator has no button (hosts/moddable/virtual-led.ts)');

const OUT = join(ROOT, 'test-output');

let app: LedAppProcess;
let browser: Browser | null = null;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  [app, browser] = await Promise.all([
    LedAppProcess.start(),
    launchChromium(),
  ]);
}, 30_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
  expect(app.unexpectedStderr()).toEqual([]);
});

afterAll(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
  await browser?.close();
  browser = null;
  await stopApps();
});

async function openPage(kind: Kind): Promise<Page> {
  const context = await browser!.newContext(contextOptions(kind));
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${kind}: ${e.message}`));
  // every #status state the page goes through, for the reconnect test
  await page.addInitScript(() => {
    const w = window as unknown as { states: string[] };
    w.states = [];
    document.addEventListener('DOMContentLoaded', () => {
      const status = document.getElementById('status')!;
      w.states.push(status.dataset.state ?? '');
      new MutationObserver(() => {
        const state = status.dataset.state ?? '';
        if (w.states.at(-1) !== state) w.states.push(state);
      }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
    });
  });
  const response = await page.goto(app.url);
  expect(response?.status()).toBe(200);
  await connected(page);
  return page;
}

const connected = (page: Page, timeout = 10_000): Promise<unknown> =>
  page.waitForFunction(
    () => {
      const s = document.getElementById('status')!;
      return s.dataset.state === 'connected' && s.textContent === 'connected';
    },
    undefined,
    { timeout },
  );

const shows = (page: Page, color: string): Promise<unknown> =>
  page.waitForFunction((c) => document.getElementById('hex')!.textContent === c, color, { timeout: 5_000 });

/** The page's state as its hooks show it (web/README.md); `on` is the #power switch. */
async function controls(page: Page): Promise<{ hex: string; on: boolean; swatch: string; status: string }> {
  return page.evaluate(() => ({
    hex: document.getElementById('hex')!.textContent!,
    on: ((power) => (power instanceof HTMLInputElement ? power.checked : power.getAttribute('aria-pressed') === 'true'))(
      document.getElementById('power')!,
    ),
    swatch: getComputedStyle(document.getElementById('swatch')!).backgroundColor,
    status: document.getElementById('status')!.textContent!,
  }));
}

const rgbText = (hex: string): string =>
  `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

/** Type a colour into the page's hex field and press Enter, as a user does. */
async function typeHex(page: Page, text: string): Promise<void> {
  await page.click('#hex-input');
  await page.fill('#hex-input', '');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

describe('LED page against the real app process', () => {
  let phone: Page;
  let desktop: Page;

  it('connects and shows the LED; its own controls drive the LED and the other page follows', async () => {
    phone = await openPage('phone');
    desktop = await openPage('desktop');
    for (const page of [phone, desktop]) expect(await controls(page)).toMatchObject({ hex: '#000000', on: false, status: 'connected' });

    // hex field + Enter on the phone
    let mark = app.lines.length;
    await typeHex(phone, '3366cc');
    await app.waitLed('#3366cc', mark);
    await shows(desktop, '#3366cc');
    await shows(phone, '#3366cc');
    expect(await controls(desktop)).toMatchObject({ on: true, swatch: 'rgb(51, 102, 204)' });
    await sleep(150);
    expect(app.ledLines(mark)).toEqual(['LED #3366cc']); // one change, one frame

    // a mouse drag on the desktop page's picker: from the middle, through the surface,
    // ending beyond its top-right corner (pointer capture keeps the drag: hue 360,
    // saturation 100 %, brightness kept at 80 % from #3366cc -> #cc0000)
    mark = app.lines.length;
    const box = (await desktop.locator('#picker').boundingBox())!;
    await desktop.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await desktop.mouse.down();
    await desktop.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.3, { steps: 10 });
    await sleep(80);
    await desktop.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.2, { steps: 10 });
    await sleep(80);
    await desktop.mouse.move(box.x + box.width + 30, box.y - 30, { steps: 10 });
    await desktop.mouse.up();
    expect((await controls(desktop)).hex).toBe('#cc0000');
    await app.waitLed('#cc0000', mark);
    await shows(phone, '#cc0000');
    await sleep(200);
    const during = app.ledLines(mark);
    expect(during.at(-1)).toBe('LED #cc0000');
    expect(new Set(during).size).toBeGreaterThanOrEqual(2); // the drag's intermediate colours reached the LED too
    for (const line of during) {
      const c = [5, 7, 9].map((i) => parseInt(line.slice(i, i + 2), 16));
      expect(Math.max(...c), line).toBe(0xcc); // brightness kept while dragging hue/saturation
    }
    expect(await controls(phone)).toMatchObject({ hex: '#cc0000', on: true, swatch: rgbText('#cc0000') });
    // the phone's hex field still has the focus (typed in above), so it is left alone
    // until it loses it (web/app.js: render() skips a focused field)
    expect(await phone.inputValue('#hex-input')).toBe('#3366cc');
    await phone.locator('#hex-input').blur();
    expect(await phone.inputValue('#hex-input')).toBe('#cc0000');
  });

  itWithButton('the device button (stdin) turns both pages off, and on again with the colour back', async () => {
    let mark = app.lines.length;
    app.press();
    await app.waitLed('#000000', mark);
    for (const page of [phone, desktop]) {
      await shows(page, '#000000');
      expect(await controls(page)).toMatchObject({ on: false, swatch: 'rgb(0, 0, 0)' });
      expect(await page.inputValue('#brightness')).toBe('0');
    }
    await sleep(300); // let the switch's 0.15 s transition finish before the picture
    await phone.screenshot({ path: join(OUT, 'led-app-phone-off.png') });
    mark = app.lines.length;
    app.press();
    await app.waitLed('#cc0000', mark);
    for (const page of [phone, desktop]) {
      await shows(page, '#cc0000');
      expect((await controls(page)).on).toBe(true);
    }
    await sleep(150);
    expect(app.ledLines(mark)).toEqual(['LED #cc0000']); // following the button echoes nothing back

    // a warmer colour for the screenshots, picked on the desktop page
    mark = app.lines.length;
    await typeHex(desktop, '#ff8c1a');
    await app.waitLed('#ff8c1a', mark);
    await shows(phone, '#ff8c1a');
    await desktop.locator('#hex-input').blur();
    await sleep(300);
    await phone.screenshot({ path: join(OUT, 'led-app-phone.png') });
    await desktop.screenshot({ path: join(OUT, 'led-app-desktop.png') });
  });

  it('shows the app going away, reconnects when it is back on the same port, and changes still reach the LED', async () => {
    const port = app.port;
    for (const page of [phone, desktop]) await page.evaluate(() => ((window as unknown as { states: string[] }).states = ['connected']));
    await app.stop();
    for (const page of [phone, desktop]) {
      await page.waitForFunction(() => /^reconnecting in \d+s$/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 5_000 });
      expect(await page.getAttribute('#status', 'data-state')).toBe('reconnecting');
    }
    await phone.screenshot({ path: join(OUT, 'led-app-phone-reconnecting.png') });
    await sleep(500); // at least one attempt against the closed port

    app = await LedAppProcess.start({ port });
    expect(app.port).toBe(port);
    for (const page of [phone, desktop]) {
      await connected(page, 20_000);
      await shows(page, '#000000'); // the restarted device's LED is off; a page with nothing to send follows it
      const states = await page.evaluate(() => (window as unknown as { states: string[] }).states);
      expect(states[0]).toBe('connected');
      expect(states).toContain('reconnecting');
      expect(states.at(-1)).toBe('connected');
      expect(states.indexOf('reconnecting')).toBeLessThan(states.lastIndexOf('connected'));
    }
    const mark = app.lines.length;
    await typeHex(phone, '#20b060');
    await app.waitLed('#20b060', mark);
    await shows(desktop, '#20b060');
    await sleep(150);
    expect(app.ledLines(mark)).toEqual([ledLine('#20b060')]);
    // and the drag surface works on the new connection too (keyboard on the picker)
    await desktop.focus('#picker');
    await desktop.keyboard.press('ArrowRight');
    await until('a hue step on the LED', () => app.ledLines(mark).length === 2);
    const stepped = (await controls(desktop)).hex;
    expect(app.ledLines(mark)[1]).toBe(ledLine(stepped));
    await shows(phone, stepped);
  }, 40_000);

  it('with --token, the page opened from the printed URL connects; without the token it is refused', async () => {
    const secured = await LedAppProcess.start({ token: 'abc' });
    try {
      expect(secured.lines.map((l) => l.text)).toContain(secured.banner('?token=abc'));
      const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`token page: ${e.message}`));
      await page.goto(`${secured.url}?token=abc`);
      await connected(page);
      const mark = secured.lines.length;
      await typeHex(page, '#abcdef');
      await secured.waitLed('#abcdef', mark);
      // the same page without the token: its WebSocket is refused (403) and it keeps retrying
      const bare = await context.newPage();
      bare.on('pageerror', (e) => pageErrors.push(`bare page: ${e.message}`));
      await bare.goto(secured.url);
      await bare.waitForFunction(() => document.getElementById('status')!.dataset.state === 'reconnecting', undefined, { timeout: 5_000 });
      expect((await controls(bare)).hex).toBe('#000000'); // never got the device's colour
      expect(secured.stderr).toMatch(/handshake rejected: 403/);
      expect(secured.unexpectedStderr()).toEqual([]);
      await bare.close();
    } finally {
      await secured.stop();
    }
  });
});
