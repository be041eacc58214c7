// A stand-in for the LED device, for the browser tests of the web pages (web/): node:http
// serving the pages and the /api routes of the issue 14 contract (/api/info, /api/setup
// with a fake Wi-Fi set-up the test steps through), and a `ws` server on /ws that speaks
// the LED protocol (3-byte binary [R, G, B] frames, applied and broadcast to every client,
// the current colour sent on connect; text -> 1003, wrong length -> 1007). Also the
// browser: headless Debian Chromium through playwright-core, one per test file.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { WebSocket as WsSocket } from 'ws';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sleep, until } from '../wait';
export { sleep, until };

export type Rgb = [number, number, number];
export const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css' };
export const hex = (c: number[]): string => '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('');

/** GET /api/info. */
export interface DeviceInfo {
  name: string;
  url: string;
  mode: 'setup' | 'joining' | 'online';
}

export interface Network {
  ssid: string;
  rssi: number;
  secure: boolean;
}

/** GET /api/setup. */
export interface SetupState {
  name: string;
  mode: 'setup' | 'joining' | 'online';
  ssid: string;
  error: string;
  scanning: boolean;
  networks: Network[];
  address?: string;
}

/** One /api request as the stand-in received it. */
export interface ApiRequest {
  method: string;
  path: string;
  /** From `?token=` or `Authorization: Bearer`; null without one. */
  token: string | null;
  contentType: string | undefined;
  body: string;
  /** Date.now() when it arrived. */
  at: number;
}

const MAX_BODY = 256;

/**
 * The device's Wi-Fi set-up as /api/setup shows it, stepped by the test: a scan or a join
 * the page starts stays under way until the test calls finishScan() or finishJoin(), so a
 * test sees every state whatever the machine's speed. POST bodies are checked as the
 * contract says (400 with {"error": ...}).
 */
export class FakeSetup {
  readonly state: SetupState;
  /** The accepted POST /api/setup bodies. */
  readonly joins: Record<string, string>[] = [];
  /** Called with an accepted POST /api/setup's token field (the device's token from then on). */
  onToken: (token: string) => void = () => {};

  constructor(state: Partial<SetupState> = {}) {
    this.state = { name: 'atom-led-2b3c', mode: 'setup', ssid: '', error: '', scanning: false, networks: [], ...state };
  }

  finishScan(networks: Network[]): void {
    this.state.scanning = false;
    this.state.networks = networks;
  }

  finishJoin(result: { address: string } | { error: string }): void {
    if ('address' in result) Object.assign(this.state, { mode: 'online', address: result.address, error: '' });
    else Object.assign(this.state, { mode: 'setup', error: result.error });
  }

  scan(): void {
    this.state.scanning = true;
  }

  /** The 400 error for a POST /api/setup body, or '' once accepted (now joining). */
  join(body: unknown): string {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'The body must be a JSON object.';
    const fields = body as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!['ssid', 'password', 'name', 'token'].includes(key)) return `Unknown field "${key}".`;
      if (typeof fields[key] !== 'string') return `"${key}" must be a string.`;
    }
    const { ssid, password, name, token } = fields as Record<string, string | undefined>;
    if (ssid === undefined || Buffer.byteLength(ssid) < 1 || Buffer.byteLength(ssid) > 32) return 'The network name (ssid) must be 1 to 32 bytes.';
    if (password === undefined || (password !== '' && (password.length < 8 || password.length > 63))) return 'The password must be empty (an open network) or 8 to 63 characters.';
    if (name !== undefined && !/^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) return 'The name must be 1 to 63 of a-z, 0-9 and -, not starting or ending with -.';
    if (token !== undefined && token !== '' && !/^[!-~]{1,64}$/.test(token)) return 'The token must be 1 to 64 printable ASCII characters without spaces.';
    this.joins.push(fields as Record<string, string>);
    Object.assign(this.state, { mode: 'joining', ssid, error: '', name: name ?? this.state.name });
    delete this.state.address;
    if (token !== undefined) this.onToken(token);
    return '';
  }
}

export interface DeviceOptions {
  color?: Rgb;
  /**
   * Hold each applied colour's broadcast (the acknowledgement) until release() is called,
   * so a test decides when the sender may send its next frame.
   */
  hold?: boolean;
  /** Swallow this many frames without applying or answering them (a lost acknowledgement). */
  swallow?: number;
  port?: number;
  /** The folder served (default web/). */
  root?: string;
  /** GET /api/info's answer; null: 404, as a device from before /api/info. */
  info?: DeviceInfo | null;
  /** /api/* asks for this token (401 without it). */
  token?: string;
  /** The set-up state to start from. */
  setup?: Partial<SetupState>;
}

/**
 * The device stand-in. `frames` holds every colour frame received, `refused` any protocol
 * violation, `api` every /api request. `maxInFlight` is the most frames one client had sent
 * that the device had not yet answered (each connection gets the current colour on connect
 * and then one message per applied colour, and the web app takes any 3-byte message as the
 * acknowledgement): with a single sender, a value over 1 means a frame left before the
 * previous one's acknowledgement had even been sent.
 */
export class Device {
  color: Rgb;
  readonly frames: { color: Rgb; at: number }[] = [];
  readonly refused: string[] = [];
  readonly urls: string[] = [];
  readonly api: ApiRequest[] = [];
  readonly setup: FakeSetup;
  info: DeviceInfo | null;
  token: string | undefined;
  maxInFlight = 0;
  private readonly held: Rgb[] = [];
  private readonly counts = new Map<WsSocket, { received: number; sent: number }>();
  private swallow: number;
  private readonly http: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private closed = false;
  port = 0;

