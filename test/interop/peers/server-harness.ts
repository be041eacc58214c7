// Shared helpers for the real-peer tests of WebSocketServer (test/interop/server-*.test.ts):
// a server under test that records every event it emits (with performance.now()
// timestamps, the clock the sim host drives its timers with), an echo listener that
// records refused sends, raw TCP helpers for hand-made handshakes, a tiny decoder for
// the server's (unmasked) frames and deterministic payload generators.
//
// Under npm run test:moddable, a ServerUnderTest is the server with the same options in
// the Moddable simulator (hosts/moddable/echo/servers.ts): its events arrive over the
// echo app's control channel (test/moddable/control.ts) into the same records, `server`
// answers clientsCount and listClients() as of the app's last event and runs the other
// methods there (they return promises: await them), and dispose() stops it and starts a
// fresh one on the same port. Waits are WAIT_SCALE times longer there.
//
// What a test would do with a listener or callback of its own (an origin check, a
// listener that throws or disconnects) is asked as a plain Behaviour
// (hosts/moddable/echo/behaviour.ts): applied in-process by the same functions the echo
// app applies it with, sent to the simulator's server over the control channel (await
// s.ready() before connecting).

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { installSimPlatform } from '../../../hosts/sim/platform';
import { WebSocketServer } from '../../../src/net/server';
import type { ServerOptions } from '../../../src/net/server';
import { SERVERS, optionsKey } from '../../../hosts/moddable/echo/servers';
import { isPlain, messageBehaviour, originPolicy } from '../../../hosts/moddable/echo/behaviour';
import type { Behaviour, OriginRequest } from '../../../hosts/moddable/echo/behaviour';
import { moddableControl } from '../../moddable/control';
import type { Control, ServerEvent } from '../../moddable/control';
import { WAIT_SCALE } from '../../moddable/mode';
import { plainOptions } from './targets';

const control = await moddableControl();

export const MiB = 1 << 20;
/** The echo sizes every peer exercises: header length boundaries, 64 KiB and 1 MiB. */
export const SIZES = [0, 125, 126, 65535, 65536, MiB] as const;
/** The bytes of one message of each of SIZES. */
export const SIZES_TOTAL = SIZES.reduce((a: number, b: number) => a + b, 0);
/** Server options for 1 MiB echoes: 2 MiB messages, a send budget for a 1 MiB reply. */
export const BIG: ServerOptions = { maxMessageSize: 2 * MiB, sendQueueSize: 4 * MiB, readBufferSize: 4096 };

/** Multibyte UTF-8: 2-, 3- and 4-byte sequences (the 4-byte ones are surrogate pairs in JS). */
export const MULTIBYTE = 'aé€𝄞😀 ü中文 🇩🇪 ∑ 𐍈 end';

