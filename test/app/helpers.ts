// Shared helpers for the end-to-end tests of the LED app (test/app/*.test.ts): the real
// sim-host app process (`node hosts/sim/run.mjs hosts/sim/led-main.ts`, what `npm start`
// runs after building web/dist), its stdout read line by line with timestamps, its
// stdin as the device's button, and `ws` clients that record every frame and the close.
//
// Processes are spawned directly (no npm in between), so the PID held is the app's own;
// they are stopped by that PID (SIGTERM, then SIGKILL) in stopApps() and, as a last
// resort, when the test worker exits.
//
// Under npm run test:moddable (test/moddable/mode.ts), LedAppProcess runs the LED app
// built from the root manifest.json (hosts/moddable/led-main.ts) in the Moddable
// simulator instead: its own mcsim process, its trace() output read through an xsbug
// listener (scripts/moddable.mjs startSimulator) as the lines, the port and token fixed by the build
// (mcconfig ... port=N token=T). The simulator has no button (hosts/moddable/virtual-led.ts).

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { MODDABLE } from '../moddable/mode';
import { sleep, until } from '../wait';
import { findSdk, startSimulator } from '../../scripts/moddable.mjs';
import type { SimulatorInstance } from '../../scripts/moddable.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export type Rgb = [number, number, number];

export { sleep, until };

export const hex = (c: readonly number[]): string => '#' + c.map((x) => x.toString(16).padStart(2, '0')).join('');
export const ledLine = (c: readonly number[] | string): string => `LED ${typeof c === 'string' ? c : hex(c)}`;

const WEB_FILES = ['index.html', 'app.js', 'app.css', 'setup.html', 'setup.js'];

/**
 * web/dist as `npm start` would build it (scripts/build-web.mjs), rebuilt only when a
 * copy differs from web/ (so parallel test files do not rewrite files another app
 * process may be reading).
 */
export function ensureWebDist(): void {
  const stale = WEB_FILES.some((name) => {
    const dist = join(ROOT, 'web', 'dist', name);
    if (!existsSync(dist) || !existsSync(dist + '.gz')) return true;
    const source = readFileSync(join(ROOT, 'web', name));
    return !source.equals(readFileSync(dist)) || !source.equals(gunzipSync(readFileSync(dist + '.gz')));
  });
  if (stale) execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'pipe' });
}

export interface Line {
  text: string;
  /** performance.now() when this process read it. */
  at: number;
}

export interface AppOptions {
  /** Default 0: an ephemeral port (read back from the printed URL). */
  port?: number;
  token?: string;
  host?: string;
  /** Pass no --port at all (the app's default, 8080). */
  noPort?: boolean;
  /**
   * Where the app keeps its records (LED state, Wi-Fi settings): on the sim host
   * <dir>/records.json (--records), in the simulator mcsim's working directory (its
   * Preference file). Default: a new directory of its own, removed when it stops; give
   * one (stateDir()) to restart an app on the same records.
   */
  records?: string;
  /** More arguments for the sim host's app (e.g. ['--wifi-ssid', 'home']). */
  args?: string[];
}

/** A directory for an app's records that outlives the app (removed by the caller). */
export function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'led-records-'));
}

const live = new Set<LedAppProcess>();

/** What the sim host's app prints on stderr; in the simulator its trace()s of the same (and exceptions). */
const STDERR_TRACE = /^(websocket |http: )|# (Exception|Break):/;

/** The LED app on the sim host, as a child process (or in the Moddable simulator, see above). */
export class LedAppProcess {
  readonly lines: Line[] = [];
  stderr = '';
  /** From the `LED app: http://...` line. */
  url = '';
  port = 0;
  private partial = '';
  private readonly exited: Promise<void>;
  /** The sim host's process, or null in the simulator. */
  readonly child: ChildProcess | null;
  /** The simulator's process, or null on the sim host. */
  private readonly mcsim: SimulatorInstance | null;
  /** The records directory made for this app alone (removed when it stops), or null. */
  private ownRecords: string | null = null;

