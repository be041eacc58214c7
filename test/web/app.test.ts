// The LED web app (web/) in headless Chromium (playwright-core, Debian's /usr/bin/chromium)
// against a stand-in for the device: node:http serving web/ and a `ws` server on /ws that
// speaks the LED protocol (3-byte binary [R, G, B] frames, applied and broadcast to every
// client, the current colour sent on connect; text -> 1003, wrong length -> 1007).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';

type Rgb = [number, number, number];
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (c: number[]): string => '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('');

interface DeviceOptions {
  color?: Rgb;
  /** Delay before the broadcast of each applied colour, ms. */
  delay?: number;
  /** Swallow this many frames without applying or answering them (a lost acknowledgement). */
  swallow?: number;
  port?: number;
}

/** The device stand-in. `frames` holds every colour frame received, `refused` any protocol violation. */
class Device {
  color: Rgb;
  readonly frames: { color: Rgb; at: number }[] = [];
  readonly refused: string[] = [];
  readonly urls: string[] = [];
  private swallow: number;
  private readonly http: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  port = 0;

  constructor(private readonly options: DeviceOptions = {}) {
    this.color = options.color ?? [255, 0, 0];
    this.swallow = options.swallow ?? 0;
    this.http = http.createServer((req, res) => {
      let path = new URL(req.url ?? '/', 'http://device').pathname;
      if (path === '/') path = '/index.html';
      if (!/^\/[\w-]+\.(html|js|css)$/.test(path)) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = readFileSync(WEB + path.slice(1));
        res.writeHead(200, { 'content-type': TYPES[path.split('.').pop()!]! }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    this.http.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://device').pathname !== '/ws') {
        socket.destroy();
        return;
      }
      this.urls.push(req.url ?? '');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(Buffer.from(this.color));
        ws.on('message', (data, isBinary) => {
          const bytes = data as Buffer;
          if (!isBinary) {
            this.refused.push('text');
            ws.close(1003);
          } else if (bytes.length !== 3) {
            this.refused.push(`length ${bytes.length}`);
            ws.close(1007);
          } else {
            const color: Rgb = [bytes[0]!, bytes[1]!, bytes[2]!];
            this.frames.push({ color, at: Date.now() });
            if (this.swallow > 0) {
              this.swallow--;
              return;
            }
            this.color = color;
            const send = (): void => this.broadcast(color);
            if (this.options.delay) setTimeout(send, this.options.delay);
            else send();
          }
        });
      });
    });
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  /** As the device does when its button toggles the LED. */
  broadcast(color: Rgb): void {
    this.color = color;
    for (const client of this.wss.clients) if (client.readyState === client.OPEN) client.send(Buffer.from(color));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.http.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    this.port = (this.http.address() as AddressInfo).port;
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

let browser: Browser | null = null;
const devices: Device[] = [];
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 30_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
  for (const device of devices.splice(0)) await device.close().catch(() => {});
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  browser = null;
});

async function device(options: DeviceOptions = {}): Promise<Device> {
  const d = await new Device(options).listen();
  devices.push(d);
  return d;
}