/** n deterministic bytes. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return out;
}

/** A printable-ASCII string of exactly n bytes (n UTF-8 bytes, n UTF-16 units). */
export function asciiText(n: number, seed = 0): string {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = 32 + ((i * 7 + seed + (i >>> 7)) % 95);
  return bytes.toString('latin1');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Opened {
  endpoint: string;
  protocol: string;
  at: number;
}
export interface Closed {
  endpoint: string;
  code: number;
  reason: string;
  wasClean: boolean;
  at: number;
}
export interface Received {
  endpoint: string;
  data: string | Uint8Array;
  isText: boolean;
}

const live = new Set<ServerUnderTest>();

/** What the server does besides recording: echo (default true) and a Behaviour. */
export interface TestServerBehaviour extends Behaviour {
  echo?: boolean;
}

/** A started WebSocketServer on 127.0.0.1 (ephemeral port) with every event recorded. */
export class ServerUnderTest {
  readonly server: WebSocketServer;
  /** Under test:moddable: the simulator's server (else null). */
  readonly remote: RemoteServer | null = null;
  readonly opened: Opened[] = [];
  readonly closed: Closed[] = [];
  readonly errors: { error: Error; client: string | undefined }[] = [];
  readonly messages: Received[] = [];
  /** Echo replies the server refused (send returned false). */
  readonly refusedSends: string[] = [];
  /** The handshake requests the checkOrigin of Behaviour.allowOrigins saw, in order. */
  readonly origins: OriginRequest[] = [];
  private checks = new Set<() => void>();
  private readonly boundPort: number;
  /** A Behaviour was asked for and ready() has not resolved yet. */
  private unready: boolean;

  constructor(options: ServerOptions = {}, { echo = true, ...behaviour }: TestServerBehaviour = {}) {
    if (behaviour.allowOrigins && options.checkOrigin) throw new Error('ServerUnderTest: both a checkOrigin option and allowOrigins');
    this.unready = !isPlain(behaviour);
    if (control) {
      this.remote = new RemoteServer(control, options, echo, behaviour, this);
      this.server = this.remote.proxy;
      this.boundPort = this.remote.port;
      live.add(this);
      return;
    }
    installSimPlatform();
    const asked = (): Behaviour => behaviour;
    const checkOrigin = behaviour.allowOrigins ? originPolicy(asked, (request) => this.record(() => this.origins.push(request))) : undefined;
    this.server = new WebSocketServer({ port: 0, ...options, ...(checkOrigin ? { checkOrigin } : {}) });
    const s = this.server;
    s.on('opened', (endpoint, protocol) => this.record(() => this.opened.push({ endpoint, protocol, at: performance.now() })));
    s.on('closed', (endpoint, code, reason, wasClean) =>
      this.record(() => this.closed.push({ endpoint, code, reason, wasClean, at: performance.now() })),
    );
    s.on('error', (error, client) => this.record(() => this.errors.push({ error, client })));
    s.on('message', (endpoint, data, isText) =>
      this.record(() => this.messages.push({ endpoint, data: typeof data === 'string' ? data : data.slice(), isText })),
    );
    if (echo) {
      s.on('message', (endpoint, data, isText) => {
        const ok = isText ? s.sendText(endpoint, data as string) : s.sendBinary(endpoint, data as Uint8Array);
        if (!ok) this.refusedSends.push(`${endpoint} ${isText ? 'text' : 'binary'} ${isText ? (data as string).length : (data as Uint8Array).length}`);
      });
    }
    if (behaviour.throwOn || behaviour.disconnectOn) s.on('message', messageBehaviour(s, asked));
    s.start();
    const port = s.port;
    if (!port) throw new Error('server has no port');
    this.boundPort = port;
    live.add(this);
  }

  /** The port the listener was bound to (kept after stop()). */
  get port(): number {
    // Also in-process, so that a test that would race the control channel fails under npm test.
    if (this.unready) throw new Error('ServerUnderTest: await s.ready() before connecting (the simulator server gets its Behaviour over the control channel)');
    return this.boundPort;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /**
   * Resolves once the server does what its Behaviour asks: at once in-process; against
   * the simulator, once the app has set it on its server (needed before connecting).
   */
  async ready(): Promise<void> {
    await this.remote?.behaved;
    this.unready = false;
  }

  /** @internal */
  record(fn: () => void): void {
    fn();
    for (const check of [...this.checks]) check();
  }

  /**
   * Resolves once every event the server emitted so far is in the records: at once
   * in-process; against the simulator, after a round trip on the control channel.
   */
  async settled(): Promise<void> {
    await this.remote?.settled();
  }

  /** Resolve once `predicate` holds (re-checked after every server event and every 20 ms). */
  until(predicate: () => boolean, what: string, timeoutMs = 5000 * WAIT_SCALE): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        this.checks.delete(check);
        clearInterval(poll);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        if (predicate()) done();
      };
      this.checks.add(check);
      const poll = setInterval(check, 20);
      const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    });
  }

  async waitOpened(count: number): Promise<Opened[]> {
    await this.until(() => this.opened.length >= count, `${count} opened`);
    return this.opened.slice(0, count);
  }

  async waitClosed(endpoint: string, timeoutMs = 5000 * WAIT_SCALE): Promise<Closed> {
    await this.until(() => this.closed.some((c) => c.endpoint === endpoint), `closed ${endpoint}`, timeoutMs);
    return this.closed.find((c) => c.endpoint === endpoint)!;
  }

  /** Stop the server and wait until no client is left open. */
  async dispose(): Promise<void> {
    live.delete(this);
    if (this.remote) return this.remote.dispose();
    this.server.stop();
    await this.until(() => this.server.clientsCount === 0, 'all clients closed after stop()', 5000);
  }
}