  constructor(private readonly options: DeviceOptions = {}) {
    this.color = options.color ?? [255, 0, 0];
    this.swallow = options.swallow ?? 0;
    this.setup = new FakeSetup(options.setup);
    this.info = options.info === undefined ? { name: this.setup.state.name, url: `http://${this.setup.state.name}.local/`, mode: 'online' } : options.info;
    this.token = options.token;
    this.setup.onToken = (token) => {
      if (this.token !== undefined) this.token = token;
    };
    const root = options.root ?? WEB;
    this.http = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://device');
      let path = url.pathname;
      if (path.startsWith('/api/')) {
        this.serveApi(req, url, res);
        return;
      }
      if (path === '/') path = '/index.html';
      if (!/^\/[\w-]+\.(html|js|css)$/.test(path)) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = readFileSync(root + '/' + path.slice(1));
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
        const count = { received: 0, sent: 0 };
        this.counts.set(ws, count);
        ws.on('close', () => this.counts.delete(ws));
        this.send(ws, this.color);
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
            count.received++;
            // answered so far: everything sent after the colour sent on connect
            this.maxInFlight = Math.max(this.maxInFlight, count.received - (count.sent - 1));
            if (this.swallow > 0) {
              this.swallow--;
              return;
            }
            this.color = color;
            if (this.options.hold) this.held.push(color);
            else this.broadcast(color);
          }
        });
      });
    });
  }

  /** The /api requests for `method path`. */
  requests(method: string, path: string): ApiRequest[] {
    return this.api.filter((r) => r.method === method && r.path === path);
  }

  private serveApi(req: http.IncomingMessage, url: URL, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      const request: ApiRequest = {
        method: req.method ?? '',
        path: url.pathname,
        token: url.searchParams.get('token') ?? bearer?.[1] ?? null,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      };
      this.api.push(request);
      const [status, answer, headers] = this.answer(request, size);
      if (answer === undefined) res.writeHead(status, headers).end();
      else res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer));
    });
  }

  private answer(r: ApiRequest, size: number): [number, unknown, Record<string, string>?] {
    const error = (status: number, text: string, headers?: Record<string, string>): [number, unknown, Record<string, string>?] => [status, { error: text }, headers];
    const routes: Record<string, string> = { '/api/info': 'GET', '/api/setup': 'GET, POST', '/api/setup/scan': 'POST' };
    const allow = routes[r.path];
    if (r.path === '/api/info' && this.info === null) return [404, undefined]; // a device from before /api/info
    if (allow === undefined) return [404, undefined];
    if (this.token !== undefined && r.token !== this.token) return error(401, 'This device asks for its token.', { 'www-authenticate': 'Bearer' });
    if (!allow.split(', ').includes(r.method)) return error(405, `Use ${allow}.`, { allow });
    if (r.method === 'GET') return [200, r.path === '/api/info' ? this.info : this.setup.state];
    if (size > MAX_BODY) return error(413, `The body is over ${MAX_BODY} bytes.`);
    if (r.contentType !== 'application/json') return error(415, 'The body must be application/json.');
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      return error(400, 'The body is not JSON.');
    }
    if (r.path === '/api/setup/scan') {
      this.setup.scan();
      return [202, this.setup.state];
    }
    const refused = this.setup.join(body);
    return refused ? error(400, refused) : [202, this.setup.state];
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  /** As the device does when its button toggles the LED. */
  broadcast(color: Rgb): void {
    this.color = color;
    for (const client of this.wss.clients) if (client.readyState === client.OPEN) this.send(client, color);
  }

  /** Colours applied whose broadcast is held (hold: true). */
  get holding(): number {
    return this.held.length;
  }

  /** Broadcast the held colours, oldest first. */
  release(): void {
    for (const color of this.held.splice(0)) for (const client of this.wss.clients) if (client.readyState === client.OPEN) this.send(client, color);
  }

  private send(ws: WsSocket, color: Rgb): void {
    const count = this.counts.get(ws);
    if (count) count.sent++;
    ws.send(Buffer.from(color));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.http.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    this.port = (this.http.address() as AddressInfo).port;
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops the stand-in (again: nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

export interface PageOptions {
  /** A phone's viewport with touch (default), else a 1280 x 800 desktop. */
  phone?: boolean;
  /** Runs in the page before its scripts. */
  init?: () => void;
  /** Install Playwright's fake clock before the page loads (it runs until paused). */
  clock?: boolean;
}

export interface BrowserSuite {
  /** A stand-in device, closed after the test. */
  device(options?: DeviceOptions): Promise<Device>;
  /** A new page in its own context (closed after the test); errors thrown in it fail the test. */
  page(options?: PageOptions): Promise<Page>;
}

/**
 * Registers the test file's hooks: Chromium launched once, and after each test its pages and
 * devices closed and the page errors checked (none allowed).
 */
export function browserSuite(): BrowserSuite {
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

  return {
    async device(options: DeviceOptions = {}): Promise<Device> {
      const d = await new Device(options).listen();
      devices.push(d);
      return d;
    },
    async page(options: PageOptions = {}): Promise<Page> {
      const context = await browser!.newContext(
        options.phone === false ? { viewport: { width: 1280, height: 800 } } : { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true },
      );
      contexts.push(context);
      if (options.init) await context.addInitScript(options.init);
      if (options.clock) await context.clock.install();
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      return page;
    },
  };
}
