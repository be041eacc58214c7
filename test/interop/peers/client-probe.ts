// Test-side helpers for driving our WebSocketClient (sim host) against real peers:
// an event recorder with promises, polling waits, and a per-test cleanup list.
import { performance } from 'node:perf_hooks';
import { asciiText, patternBytes } from './payloads';
import { WebSocketClient } from '../../../src/net/client';
import type { ClientOptions, ConnectOptions, SocketState } from '../../../src/net/client';

export interface ClosedInfo {
  code: number;
  reason: string;
  wasClean: boolean;
  /** performance.now() when 'close' fired. */
  at: number;
  /** Client state seen inside the 'close' listener. */
  state: SocketState;
}

export interface ReceivedMessage {
  data: string | Buffer;
  isText: boolean;
}

export interface ReceivedChunk {
  data: Buffer;
  isText: boolean;
  first: boolean;
  last: boolean;
}

export type ProbeEvent =
  | { type: 'open'; protocol: string; state: SocketState }
  | { type: 'message' }
  | { type: 'error'; message: string }
  | { type: 'close'; code: number };

/** Wraps a WebSocketClient and records everything it emits. */
export class ClientProbe {
  readonly client: WebSocketClient;
  readonly events: ProbeEvent[] = [];
  readonly messages: ReceivedMessage[] = [];
  readonly chunks: ReceivedChunk[] = [];
  readonly pongs: Buffer[] = [];
  readonly errors: Error[] = [];
  /** performance.now() when connect() was called / 'open' fired. */
  connectedAt = 0;
  openedAt = 0;
  closedInfo: ClosedInfo | null = null;
  readonly opened: Promise<string>;
  readonly closed: Promise<ClosedInfo>;
  private messageWaiters: Array<() => void> = [];

  constructor(options: ClientOptions = {}) {
    const client = new WebSocketClient(options);
    this.client = client;
    let resolveOpen!: (protocol: string) => void;
    let rejectOpen!: (error: Error) => void;
    this.opened = new Promise<string>((resolve, reject) => {
      resolveOpen = resolve;
      rejectOpen = reject;
    });
    this.opened.catch(() => {}); // tests that expect a failure need not await it
    let resolveClose!: (info: ClosedInfo) => void;
    this.closed = new Promise<ClosedInfo>((resolve) => (resolveClose = resolve));
    client.on('open', (protocol) => {
      this.openedAt = performance.now();
      this.events.push({ type: 'open', protocol, state: client.state });
      resolveOpen(protocol);
    });
    client.on('message', (data, isText) => {
      // Binary data is a view into the receive buffer, valid during the call only.
      this.messages.push({ data: typeof data === 'string' ? data : Buffer.from(data), isText });
      this.events.push({ type: 'message' });
      this.wake();
    });
    client.on('chunk', (data, isText, first, last) => {
      this.chunks.push({ data: Buffer.from(data), isText, first, last });
      this.wake();
    });
    client.on('pong', (data) => {
      this.pongs.push(Buffer.from(data));
      this.wake();
    });
    client.on('error', (error) => {
      this.errors.push(error);
      this.events.push({ type: 'error', message: error.message });
    });
    client.on('close', (code, reason, wasClean) => {
      const info: ClosedInfo = { code, reason, wasClean, at: performance.now(), state: client.state };
      this.closedInfo = info;
      this.events.push({ type: 'close', code });
      rejectOpen(new Error(`closed before open: ${code} ${reason}`));
      resolveClose(info);
      this.wake();
    });
  }

  connect(url: string, options?: ConnectOptions): this {
    this.connectedAt = performance.now();
    this.client.connect(url, options);
    return this;
  }

  /** Resolves with the next message (index `n`, counting from 0 over all received). */
  async message(n: number, timeout = 10_000): Promise<ReceivedMessage> {
    await this.until(() => this.messages.length > n, timeout, `message #${n}`);
    return this.messages[n];
  }

  /** Waits until `condition` holds; rejects early if the connection closed meanwhile. */
  until(condition: () => boolean, timeout = 10_000, what = 'condition'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        if (condition()) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        if (this.closedInfo) {
          clearTimeout(timer);
          reject(new Error(`connection closed (${this.closedInfo.code} ${this.closedInfo.reason}) while waiting for ${what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.messageWaiters = this.messageWaiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeout);
      const waiter = (): void => {
        if (check()) this.messageWaiters = this.messageWaiters.filter((w) => w !== waiter);
      };
      if (!check()) this.messageWaiters.push(waiter);
    });
  }

  private wake(): void {
    for (const waiter of this.messageWaiters.slice()) waiter();
  }

  /** Drop the connection if it is still up (cleanup). */
  dispose(): void {
    try {
      if (this.client.state !== 'closed') this.client.abort();
    } catch {
      // already gone
    }
  }
}

/** Poll `condition` every few ms until it holds or `timeout` passes. */
export async function waitFor(condition: () => boolean, timeout = 10_000, what = 'condition'): Promise<void> {
  const end = performance.now() + timeout;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resources a test opened, released in reverse order by run(). */
export class Cleanup {
  private tasks: Array<() => unknown> = [];

  add(task: () => unknown): void {
    this.tasks.push(task);
  }

  async run(): Promise<void> {
    const tasks = this.tasks.reverse();
    this.tasks = [];
    for (const task of tasks) {
      try {
        await task();
      } catch {
        // keep releasing the rest
      }
    }
  }
}

/** Deterministic test payloads: byte i is (i * 31 + seed) & 0xff. */
export function pattern(length: number, seed = 7): Buffer {
  const bytes = patternBytes(length, seed);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export { asciiText };