/**
 * The simulator's server with a ServerUnderTest's options and echo setting, its events
 * recorded into that ServerUnderTest. `proxy` stands in for the WebSocketServer.
 */
class RemoteServer {
  readonly name: string;
  readonly port: number;
  readonly instance: number;
  readonly proxy: WebSocketServer;
  private state: { n: number; l: string[] } = { n: 0, l: [] };
  private readonly unsubscribe: () => void;
  /** The reply to op 'behave' (null: the server was asked for no Behaviour). */
  readonly behaved: Promise<unknown> | null = null;

  constructor(
    private readonly control: Control,
    options: ServerOptions,
    echo: boolean,
    behaviour: Behaviour,
    sut: ServerUnderTest,
  ) {
    const key = optionsKey(plainOptions(options), echo);
    const entry = Object.entries(SERVERS).find(([, f]) => f.kind === 'recorded' && optionsKey(f.options, f.echo) === key);
    if (!entry) throw new Error(`no recorded server in hosts/moddable/echo/servers.ts has ${key}`);
    const [name] = entry;
    if ([...live].some((s) => s.remote?.name === name)) throw new Error(`the simulator's ${name} server is already in use by this test`);
    this.name = name;
    this.port = control.ports.get(name)!;
    this.instance = control.instances.get(name)!;
    this.unsubscribe = control.subscribe(name, (event) => {
      if (event.i === this.instance) this.receive(event, sut);
    });
    if (!isPlain(behaviour)) {
      this.behaved = control.request('behave', { s: name, i: this.instance, b: behaviour });
      this.behaved.catch(() => {}); // ready() reports it
    }
    const call = <T>(method: string, args: unknown[]): Promise<T> => control.call<T>(name, this.instance, method, args);
    const bytes = (data: unknown): unknown =>
      ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const state = (): { n: number; l: string[] } => this.state;
    const proxy = {
      port: this.port,
      get clientsCount(): number {
        return state().n;
      },
      listClients: (): string[] => [...state().l],
      disconnectClient: (endpoint: string, code?: number, reason?: string) => call('disconnectClient', [endpoint, code, reason]),
      send: (endpoint: string, data: unknown) => call('send', [endpoint, bytes(data)]),
      sendText: (endpoint: string, text: string) => call('sendText', [endpoint, text]),
      sendBinary: (endpoint: string, data: unknown) => call('sendBinary', [endpoint, bytes(data)]),
      broadcast: (data: unknown) => call('broadcast', [bytes(data)]),
      bufferedAmount: (endpoint: string) => call('bufferedAmount', [endpoint]),
      stop: () => call('stop', []),
      start: () => call('start', []),
      on: (): never => {
        throw new Error('ServerUnderTest: no listener can be added to the server in the Moddable simulator');
      },
    };
    this.proxy = proxy as unknown as WebSocketServer;
  }

  private receive(event: ServerEvent, sut: ServerUnderTest): void {
    this.state = { n: event.n, l: event.l };
    const c = event.c as string;
    switch (event.e) {
      case 'opened':
        sut.record(() => sut.opened.push({ endpoint: c, protocol: event.protocol as string, at: event.at }));
        break;
      case 'closed':
        sut.record(() =>
          sut.closed.push({ endpoint: c, code: event.code as number, reason: event.reason as string, wasClean: event.wasClean as boolean, at: event.at }),
        );
        break;
      case 'error':
        sut.record(() => sut.errors.push({ error: new Error(event.m as string), client: (event.c as string | null) ?? undefined }));
        break;
      case 'message': {
        const payload = event.payload!;
        const data = typeof payload === 'string' ? payload : new Uint8Array(payload);
        sut.record(() => sut.messages.push({ endpoint: c, data, isText: event.isText as boolean }));
        break;
      }
      case 'refused':
        sut.refusedSends.push(event.what as string);
        break;
      case 'origin': {
        const field = (key: string): string | undefined => (event[key] as string | undefined) ?? undefined;
        sut.record(() =>
          sut.origins.push({ origin: field('origin'), connection: field('connection'), upgrade: field('upgrade'), version: field('version') }),
        );
        break;
      }
    }
  }

  async settled(): Promise<void> {
    await this.control.sync();
  }

