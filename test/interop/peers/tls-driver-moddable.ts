// The Moddable half of ./tls-driver.ts: our client runs inside the Moddable simulator, in
// the tls-client app (hosts/moddable/tls-client) that test/moddable/run.mjs built; this
// starts it in its own mcsim (through scripts/moddable.mjs, stopped by PID), talks to its
// control WebSocket and mirrors each client's events into a DrivenClient.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { findSdk, startSimulator } from '../../../scripts/moddable.mjs';
import { MODDABLE } from '../../moddable/mode';
import type { ClosedInfo } from './client-probe';
import type { DrivenClient, MessageDigest, Payload, TlsDriver, TlsTestOptions } from './tls-driver';

interface Reply {
  t: 're';
  id: number;
  v?: unknown;
  err?: string;
}

type Event =
  | { t: 'ev'; c: number; e: 'open'; protocol: string }
  | { t: 'ev'; c: number; e: 'message'; d: MessageDigest }
  | { t: 'ev'; c: number; e: 'error'; name: string; message: string }
  | { t: 'ev'; c: number; e: 'close'; code: number; reason: string; wasClean: boolean };

class Channel {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly clients = new Map<number, RemoteClient>();

  /** `traces`: the app's output so far, for failures. */
  constructor(private readonly ws: WebSocket, traces: () => string) {
    ws.on('message', (data) => this.receive(JSON.parse(String(data)) as Reply | Event));
    ws.on('close', () => this.failAll(new Error(`the tls-client app closed its control channel; its last traces:\n${traces().slice(-3000)}`)));
    ws.on('error', (error) => this.failAll(error));
  }

  call(command: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...command, id }));
    });
  }

  private receive(message: Reply | Event): void {
    if (message.t === 're') {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.err !== undefined) waiter?.reject(new Error(message.err));
      else waiter?.resolve(message.v);
      return;
    }
    this.clients.get(message.c)?.event(message);
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  close(): void {
    this.ws.close();
  }
}

let nextClient = 1;

class RemoteClient implements DrivenClient {
  readonly id = nextClient++;
  connectedAt = 0;
  opened = false;
  readonly errors: Array<{ name: string; message: string }> = [];
  readonly closed: Promise<ClosedInfo>;
  private readonly messages: MessageDigest[] = [];
  private resolveClosed!: (info: ClosedInfo) => void;
  private closedInfo: ClosedInfo | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly channel: Channel, private readonly options: TlsTestOptions) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    channel.clients.set(this.id, this);
  }

  event(event: Event): void {
    if (event.e === 'open') this.opened = true;
    else if (event.e === 'message') this.messages.push(event.d);
    else if (event.e === 'error') this.errors.push({ name: event.name, message: event.message });
    else {
      this.closedInfo = { code: event.code, reason: event.reason, wasClean: event.wasClean, at: performance.now(), state: 'closed' };
      this.resolveClosed(this.closedInfo);
    }
    for (const wake of [...this.waiters]) wake();
  }

  /** Waits until `condition` holds; rejects if the connection closed first or after `timeout` ms. */
  private until(condition: () => boolean, timeout: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (condition()) done(resolve);
        else if (this.closedInfo) done(() => reject(new Error(`closed (${this.closedInfo!.code} ${this.closedInfo!.reason}) before ${what}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeout} ms`))), timeout);
      const done = (then: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }

  connect(url: string): void {
    this.connectedAt = performance.now();
    // A throw from connect() comes back as the reply's error: the tests that expect one use connectError().
    void this.channel.call({ op: 'connect', c: this.id, url, options: this.options }).catch((error: Error) => {
      this.event({ t: 'ev', c: this.id, e: 'error', name: 'Error', message: `connect() threw: ${error.message}` });
    });
  }

  open(): Promise<void> {
    return this.until(() => this.opened, 60_000, "'open'");
  }

  async send(payload: Payload): Promise<boolean> {
    return (await this.channel.call({ op: 'send', c: this.id, p: payload })) === true;
  }

  async received(n: number, timeout = 30_000): Promise<MessageDigest> {
    await this.until(() => this.messages.length > n, timeout, `message #${n}`);
    return this.messages[n];
  }

  async close(code: number, reason: string): Promise<void> {
    await this.channel.call({ op: 'close', c: this.id, code, reason });
  }

  dispose(): void {
    this.channel.clients.delete(this.id);
    void this.channel.call({ op: 'dispose', c: this.id }).catch(() => {});
  }
}

export async function startModdableTlsDriver(): Promise<TlsDriver> {
  const targets = MODDABLE!;
  const build = targets.tlsClient;
  let output = '';
  const mcsim = await startSimulator(findSdk(), { app: build.so, display: targets.display, onText: (text) => (output += text) });
  try {
    const deadline = Date.now() + 60_000;
    while (!output.includes('tls driver ready')) {
      if (!mcsim.running || Date.now() > deadline) throw new Error(`the tls-client app did not start: ${output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const ws = new WebSocket(`ws://127.0.0.1:${build.port}/`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const channel = new Channel(ws, () => output);
    return {
      client: (options) => new RemoteClient(channel, options),
      async connectError(url, options) {
        const c = new RemoteClient(channel, options);
        try {
          await channel.call({ op: 'connect', c: c.id, url, options });
          return '(connect() did not throw)';
        } catch (error) {
          return (error as Error).message;
        } finally {
          c.dispose();
        }
      },
      async stop() {
        // A debug build traces every throw, caught ones too ("# Exception: throw!", as a
        // refused certificate is): what must not happen is the app aborting or exiting.
        const alive = mcsim.running;
        channel.close();
        await mcsim.stop();
        if (!alive || /XS abort/.test(output)) throw new Error(`the tls-client app died during the suite: ${output.slice(-2000)}`);
      },
    };
  } catch (error) {
    await mcsim.stop();
    throw error;
  }
}
