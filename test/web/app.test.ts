// The LED web app (web/) in headless Chromium (playwright-core, Debian's /usr/bin/chromium)
// against a stand-in for the device (stand-in.ts): node:http serving web/ and a `ws` server
// on /ws that speaks the LED protocol (3-byte binary [R, G, B] frames, applied and broadcast
// to every client, the current colour sent on connect; text -> 1003, wrong length -> 1007).
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserSuite, hex, sleep, until } from './stand-in';
import type { Device, DeviceOptions } from './stand-in';

const suite = browserSuite();
const device = (options: DeviceOptions = {}): Promise<Device> => suite.device(options);

/** The web app's acknowledgement timeout (ACK_MS in web/app.js). */
const ACK_MS = 1500;

/** One ws.send() of the page, recorded in the page (see spy). */
interface Send {
  /** The colour sent. */
  color: string;
  /** The colour the page showed (#hex) at that moment. */
  shown: string;
  /** 3-byte messages the socket had received since its previous send (or since it opened). */
  answers: number;
  /** Date.now() in the page. */
  at: number;
}

/**
 * Runs in the page before web/app.js: every WebSocket records each send() with the colour
 * shown at that moment and the 3-byte messages (acknowledgements) it received since its
 * previous send, in window.sends; window.received counts all 3-byte messages received.
 */
function spy(): void {
  const sends: Send[] = [];
  const w = window as unknown as { WebSocket: typeof WebSocket; sends: Send[]; received: number };
  w.received = 0;
  const hexOf = (c: ArrayLike<number>): string => '#' + Array.from(c, (x) => x.toString(16).padStart(2, '0')).join('');
  const Native = window.WebSocket;
  class Recording extends Native {
    declare answers: number;
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.answers = 0;
      // added before the app sets onmessage, so it counts a message before the app sees it
      this.addEventListener('message', (e) => {
        if (e.data instanceof ArrayBuffer && e.data.byteLength === 3) {
          this.answers++;
          w.received++;
        }
      });
    }
    override send(data: Parameters<WebSocket['send']>[0]): void {
      const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(0);
      sends.push({ color: hexOf(bytes), shown: document.getElementById('hex')!.textContent!, answers: this.answers, at: Date.now() });
      this.answers = 0;
      super.send(data);
    }
  }
  w.WebSocket = Recording;
  w.sends = sends;
}

const sendsOf = (page: Page): Promise<Send[]> => page.evaluate(() => (window as unknown as { sends: Send[] }).sends);

interface OpenOptions {
  /** Record the page's sends (spy). */
  spy?: boolean;
  /** Install Playwright's fake clock before the app loads (it runs until paused). */
  clock?: boolean;
}

async function open(d: Device, query = '', phone = true, options: OpenOptions = {}): Promise<Page> {
  const page = await suite.page({ phone, clock: options.clock, init: options.spy ? spy : undefined });
  await page.goto(`${d.origin}/${query}`);
  await connected(page);
  return page;
}

/**
 * Pause the page's fake clock (open(..., { clock: true })). Its time has run with the real
 * one since the install, so jump 10 s ahead (pauseAt cannot go back): call it once the app is
 * idle (connected, colour received), when no timer of its own is pending.
 */
async function pause(page: Page): Promise<void> {
  await page.clock.pauseAt(Date.now() + 10_000);
}

/** Poll the page (not with waitForFunction, which a paused clock could hold up). */
async function untilPage<T>(what: string, page: Page, read: () => T | Promise<T>, test: (value: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await page.evaluate(read);
    if (test(value)) return value;
    if (Date.now() > end) throw new Error(`timed out: ${what} (last ${JSON.stringify(value)})`);
    await sleep(10);
  }
}

/**
 * Every frame was the newest colour at the moment it was sent (coalesced, never a queue of
 * stale ones), and each followed an acknowledgement of the one before (3-byte message
 * received since the previous send) or, with none, the app's ACK_MS timeout (its resend).
 */
function expectCoalesced(sends: Send[]): void {
  sends.forEach((s, i) => {
    expect(s.color, `send ${i}: the colour shown then`).toBe(s.shown);
    if (s.answers === 0) expect(i > 0 && s.at - sends[i - 1]!.at >= ACK_MS - 1, `send ${i} without an acknowledgement before it`).toBe(true);
  });
}

const connected = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => document.getElementById('status')!.textContent!.includes('connected'), undefined, { timeout: 10_000 });

const shows = (page: Page, color: string): Promise<unknown> =>
  page.waitForFunction((c) => document.getElementById('hex')!.textContent === c, color, { timeout: 5_000 });