  async dispose(): Promise<void> {
    try {
      await this.control.retire(this.name, this.instance, 5000);
    } finally {
      this.unsubscribe();
    }
  }
}

/** Stop every server still running (afterEach). */
export async function disposeServers(): Promise<void> {
  const servers = [...live];
  await Promise.all(servers.map((s) => s.dispose()));
}

// --- Raw TCP ------------------------------------------------------------------------

const sockets = new Set<net.Socket>();

/** A plain TCP connection to 127.0.0.1:port (destroyed by destroySockets()). */
export function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    sockets.add(socket);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export function destroySockets(): void {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
}

export function upgradeRequest(port: number, extraHeaders: Record<string, string> = {}): string {
  let head =
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`;
  for (const [name, value] of Object.entries(extraHeaders)) head += `${name}: ${value}\r\n`;
  return head + '\r\n';
}

/** The accept value for the sample nonce of RFC 6455 section 1.3. */
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * Write an upgrade request and read the response head. The socket is paused once the
 * head is complete; bytes read after the head are returned in `rest`.
 */
export function readResponseHead(socket: net.Socket, request: string | Buffer): Promise<{ head: string; rest: Buffer; at: number }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ head: buffer.subarray(0, end + 4).toString('latin1'), rest: buffer.subarray(end + 4), at: performance.now() });
    };
    const onClose = (): void => reject(new Error(`closed before a response head: ${JSON.stringify(buffer.toString('latin1'))}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
  });
}

/** Resume a socket and gather everything it receives until the peer closes it. */
export function readUntilClosed(socket: net.Socket, timeoutMs = 5000 * WAIT_SCALE): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => (ended = true));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), ended });
    });
    if (socket.destroyed) {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), ended });
      return;
    }
    socket.resume();
  });
}

export interface WireFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Decode whole frames (as a server sends them, or masked) from `data`. */
export function decodeFrames(data: Buffer): { frames: WireFrame[]; rest: Buffer } {
  const frames: WireFrame[] = [];
  let at = 0;
  for (;;) {
    if (data.length - at < 2) break;
    const b0 = data[at]!;
    const b1 = data[at + 1]!;
    let length = b1 & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (data.length - at < 4) break;
      length = data.readUInt16BE(at + 2);
      offset += 2;
    } else if (length === 127) {
      if (data.length - at < 10) break;
      length = Number(data.readBigUInt64BE(at + 2));
      offset += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? data.subarray(offset, offset + 4) : null;
    if (masked) offset += 4;
    if (data.length < offset + length) break;
    const payload = Buffer.from(data.subarray(offset, offset + length));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, payload });
    at = offset + length;
  }
  return { frames, rest: data.subarray(at) };
}

/** A masked client frame (mask key fixed for reproducibility). */
export function clientFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const key = [0x12, 0x34, 0x56, 0x78];
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0, 0x80 | n]) : n < 65536 ? Buffer.from([0, 0x80 | 126, n >> 8, n & 0xff]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([head, Buffer.from(key), body]);
}

/** A FIFO of values delivered by events, awaited one at a time with a timeout. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiting: { resolve: (v: T) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }[] = [];

  push(item: T): void {
    const w = this.waiting.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(item);
    } else this.items.push(item);
  }

  get size(): number {
    return this.items.length;
  }

  next(what = 'item', timeoutMs = 5000 * WAIT_SCALE): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      this.waiting.push(entry);
    });
  }

  async take(count: number, what = 'item', timeoutMs = 5000 * WAIT_SCALE): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(`${what} #${i}`, timeoutMs));
    return out;
  }
}

/** Resume a socket and read until `count` whole frames arrived (starting with `initial` bytes). */
export function readFrames(socket: net.Socket, initial: Buffer, count: number, timeoutMs = 5000 * WAIT_SCALE): Promise<WireFrame[]> {
  return new Promise((resolve, reject) => {
    let buffer = initial;
    const check = (): boolean => {
      const { frames } = decodeFrames(buffer);
      if (frames.length < count) return false;
      cleanup();
      socket.pause();
      resolve(frames.slice(0, count));
      return true;
    };
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      check();
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`closed after ${decodeFrames(buffer).frames.length} of ${count} frames`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${count} frames`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    if (check()) return;
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}
