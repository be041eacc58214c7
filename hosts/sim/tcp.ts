// `embedded:io/socket/tcp` for the Node simulator: the ECMA-419 TCP socket as Moddable
// implements it (modules/io/socket/lwip/tcp.c on ESP32, lin/tcp.c on Linux), written
// over node:net. The point is that the code shipped to the device runs unchanged on
// Node, so what an app may observe follows the device, not Node:
//
// - Callbacks run with `this` = the instance, always from a fresh macrotask
//   (setImmediate), never from inside the constructor or a method. Triggers that
//   happen before a delivery runs are merged into one delivery, which calls, in the
//   lwip order: onReadable(total bytes readable), then onWritable(bytes writable) or,
//   once the connection is gone and nothing is left to read, onError().
// - Receive window: at most `recvWindow` (SIM_TCP_RECV_WINDOW, 65536) unread bytes
//   are held; beyond that the Node socket is paused (the excess is pushed back into
//   the stream, so the bound is exact) and the kernel's window closes on the peer.
//   Reading below the window resumes it. onReadable is called only when new bytes
//   arrive, never again for bytes the app left unread.
// - Send buffer: `sendBuffer` (SIM_TCP_SEND_BUFFER, 8192) bytes. writable =
//   sendBuffer - bytes given to write() whose Node write callback has not run yet
//   (bytes not yet in the kernel; within one synchronous run of code successive writes
//   consume the budget, as lwip's tcp_sndbuf does). A write larger than that throws
//   Error('would block') and writes nothing. After a write completes, onWritable
//   reports the space again.
// - onError (no argument; from hosts/sim/tls.ts, a failed TLS handshake's Error) once
//   the peer goes away for any reason (FIN, RST, connect failure), but only when no
//   readable bytes are left: if bytes are pending it comes after the read that empties
//   the buffer (never, if the app never reads them).
//   It is delivered exactly once. From the moment the connection is known to be gone,
//   write() throws Error('not ready') (as lwip, also before the connection is
//   established); read() still returns what is left, then undefined.
// - close(): no callback runs afterwards; every method but close() then throws a
//   SyntaxError (XS: "no host data"). Bytes already accepted by write() are still
//   flushed before the socket is destroyed (as close(2) and lwip's tcp_close do);
//   there is no lingering half-close waiting for the peer.
//
// Non-standard extras for tests: options `sendBuffer` and `recvWindow`.

import net from 'node:net';
import type DeclaredTCP from 'embedded:io/socket/tcp';
import type { BufferSource, TCPOptions } from 'embedded:io/socket/tcp';

export interface SimTCPOptions extends TCPOptions {
  /** Non-standard: bytes the emulated send buffer holds (default SIM_TCP_SEND_BUFFER or 8192). */
  sendBuffer?: number;
  /** Non-standard: unread bytes held before the receive window closes (default SIM_TCP_RECV_WINDOW or 65536). */
  recvWindow?: number;
}

const READABLE = 1;
const WRITABLE = 2;
const ERROR = 4;

export const DEFAULT_SEND_BUFFER = 8192;
export const DEFAULT_RECV_WINDOW = 65536;

function sizeOption(value: unknown, env: string, fallback: number, name: string): number {
  let source = value;
  if (source === undefined) {
    const text = process.env[env];
    if (text === undefined || text === '') return fallback;
    source = Number(text);
  }
  if (typeof source !== 'number' || !Number.isInteger(source) || source < 1) {
    throw new RangeError(`invalid ${name}: ${String(value === undefined ? process.env[env] : value)}`);
  }
  return source;
}

function noop(): void {}

function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/** What SimTCP.dial() opens. */
export interface Dialled {
  socket: net.Socket;
  /** The event after which the socket is writable. Default 'connect'. */
  ready?: 'connect' | 'secureConnect';
  /** What onError reports for an 'error' of the socket (undefined: nothing). */
  describeFailure?: (error: Error) => unknown;
}

/** The native half of a socket: what moves from one instance to another with `from`. */
class Conn {
  owner: SimTCP | null = null;
  socket: net.Socket | null;
  format: 'buffer' | 'number' = 'buffer';
  onReadable: TCPOptions['onReadable'];
  onWritable: TCPOptions['onWritable'];
  onError: TCPOptions['onError'];