  private constructor(proc: ChildProcess | SimulatorInstance, readonly options: AppOptions) {
    if ('stdout' in proc) {
      const child = proc;
      this.child = child;
      this.mcsim = null;
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => this.output(chunk));
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    } else {
      this.child = null;
      this.mcsim = proc;
      this.exited = proc.exited.then(() => undefined);
    }
  }

  private output(chunk: string): void {
    const at = performance.now();
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const text of parts) {
      this.lines.push({ text, at });
      if (this.mcsim && STDERR_TRACE.test(text)) this.stderr += text + '\n';
    }
  }

  static async start(options: AppOptions = {}): Promise<LedAppProcess> {
    ensureWebDist();
    const own = options.records === undefined ? stateDir() : null;
    const records = options.records ?? own!;
    let app: LedAppProcess;
    try {
      app = MODDABLE ? await LedAppProcess.startInSimulator(options, records) : await LedAppProcess.startOnSimHost(options, records);
    } catch (error) {
      if (own) rmSync(own, { recursive: true, force: true });
      throw error;
    }
    app.ownRecords = own;
    return app;
  }

  private static async startOnSimHost(options: AppOptions, records: string): Promise<LedAppProcess> {
    const args = [join(ROOT, 'hosts/sim/run.mjs'), join(ROOT, 'hosts/sim/led-main.ts'), '--records', join(records, 'records.json'), ...(options.args ?? [])];
    if (!options.noPort) args.push('--port', String(options.port ?? 0));
    if (options.host !== undefined) args.push('--host', options.host);
    if (options.token !== undefined) args.push('--token', options.token);
    // the app also reads PORT, HOST and LED_TOKEN: keep the test's options the only input
    const env = { ...process.env };
    delete env.PORT;
    delete env.HOST;
    delete env.LED_TOKEN;
    delete env.LED_RECORDS;
    delete env.LED_NAME;
    delete env.WIFI_SSID;
    delete env.WIFI_PASSWORD;
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env });
    const app = new LedAppProcess(child, options);
    live.add(app);
    try {
      const at = await app.waitLine((l) => l.startsWith('LED app: '), 0, 20_000);
      const m = /^LED app: (http:\/\/([^/]+):(\d+)\/)(\S*)$/.exec(app.lines[at]!.text);
      if (!m) throw new Error(`unexpected banner ${JSON.stringify(app.lines[at]!.text)}`);
      app.url = m[1]!;
      app.port = Number(m[3]);
    } catch (error) {
      await app.stop();
      throw error;
    }
    return app;
  }

  /** The LED app build with this token (or none) in its own mcsim; its port is the build's. */
  private static async startInSimulator(options: AppOptions, records: string): Promise<LedAppProcess> {
    const targets = MODDABLE!;
    const build = options.token === undefined ? targets.led.default : targets.led.token;
    if (options.token !== undefined && options.token !== build.token) throw new Error(`the simulator's LED app is built with token ${build.token}, not ${options.token}`);
    if (options.port && options.port !== build.port) throw new Error(`the simulator's LED app is built for port ${build.port}, not ${options.port}`);
    if (options.host !== undefined || options.noPort) throw new Error('the simulator build listens on its config port on every interface');
    if (options.args?.length) throw new Error(`the simulator build takes no arguments (${options.args.join(' ')}): its settings are the build's`);
    let app: LedAppProcess | null = null;
    const early: string[] = [];
    const mcsim = await startSimulator(findSdk(), {
      app: build.so,
      display: targets.display,
      onText: (text) => (app ? app.output(text) : early.push(text)),
      cwd: records, // its Preference file (the manifest's lin file root is "./")
    });
    app = new LedAppProcess(mcsim, options);
    for (const text of early) app.output(text);
    live.add(app);
    try {
      await app.waitLine((l) => l.startsWith('LED app: '), 0, 20_000);
      app.port = build.port;
      app.url = `http://127.0.0.1:${build.port}/`;
    } catch (error) {
      await app.stop();
      throw error;
    }
    return app;
  }

  /** The line the app (started on 127.0.0.1) prints with its URL; `query`: what the URL carries, e.g. '?token=abc'. */
  banner(query = ''): string {
    if (!this.mcsim) return `LED app: http://127.0.0.1:${this.port}/${query}`;
    // hosts/moddable/led-main.ts: the device does not know its address, the token is not
    // shown, and the resources it serves follow (the printed line if it starts so)
    const start = `LED app: http://<device>:${this.port}/${query.includes('token=') ? '?token=<token>' : ''} serving `;
    return this.lines.find((l) => l.text.startsWith(start))?.text ?? start;
  }

  /** Where it runs, for messages. */
  get where(): string {
    return this.mcsim ? `the Moddable simulator (mcsim ${this.mcsim.pid})` : `the sim host (pid ${this.child!.pid})`;
  }

  /**
   * stderr lines other than the app's log of refused handshakes (`websocket <endpoint>:
   * handshake rejected: 403 ...`), which it reports through the server's 'error' event.
   */
  unexpectedStderr(): string[] {
    return this.stderr
      .split('\n')
      .filter((l) => l !== '' && !/^websocket \S+: handshake rejected: 403 /.test(l));
  }

  get pid(): number {
    return this.mcsim ? this.mcsim.pid : this.child!.pid!;
  }

  get running(): boolean {
    if (this.mcsim) return this.mcsim.running;
    return this.child!.exitCode === null && this.child!.signalCode === null;
  }

  private get exitStatus(): string {
    if (this.mcsim) return 'mcsim exited';
    return String(this.child!.exitCode ?? this.child!.signalCode);
  }

  /** The LED lines only (`LED #rrggbb`), optionally from line index `from`. */
  ledLines(from = 0): string[] {
    return this.lines.slice(from).map((l) => l.text).filter((t) => t.startsWith('LED #'));
  }

  /** The index of the first line at or after `from` that satisfies `test`. */
  async waitLine(test: (line: string) => boolean, from = 0, timeoutMs = 5000): Promise<number> {
    const end = performance.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.lines.length; i++) if (test(this.lines[i]!.text)) return i;
      if (!this.running) throw new Error(`the app exited (${this.exitStatus}); stderr: ${this.stderr}`);
      if (performance.now() > end) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for a line; got ${JSON.stringify(this.lines.slice(from).map((l) => l.text))}`);
      }
      await sleep(2);
    }
  }

  /** Wait for `LED #rrggbb` at or after line `from`; returns its index. */
  waitLed(color: readonly number[] | string, from = 0, timeoutMs = 5000): Promise<number> {
    const want = ledLine(color);
    return this.waitLine((l) => l === want, from, timeoutMs);
  }

  /** The device's button: "b" + newline on stdin. */
  press(): void {
    if (!this.child) throw new Error('the Moddable simulator build has no button (hosts/moddable/virtual-led.ts)');
    this.child.stdin!.write('b\n');
  }

  wsUrl(query = ''): string {
    return `ws://127.0.0.1:${this.port}/ws${query}`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGTERM (the app stops its servers and exits), SIGKILL after 3 s; resolves on exit. */
  async stop(): Promise<void> {
    live.delete(this);
    try {
      await this.stopProcess();
    } finally {
      if (this.ownRecords) rmSync(this.ownRecords, { recursive: true, force: true });
    }
  }

  private async stopProcess(): Promise<void> {
    if (this.mcsim) return this.mcsim.stop(); // by PID: SIGTERM, SIGKILL after 5 s
    const child = this.child!;
    if (this.running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (this.running) child.kill('SIGKILL');
      }, 3000);
      await this.exited;
      clearTimeout(timer);
    }
    child.stdin?.destroy();
  }

  /** @internal Last resort when the worker exits. */
  kill(): void {
    if (this.mcsim) this.mcsim.kill();
    else if (this.running) this.child!.kill('SIGKILL');
  }
}

