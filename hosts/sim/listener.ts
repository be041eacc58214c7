// `embedded:io/socket/listener` for the Node simulator, after Moddable's lwip and lin
// listeners:
// - Binds synchronously, so a bind failure throws from the constructor
//   (Error('socket bind')) and the non-standard `port` property is valid at once
//   (port 0 picks an ephemeral port). `address` defaults to 127.0.0.1 on the
//   simulator: it never binds all interfaces unless asked to ('0.0.0.0').
// - Accepted connections wait in a queue without being read (as lwip refuses their
//   data until accepted); onReadable(total pending) is called asynchronously with
//   `this` = the listener, once per batch of new connections.
// - read() returns the oldest pending connection as a TCP instance without callbacks,
//   already connected, which buffers what arrives until `new TCP({from})` takes it
//   over; with nothing pending it returns undefined.
// - close() stops listening and drops the connections not yet read; no callback runs
//   afterwards, and read() then throws a SyntaxError (XS: "no host data").
// - onError() is called if the listening socket fails after it was bound.

import net from 'node:net';
import type DeclaredListener from 'embedded:io/socket/listener';
import SimTCP, { acceptedTCP } from './tcp';

export interface SimListenerOptions {
  port?: number;
  address?: string;
  onReadable?: (this: SimListener, requests: number) => void;
  onError?: (this: SimListener, error?: unknown) => void;
}

function noop(): void {}

/** Node's synchronous listen (setupListenHandle, still exported as the legacy `_listen2`). */
type Listen2 = (address: string, port: number, addressType: number, backlog: number, fd?: number, flags?: number) => void;

export default class SimListener {
  #server: net.Server | null;
  #pending: net.Socket[] = [];
  #onReadable: ((this: SimListener, requests: number) => void) | undefined;
  #onError: ((this: SimListener, error?: unknown) => void) | undefined;
  #immediate: ReturnType<typeof setImmediate> | null = null;
  #readable = false;
  #failed = false;
  #port: number | undefined;

  constructor(options: SimListenerOptions = {}) {
    let port = 0;
    if (options.port !== undefined) {
      port = options.port;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new RangeError('invalid port');
      }
    }
    const address = options.address === undefined ? '127.0.0.1' : String(options.address);
    const family = net.isIP(address);
    if (!family) throw new Error('invalid address');
    for (const name of ['onReadable', 'onError'] as const) {
      const fn = options[name];
      if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`${name} must be a function`);
    }
    this.#onReadable = options.onReadable;
    this.#onError = options.onError;

    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: false });
    this.#server = server;
    server.on('connection', (socket) => {
      if (this.#server !== server) {
        socket.destroy();
        return;
      }
      socket.on('error', noop);
      this.#pending.push(socket);
      this.#readable = true;
      this.#schedule();
    });
    server.on('error', () => {
      if (this.#server !== server) return;
      this.#failed = true;
      this.#schedule();
    });

    const listen2 = (server as unknown as { _listen2?: Listen2 })._listen2;
    if (typeof listen2 === 'function') {
      listen2.call(server, address, port, family, 511);
      if (!server.listening) {
        // The bind error is emitted on the next tick; the device throws here.
        this.#server = null;
        server.close();
        throw new Error('socket bind');
      }
      this.#port = (server.address() as net.AddressInfo).port;
    } else {
      // Fallback for a Node without _listen2: bound after a tick, errors go to onError.
      server.listen({ port, host: address }, () => {
        if (this.#server === server) this.#port = (server.address() as net.AddressInfo).port;
      });
    }
  }

  #schedule(): void {
    if (!this.#immediate) this.#immediate = setImmediate(this.#deliver);
  }

  #deliver = (): void => {
    this.#immediate = null;
    if (!this.#server) return;
    if (this.#readable) {
      this.#readable = false;
      if (this.#pending.length > 0 && this.#onReadable) this.#onReadable.call(this, this.#pending.length);
    }
    if (this.#failed && this.#server) {
      this.#failed = false;
      if (this.#onError) this.#onError.call(this);
      else throw new Error('listener failed');
    }
  };

  read(): SimTCP | undefined {
    if (!this.#server) throw new SyntaxError('Listener: closed (no host data)');
    const socket = this.#pending.shift();
    if (!socket) return undefined;
    socket.removeListener('error', noop);
    return acceptedTCP(socket);
  }

  close(): void {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = null;
    server.close();
    for (const socket of this.#pending) socket.destroy();
    this.#pending = [];
  }

  /** Non-standard (Moddable lin/lwip have it too): the bound port. */
  get port(): number | undefined {
    return this.#port;
  }

  get format(): string {
    return 'socket/tcp';
  }

  set format(value: string) {
    if (value !== 'socket/tcp') throw new RangeError('unimplemented');
  }
}

/** Compile-time check that the simulator matches hosts/typings/embedded-io.d.ts. */
export type Conformance = [typeof SimListener] extends [typeof DeclaredListener] ? true : never;
const conforms: Conformance = true;
void conforms;