  connected = false;
  gone = false;
  errorDelivered = false;
  closed = false;
  /** What onError reports (a TLS socket's handshake failure), else nothing. */
  failure: unknown = undefined;
  /** Turns the socket's 'error' into what onError reports (TLS: the handshake's reason). */
  describeFailure: ((error: Error) => unknown) | null = null;

  chunks: Buffer[] = [];
  head = 0;
  readable = 0;
  paused = false;

  outstanding = 0;
  sendBuffer: number;
  recvWindow: number;

  triggered = 0;
  immediate: ReturnType<typeof setImmediate> | null = null;

  remoteAddress: string | undefined;
  remotePort: number | undefined;

  constructor(socket: net.Socket, sendBuffer: number, recvWindow: number) {
    this.socket = socket;
    this.sendBuffer = sendBuffer;
    this.recvWindow = recvWindow;
    socket.on('data', this.#onData);
    socket.on('end', this.#onGone);
    socket.on('error', this.#onError);
    socket.on('close', this.#onGone);
  }

  /** An accepted socket (already connected); `pauseOnConnect` sockets are resumed here. */
  adopt(): void {
    const socket = this.socket!;
    this.connected = true;
    this.#notePeer();
    if (socket.destroyed) this.#onGone();
    else socket.resume();
  }

  /** An outgoing connection: ready on 'connect' (a TLS socket: 'secureConnect'). */
  connecting(ready: 'connect' | 'secureConnect' = 'connect'): void {
    this.socket!.once(ready, () => {
      if (this.closed || this.gone) return;
      this.connected = true;
      this.#notePeer();
      this.trigger(WRITABLE);
    });
  }

  #notePeer(): void {
    const socket = this.socket!;
    this.remoteAddress = plainAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort;
  }

  #onData = (chunk: Buffer): void => {
    if (this.closed) return;
    const room = this.recvWindow - this.readable;
    if (chunk.length > room) {
      // The window is full: hold the excess in the stream (where it counts against
      // Node's highWaterMark, so Node stops reading and the kernel's window closes).
      this.socket!.pause();
      this.paused = true;
      this.socket!.unshift(room > 0 ? chunk.subarray(room) : chunk);
      if (room <= 0) return;
      chunk = chunk.subarray(0, room);
    }
    this.chunks.push(chunk);
    this.readable += chunk.length;
    this.trigger(READABLE);
  };

  #onError = (error: Error): void => {
    if (this.closed || this.gone) return;
    if (this.describeFailure) this.failure = this.describeFailure(error);
    this.#onGone();
  };

  #onGone = (): void => {
    if (this.closed || this.gone) return;
    this.gone = true;
    this.trigger(ERROR);
  };

  get ready(): boolean {
    return this.connected && !this.gone;
  }

  get writable(): number {
    return this.ready ? Math.max(0, this.sendBuffer - this.outstanding) : 0;
  }

  trigger(what: number): void {
    if (this.closed || !this.owner) return;
    this.triggered |= what;
    if (!this.immediate) this.immediate = setImmediate(this.#deliver);
  }

  #deliver = (): void => {
    this.immediate = null;
    const owner = this.owner;
    if (this.closed || !owner) return;
    const triggered = this.triggered;
    this.triggered = 0;
    if (triggered & READABLE && this.readable > 0 && this.onReadable) {
      this.onReadable.call(owner, this.readable);
      if (this.closed || this.owner !== owner) return;
    }
    if (this.gone) {
      if (this.readable === 0 && !this.errorDelivered && this.onError) {
        this.errorDelivered = true;
        if (this.failure === undefined) this.onError.call(owner);
        else this.onError.call(owner, this.failure);
      }
    } else if (triggered & WRITABLE && this.onWritable) {
      const writable = this.writable;
      if (writable > 0) this.onWritable.call(owner, writable);
    }
  };