async function controls(page: Page): Promise<{ hex: string; input: string; brightness: string; power: boolean; swatch: string }> {
  return page.evaluate(() => ({
    hex: document.getElementById('hex')!.textContent!,
    input: (document.getElementById('hex-input') as HTMLInputElement).value,
    brightness: (document.getElementById('brightness') as HTMLInputElement).value,
    power: (document.getElementById('power') as HTMLInputElement).checked,
    swatch: getComputedStyle(document.getElementById('swatch')!).backgroundColor,
  }));
}

describe('LED web app', () => {
  it('shows the colour the device sends on connect; passes ?token= on to /ws', async () => {
    const d = await device({ color: [255, 128, 0] });
    const page = await open(d, '?token=s3cr%20t');
    await shows(page, '#ff8000');
    expect(await controls(page)).toEqual({ hex: '#ff8000', input: '#ff8000', brightness: '100', power: true, swatch: 'rgb(255, 128, 0)' });
    expect(await page.getAttribute('#status', 'data-state')).toBe('connected');
    expect(d.urls).toEqual(['/ws?token=s3cr%20t']);
    const plain = await open(d);
    await shows(plain, '#ff8000');
    expect(d.urls[1]).toBe('/ws');
    expect(d.frames).toEqual([]); // following is not sending
  });

  it('hex field (Enter) sends one 3-byte frame; a second page follows without echoing', async () => {
    const d = await device();
    const a = await open(d);
    const b = await open(d, '', false);
    await a.fill('#hex-input', '123456');
    await a.press('#hex-input', 'Enter');
    await until('frame', () => d.frames.length === 1);
    expect(d.frames[0]!.color).toEqual([0x12, 0x34, 0x56]);
    await shows(b, '#123456');
    expect(await controls(b)).toMatchObject({ input: '#123456', brightness: String(Math.round((0x56 / 255) * 100)), power: true });
    expect(await controls(a)).toMatchObject({ hex: '#123456', input: '#123456' });
    // short form, via change (blur)
    await b.fill('#hex-input', '#0f0');
    await b.locator('#hex-input').blur();
    await shows(a, '#00ff00');
    // invalid text: flagged, nothing sent, restored on blur
    await a.fill('#hex-input', 'zzz');
    await a.press('#hex-input', 'Enter');
    expect(await a.getAttribute('#hex-input', 'aria-invalid')).toBe('true');
    await a.locator('#hex-input').blur();
    expect(await a.inputValue('#hex-input')).toBe('#00ff00');
    await sleep(200);
    expect(d.frames.map((f) => hex(f.color))).toEqual(['#123456', '#00ff00']);
    expect(d.refused).toEqual([]);
  });

  it('a mouse drag on the picker is coalesced: one frame in flight, the last one is the final colour', async () => {
    // The device holds every acknowledgement until the test releases it, and the page's clock
    // is paused (moved on by hand, well past GAP_MS and never near ACK_MS): what the app sends
    // depends only on the acknowledgements, not on how fast this machine runs the drag.
    const d = await device({ hold: true });
    const page = await open(d, '', false, { spy: true, clock: true });
    const other = await open(d);
    await shows(page, '#ff0000');
    await pause(page);
    const box = (await page.locator('#picker').boundingBox())!;
    const STEPS = 8;
    const MOVES = 10; // per acknowledgement
    const at = (i: number): [number, number] => [box.x + 20 + (i / (STEPS * MOVES)) * (box.width - 60), box.y + 20 + (i / (STEPS * MOVES)) * (box.height / 2)];
    await page.mouse.move(...at(0)); // clear of the rounded corner
    await page.mouse.down(); // the first colour goes out at once
    await untilPage('the first frame', page, () => (window as unknown as { sends: Send[] }).sends.length, (n) => n === 1);
    for (let step = 1; step <= STEPS; step++) {
      // frame `step` is in flight, its acknowledgement held
      await page.clock.runFor(100);
      for (let i = 1; i <= MOVES; i++) await page.mouse.move(...at((step - 1) * MOVES + i));
      expect(await sendsOf(page), `step ${step}: nothing new sent before the acknowledgement`).toHaveLength(step);
      await until(`step ${step}: the frames at the device`, () => d.frames.length === step && d.holding === 1);
      d.release();
      // the acknowledgement lets exactly the newest colour go
      const sends = await untilPage(`step ${step}: the frame after the acknowledgement`, page, () => (window as unknown as { sends: Send[] }).sends, (x) => x.length > step);
      expect(sends).toHaveLength(step + 1);
      expect(sends[step]!.shown).toBe((await controls(page)).hex);
    }
    await page.mouse.up();
    const final = (await controls(page)).hex;
    expect(final).not.toBe('#ff0000');
    await until('the last frame', () => d.frames.length === STEPS + 1 && d.holding === 1);
    d.release();
    await shows(other, final);
    const sends = await sendsOf(page);
    expect(sends.map((x) => x.color)).toEqual(d.frames.map((f) => hex(f.color)));
    expect(sends.at(-1)!.color).toBe(final); // the last frame sent is the final colour
    expectCoalesced(sends);
    expect(sends.every((x) => x.answers === 1)).toBe(true); // one frame per acknowledgement, never two in flight (page side)
    expect(d.maxInFlight).toBe(1); // ... and at the device
    // the echoes of the older colours, each arriving while a newer one waited, did not pull it back
    expect((await untilPage('the last acknowledgement', page, () => document.getElementById('hex')!.textContent, (x) => x === final))).toBe(final);
    expect(d.frames).toHaveLength(STEPS + 1);
  });

  it('on a fast link too, a drag sends at most one frame per 40 ms, each the newest colour after an acknowledgement', async () => {
    const d = await device();
    const page = await open(d, '', false, { spy: true });
    const box = (await page.locator('#picker').boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    for (let i = 0; i < 2; i++) {
      await page.mouse.move(box.x + box.width - 20, box.y + 20 + i * 30, { steps: 50 });
      await page.mouse.move(box.x + 20, box.y + 35 + i * 30, { steps: 50 });
    }
    await page.mouse.up();
    const final = (await controls(page)).hex;
    await until('the last frame', () => d.frames.length > 0 && hex(d.frames.at(-1)!.color) === final);
    const sends = await sendsOf(page);
    expect(sends.map((x) => x.color)).toEqual(d.frames.map((f) => hex(f.color)));
    expect(sends.at(-1)!.color).toBe(final);
    expectCoalesced(sends);
    expect(d.maxInFlight).toBe(1);
    for (let i = 1; i < sends.length; i++) expect(sends[i]!.at - sends[i - 1]!.at).toBeGreaterThanOrEqual(39); // Date.now() truncates to whole ms
    await sleep(200);
    expect(d.frames).toHaveLength(sends.length); // nothing after the final colour
  });

  it('a touch drag (pointer events from touch) sets hue and saturation', async () => {
    const d = await device({ color: [0, 0, 255] });
    const page = await open(d);
    const box = (await page.locator('#picker').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const at = (fx: number, fy: number): { x: number; y: number }[] => [{ x: box.x + fx * box.width, y: box.y + fy * box.height }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0.5, 0.5) });
    for (let i = 1; i <= 20; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(0.5 - i * 0.0125, 0.5 - i * 0.025) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    // ends at x = 25 % (hue 90), y = 0 (saturation 100 %), brightness unchanged: #80ff00
    await until('the touch colour', () => d.frames.length > 0 && hex(d.frames.at(-1)!.color) === '#80ff00');
    await shows(page, '#80ff00');
    expect(await page.evaluate(() => window.scrollY)).toBe(0); // the drag did not scroll the page
  });

  it('keyboard: arrows on the picker and on the brightness slider send colours', async () => {
    const d = await device({ color: [255, 0, 0] });
    const page = await open(d, '', false);
    await page.focus('#picker');
    await page.keyboard.press('ArrowRight'); // hue 0 -> 5
    await until('hue step', () => d.frames.length === 1);
    expect(d.frames[0]!.color).toEqual([255, 21, 0]);
    await page.keyboard.press('Shift+ArrowDown'); // saturation 100 -> 80 %
    await until('saturation step', () => d.frames.length === 2);
    expect(d.frames[1]!.color).toEqual([255, 68, 51]);
    await page.focus('#brightness');
    await page.keyboard.press('ArrowLeft');
    await until('brightness step', () => d.frames.length === 3);
    expect(d.frames[2]!.color).toEqual([252, 67, 50]);
    expect(await page.inputValue('#brightness')).toBe('99');
  });

  it('power: off sends [0,0,0], on restores the last colour; the device button is followed, not echoed', async () => {
    const d = await device({ color: [10, 200, 30] });
    const page = await open(d);
    await page.click('#power');
    await until('off', () => d.frames.length === 1);
    expect(d.frames[0]!.color).toEqual([0, 0, 0]);
    await shows(page, '#000000');
    expect(await controls(page)).toMatchObject({ power: false, brightness: '0' });
    await page.click('#power');
    await until('on', () => d.frames.length === 2);
    expect(d.frames[1]!.color).toEqual([10, 200, 30]);
    await shows(page, '#0ac81e');
    expect(await controls(page)).toMatchObject({ power: true, brightness: '78' });
    // the device's button
    d.broadcast([0, 0, 0]);
    await shows(page, '#000000');
    expect((await controls(page)).power).toBe(false);
    d.broadcast([10, 200, 30]);
    await shows(page, '#0ac81e');
    expect(await page.isChecked('#power')).toBe(true);
    // keyboard: Space on the focused switch
    await page.focus('#power');
    await page.keyboard.press('Space');
    await shows(page, '#000000');
    await until('off by keyboard', () => d.frames.length === 3); // (off and on within 40 ms would coalesce to nothing)
    await page.keyboard.press('Space');
    await shows(page, '#0ac81e');
    await until('on by keyboard', () => d.frames.length === 4);
    expect(d.frames.slice(2).map((f) => hex(f.color))).toEqual(['#000000', '#0ac81e']);
    // a preset
    await page.click('#presets [aria-label=Blue]');
    await until('preset', () => d.frames.length === 5);
    expect(d.frames[4]!.color).toEqual([0, 0, 255]);
    await sleep(200);
    expect(d.frames).toHaveLength(5);
  });

  it('no acknowledgement within the timeout: the newest colour is sent again', async () => {
    // The page's clock is paused and moved on by hand: the resend must come exactly at
    // ACK_MS, whatever the machine's speed.
    const d = await device({ swallow: 1 });
    const page = await open(d, '', true, { spy: true, clock: true });
    await shows(page, '#ff0000');
    await pause(page);
    await page.fill('#hex-input', '#abcdef');
    await page.press('#hex-input', 'Enter');
    await until('first try', () => d.frames.length === 1);
    await page.fill('#hex-input', '#fedcba'); // coalesced behind the unacknowledged one
    await page.press('#hex-input', 'Enter');
    await page.clock.runFor(ACK_MS - 1);
    expect(await sendsOf(page)).toHaveLength(1); // still waiting for the acknowledgement
    await page.clock.runFor(1);
    await until('resend', () => d.frames.length === 2);
    const sends = await sendsOf(page);
    expect(sends.map((x) => x.color)).toEqual(['#abcdef', '#fedcba']);
    expect(sends[1]!.answers).toBe(0); // the timeout's resend, not an acknowledgement's
    expect(sends[1]!.at - sends[0]!.at).toBe(ACK_MS);
    expect(d.frames[1]!.color).toEqual([0xfe, 0xdc, 0xba]);
    // the colour on connect, then the acknowledgement of the resend
    await untilPage('the acknowledgement', page, () => (window as unknown as { received: number }).received, (n) => n === 2);
    await page.clock.runFor(ACK_MS * 2); // acknowledged: nothing more is sent
    await sleep(300);
    expect(d.frames).toHaveLength(2);
    expect(await page.textContent('#status')).toBe('connected');
  });

  it('a socket that stops answering is dropped after the resend also times out; the colour goes on the new one', async () => {
    const d = await device({ swallow: 2 });
    const page = await open(d);
    await page.fill('#hex-input', '#102030');
    await page.press('#hex-input', 'Enter');
    await until('a new connection', () => d.urls.length === 2, 20_000); // after 2 x ACK_MS and a back-off of at most 500 ms
    await until('sent again on it', () => d.frames.length === 3, 10_000);
    expect(d.frames.map((f) => hex(f.color))).toEqual(['#102030', '#102030', '#102030']);
    await connected(page);
    expect(d.color).toEqual([0x10, 0x20, 0x30]);
    await until('the old socket is gone', () => d.clients === 1);
  }, 45_000);

  it('reconnects with back-off when the device goes away, then sends the change made meanwhile', async () => {
    const d = await device({ color: [1, 2, 3] });
    const page = await open(d, '', false);
    const port = d.port;
    await d.close();
    await page.waitForFunction(() => /^reconnecting in \d+s$/.test(document.getElementById('status')!.textContent!));
    expect(await page.getAttribute('#status', 'data-state')).toBe('reconnecting');
    await page.fill('#hex-input', '#445566');
    await page.press('#hex-input', 'Enter');
    await shows(page, '#445566');
    await sleep(2_000); // a few failed attempts
    const back = await device({ port, color: [9, 9, 9] });
    await connected(page);
    await until('the change made while away', () => back.frames.length === 1, 10_000);
    expect(back.frames[0]!.color).toEqual([0x44, 0x55, 0x66]);
    await shows(page, '#445566');
    // and a page that had nothing to send just follows the device after a restart
    const watcher = await open(back, '', true);
    await shows(watcher, '#445566');
    expect(back.refused).toEqual([]);
  }, 30_000);
});
