// The Node end of the echo app's control channel (hosts/moddable/echo/main.ts, its base port):
// commands with replies, and the events of the fixed servers, each with the server's
// clientsCount and listClients() at that moment; a 'message' event is followed by one
// frame carrying the message as received. One connection per test file (worker).

import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { MODDABLE } from './mode';

export interface ServerEvent {
  /** Server name (hosts/moddable/echo/servers.ts) and instance. */
  s: string;
  i: number;
  e: 'opened' | 'closed' | 'error' | 'message' | 'refused' | 'log' | 'origin';
  /** clientsCount and listClients() when the event was emitted. */
  n: number;
  l: string[];
  /** Events the app could not send on this channel so far (must stay 0). */
  dropped: number;
  /** The message, for 'message'. */
  payload?: string | Buffer;
  /** performance.now() when it arrived here. */
  at: number;
  [field: string]: unknown;
}

type Listener = (event: ServerEvent) => void;

export class Control {
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private nextId = 1;
  private pendingMessage: ServerEvent | null = null;
  /** Current instance of each fixed server (from hello and renew). */
  readonly instances = new Map<string, number>();
  /** The port of each fixed server, as the app reports it (its build's base port + offset). */
  readonly ports = new Map<string, number>();
  failure: Error | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    ws.on('close', (code) => this.fail(new Error(`the control channel closed (${code})`)));
    ws.on('error', (error) => this.fail(error));
  }

  static connect(url: string): Promise<Control> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 << 20 });
      const control = new Control(ws);
      // The app greets with a reply to request 0: the servers and their instances.
      control.waiting.set(0, {
        resolve: (v) => {
          control.noteServers(v);
          resolve(control);
        },
        reject,
      });
      ws.once('error', reject);
    });
  }

  private noteServers(v: unknown): void {
    const servers = (v as { servers: Record<string, { i: number; port: number }> }).servers;
    for (const [name, { i, port }] of Object.entries(servers)) {
      this.instances.set(name, i);
      this.ports.set(name, port);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    const at = performance.now();
    if (this.pendingMessage) {
      const event = this.pendingMessage;
      this.pendingMessage = null;
      event.payload = isBinary ? data : data.toString('utf8');
      this.dispatch(event);
      return;
    }
    const message = JSON.parse(data.toString('utf8')) as { t: string; id?: number; v?: unknown; err?: string } & ServerEvent;
    if (message.t === 're') {
      const w = this.waiting.get(message.id!);
      this.waiting.delete(message.id!);
      if (message.err !== undefined) w?.reject(new Error(`moddable control: ${message.err}`));
      else w?.resolve(message.v);
      return;
    }
    const event = { ...message, at };
    if (event.dropped) this.failure ??= new Error(`the echo app dropped ${event.dropped} events on the control channel`);
    if (event.e === 'message') this.pendingMessage = event;
    else this.dispatch(event);
  }

  private dispatch(event: ServerEvent): void {
    for (const listener of this.listeners.get(event.s) ?? []) listener(event);
  }

  /** Events of server `name` (every instance; filter on `i`). Returns the unsubscribe. */
  subscribe(name: string, listener: Listener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  request<T = unknown>(op: string, fields: Record<string, unknown> = {}, bytes?: Uint8Array): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.ws.send(JSON.stringify({ id, op, ...fields, ...(bytes ? { bin: true } : {}) }));
    if (bytes) this.ws.send(bytes, { binary: true });
    return reply;
  }

  /** Resolves once every event the app emitted before it read this request has arrived. */
  async sync(): Promise<void> {
    await this.request('sync');
    if (this.failure) throw this.failure;
  }

  /** clientsCount, listClients() and state of the current instance of `name`. */
  status(name: string): Promise<{ i: number; n: number; l: string[]; running: boolean }> {
    return this.request('status', { s: name });
  }

  /** Call a WebSocketServer method on instance `i` of `name`; a Uint8Array last argument goes as a binary frame. */
  call<T = unknown>(name: string, i: number, method: string, args: unknown[]): Promise<T> {
    const last = args[args.length - 1];
    if (last instanceof Uint8Array) return this.request<T>('call', { s: name, i, m: method, a: args.slice(0, -1) }, last);
    return this.request<T>('call', { s: name, i, m: method, a: args });
  }

  /**
   * Stop instance `i` of `name` (its clients get 1001, as with an in-process stop()),
   * with `waitMs` wait until it has no client left (as ServerUnderTest.dispose does), and
   * start a fresh instance on the same port for the next test.
   */
  async retire(name: string, i: number, waitMs = 0): Promise<void> {
    if (this.instances.get(name) !== i) return;
    const state = await this.status(name);
    if (state.i === i && state.running) await this.call(name, i, 'stop', []);
    const timeoutMs = waitMs;
    const deadline = performance.now() + timeoutMs;
    let left = waitMs > 0 ? state.n : 0;
    while (left > 0) {
      if (performance.now() > deadline) {
        await this.renew(name);
        throw new Error(`timed out after ${timeoutMs} ms waiting for all clients closed after stop() (${name})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = (await this.status(name)).n;
    }
    await this.renew(name);
  }

  async renew(name: string): Promise<number> {
    const { i } = await this.request<{ i: number }>('renew', { s: name });
    this.instances.set(name, i);
    return i;
  }

  close(): void {
    this.ws.close();
  }
}

let shared: Promise<Control> | null = null;

/** The control channel of the echo app in the simulator (connected once per worker), or null in-process. */
export function moddableControl(): Promise<Control> | null {
  if (!MODDABLE) return null;
  shared ??= Control.connect(MODDABLE.control);
  return shared;
}