  read(args: unknown[]): ArrayBuffer | number | undefined {
    if (this.readable === 0) return undefined;
    if (this.format === 'number') {
      const out = new Uint8Array(1);
      this.#take(out, 1);
      return out[0];
    }
    let requested: number;
    let out: Uint8Array | null = null;
    const arg = args[0];
    if (args.length === 0) requested = this.readable;
    else if (typeof arg === 'object' && arg !== null) {
      if (arg instanceof ArrayBuffer) out = new Uint8Array(arg);
      else if (ArrayBuffer.isView(arg)) out = new Uint8Array(arg.buffer, arg.byteOffset, arg.byteLength);
      else throw new TypeError('invalid buffer');
      requested = out.length;
    } else requested = Math.trunc(Number(arg)) || 0;
    if (requested <= 0 || requested > this.readable) throw new Error('invalid');
    if (out) {
      this.#take(out, requested);
      return requested;
    }
    const result = new ArrayBuffer(requested);
    this.#take(new Uint8Array(result), requested);
    return result;
  }

  #take(out: Uint8Array, count: number): void {
    let offset = 0;
    while (offset < count) {
      const chunk = this.chunks[0]!;
      const use = Math.min(count - offset, chunk.length - this.head);
      out.set(chunk.subarray(this.head, this.head + use), offset);
      offset += use;
      this.head += use;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.readable -= count;
    if (this.readable === 0 && this.gone) this.trigger(ERROR);
    if (this.paused && this.readable < this.recvWindow && this.socket && !this.socket.destroyed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Returns the space left, as Moddable's sockets do (they return nothing when the write failed). */
  write(data: unknown): number {
    if (!this.ready) throw new Error('not ready');
    let bytes: Buffer;
    if (this.format === 'number') bytes = Buffer.from([Number(data) & 0xff]);
    else if (data instanceof ArrayBuffer) bytes = Buffer.from(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) bytes = Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else throw new TypeError('invalid buffer');
    if (bytes.length > this.writable) throw new Error('would block');
    if (bytes.length === 0) return this.writable;
    const count = bytes.length;
    this.outstanding += count;
    this.socket!.write(bytes, (error) => {
      this.outstanding -= count;
      if (!error) this.trigger(WRITABLE);
    });
    return this.writable;
  }

  /** Stop all callbacks and let go of the socket (flushing accepted writes first). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner = null;
    this.triggered = 0;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    this.chunks = [];
    this.readable = 0;
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onGone);
    socket.removeListener('error', this.#onGone);
    socket.removeListener('close', this.#onGone);
    socket.on('error', noop);
    if (socket.destroyed) return;
    if (socket.connecting || socket.writableLength === 0) {
      socket.destroy();
      return;
    }
    // Hand what write() accepted to the kernel, then close: no waiting for the peer.
    socket.resume();
    socket.end(() => socket.destroy());
    socket.once('close', () => socket.destroy());
    socket.unref();
    setTimeout(() => socket.destroy(), 10_000).unref();
  }
}

const instances = new WeakMap<SimTCP, Conn>();

function live(tcp: SimTCP): Conn {
  const conn = instances.get(tcp);
  if (!conn || conn.closed) throw new SyntaxError('TCP: closed (no host data)');
  return conn;
}

/** Set by the constructor from a module-private token: an accepted socket for Listener. */
let accepting: net.Socket | null = null;

export default class SimTCP {
  constructor(options: SimTCPOptions) {
    const accepted = accepting;
    accepting = null;
    if (accepted) {
      // Listener.read(): connected, no callbacks, buffers what arrives.
      const conn = new Conn(accepted, sizeOption(undefined, 'SIM_TCP_SEND_BUFFER', DEFAULT_SEND_BUFFER, 'sendBuffer'),
        sizeOption(undefined, 'SIM_TCP_RECV_WINDOW', DEFAULT_RECV_WINDOW, 'recvWindow'));
      conn.owner = this;
      instances.set(this, conn);
      conn.adopt();
      return;
    }
    if (typeof options !== 'object' || options === null) throw new TypeError('TCP: options required');

    const format = options.format ?? 'buffer';
    if (format !== 'buffer' && format !== 'number') throw new RangeError('unimplemented');
    const callback = <T>(name: 'onReadable' | 'onWritable' | 'onError'): T | undefined => {
      const fn = options[name];
      if (fn === undefined || fn === null) return undefined;
      if (typeof fn !== 'function') throw new TypeError(`${name} must be a function`);
      return fn as T;
    };
    const onReadable = callback<Conn['onReadable']>('onReadable');
    const onWritable = callback<Conn['onWritable']>('onWritable');
    const onError = callback<Conn['onError']>('onError');

    let conn: Conn;
    if ('from' in options && options.from !== undefined) {
      const from: unknown = options.from;
      const old = from instanceof SimTCP ? instances.get(from) : undefined;
      if (!old || old.closed || !old.socket || !(from instanceof SimTCP)) throw new Error('invalid from');
      conn = old;
      if (options.sendBuffer !== undefined) conn.sendBuffer = sizeOption(options.sendBuffer, '', 0, 'sendBuffer');
      if (options.recvWindow !== undefined) conn.recvWindow = sizeOption(options.recvWindow, '', 0, 'recvWindow');
      instances.delete(from);
      if (conn.immediate) clearImmediate(conn.immediate);
      conn.immediate = null;
      conn.triggered = 0;
      if (options.nodelay !== undefined && conn.socket && !conn.socket.destroyed) conn.socket.setNoDelay(!!options.nodelay);
    } else {
      const address = String(options.address);
      if (!net.isIPv4(address)) throw new Error('invalid address');
      const port = options.port;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new RangeError('invalid port');
      }
      const sendBuffer = sizeOption(options.sendBuffer, 'SIM_TCP_SEND_BUFFER', DEFAULT_SEND_BUFFER, 'sendBuffer');
      const recvWindow = sizeOption(options.recvWindow, 'SIM_TCP_RECV_WINDOW', DEFAULT_RECV_WINDOW, 'recvWindow');
      if (port === 0) {
        // Node refuses port 0 synchronously; the device's connect just fails.
        conn = new Conn(new net.Socket(), sendBuffer, recvWindow);
        conn.gone = true;
      } else {
        const dialled = this.dial(address, port, options);
        conn = new Conn(dialled.socket, sendBuffer, recvWindow);
        conn.describeFailure = dialled.describeFailure ?? null;
        conn.connecting(dialled.ready);
      }
    }

    conn.format = format;
    conn.onReadable = onReadable;
    conn.onWritable = onWritable;
    conn.onError = onError;
    conn.owner = this;
    instances.set(this, conn);

    if (conn.readable > 0) conn.triggered |= READABLE;
    if (conn.ready) conn.triggered |= WRITABLE;
    if (conn.gone) conn.triggered |= ERROR;
    if (conn.triggered) conn.trigger(0);
  }

  /**
   * The outgoing connection, the event on which it is ready, and what its errors report
   * (hosts/sim/tls.ts overrides it: TLS over it). Called by the constructor.
   */
  protected dial(address: string, port: number, options: SimTCPOptions): Dialled {
    return { socket: net.connect({ host: address, port, family: 4, noDelay: options.nodelay === true }) };
  }

  read(): ArrayBuffer | undefined;
  read(count: number): ArrayBuffer | undefined;
  read(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
  read(...args: unknown[]): ArrayBuffer | number | undefined {
    return live(this).read(args);
  }

  write(data: BufferSource | number): void {
    live(this).write(data);
  }

  close(): void {
    const conn = instances.get(this);
    if (!conn) return;
    instances.delete(this);
    conn.close();
  }

  get format(): 'buffer' | 'number' {
    return live(this).format;
  }

  set format(value: 'buffer' | 'number') {
    if (value !== 'buffer' && value !== 'number') throw new RangeError('unimplemented');
    live(this).format = value;
  }

  get remoteAddress(): string | undefined {
    return live(this).remoteAddress;
  }

  get remotePort(): number | undefined {
    return live(this).remotePort;
  }
}

/** For hosts/sim/listener.ts: wrap an accepted (pauseOnConnect) socket as Listener.read() does. */
export function acceptedTCP(socket: net.Socket): SimTCP {
  accepting = socket;
  try {
    return new SimTCP(undefined as unknown as SimTCPOptions);
  } finally {
    accepting = null;
  }
}

/** Compile-time check that the simulator matches hosts/typings/embedded-io.d.ts. */
export type Conformance = [typeof SimTCP] extends [typeof DeclaredTCP] ? true : never;
const conforms: Conformance = true;
void conforms;