export async function stopApps(): Promise<void> {
  await Promise.all([...live].map((app) => app.stop()));
}

process.on('exit', () => {
  for (const app of live) app.kill();
});

export interface ClientClose {
  code: number;
  reason: string;
}

const clients = new Set<Client>();

/** A `ws` client recording every message (binary as number arrays) and its close. */
export class Client {
  readonly messages: (number[] | string)[] = [];
  closed: ClientClose | null = null;
  private readonly ws: WebSocket;
  private consumed = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      this.messages.push(isBinary ? [...bytes] : bytes.toString('utf8'));
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString('utf8') }));
    ws.on('error', () => {});
  }

  /** Open a client; rejects with `HTTP <status>` when the handshake is refused. */
  static open(url: string, origin?: string): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(origin === undefined ? {} : { origin }) });
    const client = new Client(ws);
    clients.add(client);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        ws.terminate();
      });
      ws.once('error', (error) => reject(error));
    });
  }

  /** The handshake status of a refused connection attempt ('open' when it opened). */
  static async attempt(url: string, origin?: string): Promise<string> {
    try {
      const client = await Client.open(url, origin);
      client.terminate();
      return 'open';
    } catch (error) {
      return (error as Error).message;
    }
  }

  send(data: number[] | string): void {
    this.ws.send(typeof data === 'string' ? data : Buffer.from(data), { binary: typeof data !== 'string' });
  }

  /** The next message not yet taken. */
  async next(what = 'a message', timeoutMs = 5000): Promise<number[] | string> {
    await until(what, () => this.messages.length > this.consumed || this.closed !== null, timeoutMs);
    if (this.messages.length <= this.consumed) throw new Error(`closed (${JSON.stringify(this.closed)}) while waiting for ${what}`);
    return this.messages[this.consumed++]!;
  }

  /** The next message, which must be binary. */
  async nextBinary(what = 'a binary message', timeoutMs = 5000): Promise<number[]> {
    const m = await this.next(what, timeoutMs);
    if (typeof m === 'string') throw new Error(`a text message while waiting for ${what}: ${m}`);
    return m;
  }

  get pending(): number {
    return this.messages.length - this.consumed;
  }

  async waitClose(timeoutMs = 5000): Promise<ClientClose> {
    await until('the close', () => this.closed !== null, timeoutMs);
    return this.closed!;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    clients.delete(this);
    this.ws.terminate();
  }
}

export function closeClients(): void {
  for (const client of clients) client.terminate();
  clients.clear();
}

/** The state of TCP listeners on `port` from /proc/net/tcp{,6}: local addresses in /proc's hex form. */
export function listenersOn(port: number): { v4: string[]; v6: string[] } {
  const read = (file: string): string[] => {
    if (!existsSync(file)) return [];
    const out: string[] = [];
    for (const row of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A: LISTEN
      const [address, p] = cols[1]!.split(':');
      if (parseInt(p!, 16) === port) out.push(address!);
    }
    return out;
  };
  return { v4: read('/proc/net/tcp'), v6: read('/proc/net/tcp6') };
}