async function open(d: Device, query = '', phone = true): Promise<Page> {
  const context = await browser!.newContext(
    phone ? { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } : { viewport: { width: 1280, height: 800 } },
  );
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${d.origin}/${query}`);
  await connected(page);
  return page;
}

const connected = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => document.getElementById('status')!.textContent!.includes('connected'), undefined, { timeout: 10_000 });

const shows = (page: Page, color: string): Promise<unknown> =>
  page.waitForFunction((c) => document.getElementById('hex')!.textContent === c, color, { timeout: 5_000 });

async function until(what: string, test: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

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
    const d = await device({ delay: 60 });
    const page = await open(d, '', false);
    const other = await open(d);
    const box = (await page.locator('#picker').boundingBox())!;
    let moves = 0;
    await page.mouse.move(box.x + 20, box.y + 20); // clear of the rounded corner
    await page.mouse.down();
    for (let i = 1; i <= 80; i++) {
      await page.mouse.move(box.x + 20 + (i / 80) * (box.width - 60), box.y + 20 + (i / 80) * (box.height / 2));
      moves++;
    }
    await page.mouse.up();
    const final = (await controls(page)).hex;
    expect(final).not.toBe('#ff0000');
    await until('the last frame', () => d.frames.length > 0 && hex(d.frames.at(-1)!.color) === final);
    await sleep(300);
    expect(d.frames.length).toBeLessThan(moves / 3);
    expect(hex(d.frames.at(-1)!.color)).toBe(final);
    // never two in flight: each frame left after the previous one's broadcast (60 ms later)
    for (let i = 1; i < d.frames.length; i++) expect(d.frames[i]!.at - d.frames[i - 1]!.at).toBeGreaterThanOrEqual(55);
    await shows(other, final);
    expect((await controls(page)).hex).toBe(final); // echoes of older colours did not pull it back
  });

  it('on a fast link too, a drag sends at most one frame per 40 ms', async () => {
    const d = await device();
    const page = await open(d, '', false);
    type Counters = { moves: number; sends: number[] };
    await page.evaluate(() => {
      const w = window as unknown as Counters;
      w.moves = 0;
      w.sends = [];
      document.getElementById('picker')!.addEventListener('pointermove', () => w.moves++);
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
        w.sends.push(Date.now());
        send.call(this, data);
      };
    });
    const box = (await page.locator('#picker').boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    const started = Date.now();
    for (let i = 0; i < 2; i++) {
      await page.mouse.move(box.x + box.width - 20, box.y + 20 + i * 30, { steps: 50 });
      await page.mouse.move(box.x + 20, box.y + 35 + i * 30, { steps: 50 });
    }
    await page.mouse.up();
    const elapsed = Date.now() - started;
    const final = (await controls(page)).hex;
    await until('the last frame', () => d.frames.length > 0 && hex(d.frames.at(-1)!.color) === final);
    const { moves, sends } = await page.evaluate(() => {
      const w = window as unknown as Counters;
      return { moves: w.moves, sends: w.sends };
    });
    expect(moves).toBeGreaterThanOrEqual(200);
    expect(sends).toHaveLength(d.frames.length);
    expect(d.frames.length).toBeLessThan(moves / 2);
    expect(d.frames.length).toBeLessThanOrEqual(elapsed / 40 + 2);
    for (let i = 1; i < sends.length; i++) expect(sends[i]! - sends[i - 1]!).toBeGreaterThanOrEqual(39); // Date.now() truncates to whole ms
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
    const d = await device({ swallow: 1 });
    const page = await open(d);
    await page.fill('#hex-input', '#abcdef');
    await page.press('#hex-input', 'Enter');
    await until('first try', () => d.frames.length === 1);
    await page.fill('#hex-input', '#fedcba'); // coalesced behind the unacknowledged one
    await page.press('#hex-input', 'Enter');
    await until('resend', () => d.frames.length === 2, 4_000);
    expect(d.frames[1]!.at - d.frames[0]!.at).toBeGreaterThanOrEqual(1_400);
    expect(d.frames[1]!.color).toEqual([0xfe, 0xdc, 0xba]);
    await sleep(300);
    expect(d.frames).toHaveLength(2);
    expect(await page.textContent('#status')).toBe('connected');
  });

  it('a socket that stops answering is dropped after the resend also times out; the colour goes on the new one', async () => {
    const d = await device({ swallow: 2 });
    const page = await open(d);
    await page.fill('#hex-input', '#102030');
    await page.press('#hex-input', 'Enter');
    await until('a new connection', () => d.urls.length === 2, 6_000);
    await until('sent again on it', () => d.frames.length === 3);
    expect(d.frames.map((f) => hex(f.color))).toEqual(['#102030', '#102030', '#102030']);
    await connected(page);
    expect(d.color).toEqual([0x10, 0x20, 0x30]);
    await until('the old socket is gone', () => d.clients === 1);
  }, 15_000);

  it('reconnects with back-off when the device goes away, then sends the change made meanwhile', async () => {
    const d = await device({ color: [1, 2, 3] });
    const page = await open(d, '', false);
    const port = d.port;
    await d.close();
    devices.splice(devices.indexOf(d), 1);
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
