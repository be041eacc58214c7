// HttpServer: a small, strict HTTP/1.1 server for static files, tiny dynamic endpoints
// (GET, and POST with a small body) and the WebSocket upgrade hand-off, on ECMA-419
// sockets (the same `embedded:io/socket/tcp`, `embedded:io/socket/listener` and `timer`
// default exports as socket-link.ts), so it runs unchanged on the ESP32, in the Moddable
// simulator and on Node through hosts/sim. This file listens, pools connection buffers
// and refuses (503) beyond maxConnections; ./http-connection.ts binds one socket to the
// sans-IO request reader and response writer of src/http, where the parsing, validation
// and response decisions live (their headers list them).
//
// Memory per connection (fixed, allocated once per connection slot and reused through
// a pool of at most maxConnections sets, so a steady server allocates no buffers):
//   read buffer   readBufferSize bytes (default 512): bytes per read(), and the bytes
//                 of pipelined requests waiting while a response is being sent;
//   head buffer   maxHeaderSize bytes (default 2048): the request head while it is
//                 read, then (once parsed into strings) a POST's body (at most
//                 maxBodySize <= maxHeaderSize) until its route has run, then the
//                 response head and short error bodies while they are written; the
//                 path is percent-decoded in place there too. Bodies cost no buffer.
//   => 2,560 bytes of buffers per connection at the defaults (10,240 for 4), plus the
//   connection, its reader and writer and one Timer (the socket's callbacks are shared
//   functions, net/socket-owner.ts): 80 XS slots per idle keep-alive connection (the
//   fake socket object included), measured under xsnap (test/http/xs.test.ts holds it
//   to that budget; 32-byte slots there, 16 on the ESP32). Reading bodies added none.
//   A rejected (503) connection holds only a 64-byte scratch buffer for <= 2 s.
//   Per request, transient: the head text, the header map and its values, the
//   decoded path, a POST's body view; a route's body string/bytes.
// Bodies are streamed: each onWritable writes at most its count of bytes, taken from
// StaticEntry.body(start, end) (a flash view on the device). Only the first piece may
// be copied, into the head buffer behind the head (when body() gives plain bytes), so
// a small response leaves in one write; the socket is opened with nodelay.
//
// Behaviour (decisions):
// - GET and HEAD, and POST when maxBodySize > 0 (others: 405, "Allow: GET, HEAD" or
//   "Allow: GET, HEAD, POST", close); limits, versions, bodies and paths: see
//   src/http/request-reader.ts; static files, gzip, ETags and routes: see
//   src/http/static-response.ts.
// - POST bodies: Content-Length bytes (none: an empty body), at most maxBodySize, read
//   whole before the route runs; over the limit -> 413 at once without reading the body,
//   Transfer-Encoding (chunked) -> 411, both closing. "Expect: 100-continue" is ignored
//   (no interim 100: the client sends the body after its own wait; an over-limit one
//   gets 413 from the head alone). A POST to a path that is no route -> 405 "Allow: GET,
//   HEAD" after its body was read (the connection stays open).
// - HTTP/1.1 keeps the connection alive unless "Connection: close"; requests pipelined
//   on one connection are answered in order, one at a time (input is not read while a
//   response is being written, so TCP itself holds the client back). HTTP/1.0 is
//   served (GET, HEAD, POST) but the connection is always closed after the response;
//   an HTTP/1.0 upgrade is refused with 400, as a HEAD or POST one.
// - Every error response (400, 405, 408, 411, 413, 414, 431, 505, and refused upgrades)
//   carries "Connection: close" and the connection is closed after it; 404, 406, 304,
//   a route's 500 and a POST's 405 at a path that is no route keep a well-formed
//   HTTP/1.1 connection alive. When the client may still be sending (411, 413, 414,
//   431, 405 with a body, 400 before a POST's body, or unread bytes), the server reads
//   and discards input for up to 1 s after the response before it closes, so the close
//   does not reset the connection under the response.
// - A request (head, and a POST's body) not complete within requestTimeout of its first
//   byte -> 408. A keep-alive connection idle for idleTimeout (also a new connection
//   that sends nothing) is closed without a response. While a response is written, a
//   client that accepts no bytes for idleTimeout is dropped. 0 disables either timeout.
// - Routes: `(request) => ({ status, contentType, body, headers })`, called for GET,
//   HEAD (only the headers are sent) and POST (request.body, a view valid during the
//   call only), checked before the store by the exact decoded path; a route answers 405
//   itself to a method it does not take (methodNotAllowed); an exception or a malformed
//   response -> 500 and an 'error' event; the connection keeps working.
// - WebSocket: a GET at websocket.path (before "?") with "Upgrade: websocket" is given
//   to websocket.server.addWebSocket(socket, request, rest), rest being the bytes
//   already read after the head (the start of the first frame; bytes not yet read
//   stay in the socket for the new owner). The HTTP server then forgets the socket and
//   its timer. The WebSocketServer (isStandAlone: false) must use the same path as
//   its prefix; it answers the handshake itself (101, or 400/403/426/503 and close).
//   "Upgrade: websocket" on any other path (or without a websocket option) -> 404 and
//   close. Other Upgrade tokens (h2c...) are ignored, as RFC 7230 6.7 allows.
// - At maxConnections, a newcomer takes the slot of the worst stalled connection: the
//   request head in progress longest (slowloris: a head trickling in holds a slot for
//   nothing; browsers send a head at once; a POST's body in progress counts as its
//   head), then one silent for over 1 s since it
//   connected, then (evictIdle) the longest-idle keep-alive one. If none stalls, and one
//   address holds more than one slot more than the newcomer's, its newest silent
//   connection makes room (a host reconnecting just before each connection would count
//   as silent cannot hold every slot). Else the newcomer waits, up to 250 ms, for a slot
//   to free or a connection to become evictable (one just opened cannot be judged until
//   its first bytes are read: the Moddable simulator polls its sockets every 20 ms), then
//   gets 503 (Retry-After: 5) and is closed after its request was read (bounded in size,
//   and to 2 s). At most maxConnections wait, at most half of them from one address, and
//   a newcomer finding the line full takes the place of the newest waiter of an address
//   holding more than one place more than its own (a host reconnecting as fast as it is
//   dropped cannot fill the line); else 503 at once.
// - Events: 'request' (method, path, status) once per response sent, for logging
//   (method and path are '' when the head could not be parsed: 408, 414, 431, 400...;
//   status 101 for a hand-off that opened, 0 when the WebSocketServer refused it);
//   'error' for route and store exceptions, rejected (503) connections and stalled
//   clients. Listener exceptions never reach the socket callbacks.

import { refuse } from './reject';
import type Listener from 'embedded:io/socket/listener';
import { boundPort, closeListener, listen } from './listen';
import TCP from 'embedded:io/socket/tcp';
import Timer from 'timer';
import { Emitter } from './emitter';
import { HttpConnection, STALL_FRESH, STALL_IDLE, STALL_NONE } from './http-connection';
import { platformNow } from './platform';
import type { HttpBuffers } from './http-connection';
import { closeSocket } from './socket-owner';
import { latin1Bytes } from '../http/head';
import { checkFieldValue } from '../http/response-writer';
import type { RouteHandler } from '../http/static-response';
import type { StaticStore } from '../http/static-store';
import type { WebSocketServer } from './server';

import type { HttpRequest } from '../http/request-reader';
export type { HttpRequest } from '../http/request-reader';
export type { RouteHandler, RouteResponse } from '../http/static-response';
export { acceptsGzip, etagMatches, methodNotAllowed } from '../http/static-response';

export interface HttpServerOptions {
  /** Listening port. Default 80 (0: an ephemeral port where the host supports it). */
  port?: number;
  /** Interface to bind. Host default (hosts/sim: 127.0.0.1). */
  address?: string;
  /**
   * Open connections at most. When full, a newcomer takes the slot of a connection that
   * stalls (the oldest request head still arriving, then one silent for over 1 s since it
   * connected, then, with evictIdle, the longest-idle one), else the newest silent one of
   * an address holding more than one slot more than the newcomer's; if none, it waits up
   * to 250 ms for one, then gets 503. Default 4.
   */
  maxConnections?: number;
  /**
   * When full, also close the longest-idle keep-alive connection (one between requests,
   * with nothing to send) to make room. Browsers keep idle connections open for a page's
   * lifetime, so without this a few pages can lock everyone else out for idleTimeout.
   * Default false.
   */
  evictIdle?: boolean;
  /** Longest request line in bytes, without CRLF (414 beyond). Default 512. */
  maxRequestLine?: number;
  /** Largest request head in bytes, with its final blank line (431 beyond); also the response head limit. Default 2048. */
  maxHeaderSize?: number;
  /** Most header fields in a request (431 beyond). Default 32. */
  maxHeaders?: number;
  /**
   * Largest POST body in bytes (Content-Length; 413 beyond, chunked bodies 411). A body is
   * read into the connection's head buffer, so at most maxHeaderSize (else the
   * constructor throws a RangeError). Default 0: no bodies, POST gets 405 as other methods.
   */
  maxBodySize?: number;
  /** Close a keep-alive connection idle this long (ms), silently; also bounds a stalled response. 0: never. Default 10000. */
  idleTimeout?: number;
  /** A request (its head, and a POST's body) must be complete within this (ms) of its first byte, else 408. 0: never. Default 5000. */
  requestTimeout?: number;
  /** Server header value (none by default). */
  serverName?: string;
  /**
   * The host names this server answers for, given the Host header's name (lower-case, no
   * port: "192.168.1.20", "atom-led.local", "[::1]"); any other Host, or none, gets 421
   * and close, for pages and WebSocket upgrades alike. Without it any Host is served,
   * which lets a DNS-rebinding page (a site whose name the attacker re-points at this
   * device) read and drive it. Default: none (any Host).
   */
  allowHost?: (name: string) => boolean;
  /** Static files. */
  store?: StaticStore;
  /** Dynamic GET/HEAD (and, with maxBodySize, POST) endpoints by exact (decoded) path; checked before the store. */
  routes?: Readonly<Record<string, RouteHandler>>;
  /** WebSocket upgrades at `path` go to `server` (created with isStandAlone: false and prefix: path). */
  websocket?: { path: string; server: WebSocketServer };
  /** Bytes per read() (and pipelined bytes held) per connection. Default 512. */
  readBufferSize?: number;
}

export interface HttpServerEvents {
  /** One per response sent (logging). */
  request: (method: string, path: string, status: number) => void;
  error: (error: Error) => void;
}

/** A rejected (503) connection may take this long to send its request (ms). */
const REJECT_LINGER = 2000;
/**
 * A newcomer that finds the server full and no connection to evict waits this long (ms)
 * for one, checked every WAIT_POLL ms, before it gets 503: a connection just opened whose
 * first bytes are not read yet (the Moddable simulator polls its sockets every 20 ms)
 * cannot be judged, but will be a moment later; a slowloris reconnecting as fast as it
 * is dropped keeps every slot that fresh.
 */
const WAIT_LIMIT = 250;
/**
 * A fresh connection is taken for a silent slot holder (evictFresh) only once it is this
 * old (ms): a client whose request is still on its way (not yet read: the Moddable
 * simulator polls every 20 ms) is not reset under it.
 */
const FRESH_MIN = 200;
const WAIT_POLL = 25;

export class HttpServer extends Emitter<HttpServerEvents> {
  /** @internal */ readonly options: HttpServerOptions;
  /** @internal */ readonly maxHeaderSize: number;
  /** @internal */ readonly maxRequestLine: number;
  /** @internal */ readonly maxHeaders: number;
  /** @internal */ readonly maxBodySize: number;
  /** @internal */ readonly idleTimeout: number;
  /** @internal */ readonly requestTimeout: number;
  private readonly readBufferSize: number;
  private readonly connections = new Set<HttpConnection>();
  private readonly pool: HttpBuffers[] = [];
  private listener: Listener | null = null;
  private rejectResponse: Uint8Array | null = null;
  /** Newcomers waiting for a slot (at most maxConnections), oldest first, and when each came. */
  private readonly waiting: TCP[] = [];
  private readonly waitingSince: number[] = [];
  private waitTimer: ReturnType<typeof Timer.repeat> | null = null;

  constructor(options: HttpServerOptions = {}) {
    super();
    this.options = options;
    this.maxHeaderSize = options.maxHeaderSize ?? 2048;
    this.maxRequestLine = options.maxRequestLine ?? 512;
    this.maxHeaders = options.maxHeaders ?? 32;
    this.maxBodySize = options.maxBodySize ?? 0;
    this.idleTimeout = options.idleTimeout ?? 10000;
    this.requestTimeout = options.requestTimeout ?? 5000;
    this.readBufferSize = options.readBufferSize ?? 512;
    if (this.maxHeaderSize < 256) throw new RangeError('maxHeaderSize must be at least 256');
    if (this.readBufferSize < 1) throw new RangeError('readBufferSize must be at least 1');
    if (!(this.maxBodySize >= 0)) throw new RangeError('maxBodySize must be at least 0');
    if (this.maxBodySize > this.maxHeaderSize) {
      throw new RangeError('maxBodySize must be at most maxHeaderSize (a body is read into the head buffer)');
    }
    if (options.serverName !== undefined) checkFieldValue('serverName', options.serverName);
  }

  /**
   * The port actually listened on where the host's listener reports it (hosts/sim: useful
   * with port 0); otherwise, and when not listening, the configured port (default 80).
   */
  get port(): number | undefined {
    return boundPort(this.listener, this.options.port ?? 80);
  }

  /** Open HTTP connections (not counting those handed to the WebSocket server). */
  get connectionsCount(): number {
    return this.connections.size;
  }

  start(): void {
    if (this.listener) return;
    this.listener = listen(this.options.port ?? 80, this.options.address, (socket) => this.accept(socket));
  }

  /** Stop listening and close every open connection at once. */
  stop(): void {
    if (this.listener) closeListener(this.listener);
    this.listener = null;
    for (const socket of this.waiting.splice(0)) closeSocket(socket);
    this.waitingSince.length = 0;
    this.stopWaiting();
    for (const connection of [...this.connections]) connection.destroy();
  }

  /** @internal */
  emitRequest(method: string, path: string, status: number): void {
    this.emit('request', method, path, status);
  }

  /** @internal */
  emitError(error: unknown): void {
    this.reportError(error);
  }

  /** @internal An upgrade at the WebSocket path, from a connection that forgot the socket. */
  handOff(socket: TCP, request: HttpRequest, rest: Uint8Array | undefined): void {
    let opened = false;
    try {
      opened = this.options.websocket!.server.addWebSocket(socket, request, rest);
    } catch (error) {
      this.reportError(error);
      closeSocket(socket);
    }
    this.emitRequest(request.method, request.path, opened ? 101 : 0);
  }

  /** @internal A connection is gone (closed or handed off). */
  release(connection: HttpConnection, buffers: HttpBuffers): void {
    if (!this.connections.delete(connection)) return;
    if (this.pool.length < (this.options.maxConnections ?? 4)) this.pool.push(buffers);
  }

  private accept(socket: TCP): void {
    const max = this.options.maxConnections ?? 4;
    if (!this.roomFor(socket)) {
      // Full, and no one to evict: wait for a slot. One address holds at most
      // half the line, and a full line gives the place of the newest waiter of the address
      // holding the most places to a newcomer from an address holding fewer: one host
      // reconnecting as fast as it is dropped cannot fill the line. Else 503 at once.
      const mine = this.waitingFrom(socket);
      if (mine >= Math.max(1, max >> 1) || (this.waiting.length >= max && !this.yieldPlace(mine))) {
        this.reject(socket);
        return;
      }
      this.waiting.push(socket);
      this.waitingSince.push(platformNow());
      this.waitTimer ??= Timer.repeat(() => this.admitWaiting(), WAIT_POLL);
      return;
    }
    this.open(socket);
  }

  /** How many of the waiting newcomers come from the address of `socket`. */
  private waitingFrom(socket: TCP): number {
    const from = addressOf(socket);
    let n = 0;
    for (let i = 0; i < this.waiting.length; i++) if (addressOf(this.waiting[i]) === from) n++;
    return n;
  }

  /**
   * The line is full: if an address holds more than one place more than `mine` (the
   * newcomer's), its newest waiter gets 503 and gives up its place. False if none does.
   */
  private yieldPlace(mine: number): boolean {
    let victim = -1;
    let most = mine + 1;
    for (let i = 0; i < this.waiting.length; i++) {
      const held = this.waitingFrom(this.waiting[i]);
      if (held > most || (held === most && victim >= 0)) {
        most = held;
        victim = i; // later index: newer
      }
    }
    if (victim < 0) return false;
    const [socket] = this.waiting.splice(victim, 1);
    this.waitingSince.splice(victim, 1);
    this.reject(socket);
    return true;
  }

  /** Room for one more connection: a free slot, or one made by evicting a stalled connection. */
  private roomFor(socket: TCP): boolean {
    return this.connections.size < (this.options.maxConnections ?? 4) || this.evictStalled() || this.evictFresh(socket);
  }

  /**
   * The wait timer: admit the waiting newcomers there is room for, oldest first (room may
   * exist for one and not another: evictFresh depends on the address); 503 to those
   * waiting too long.
   */
  private admitWaiting(): void {
    const now = platformNow();
    for (let i = 0; i < this.waiting.length; ) {
      const socket = this.waiting[i];
      const admit = this.roomFor(socket);
      if (admit || now - this.waitingSince[i] >= WAIT_LIMIT) {
        this.waiting.splice(i, 1);
        this.waitingSince.splice(i, 1);
        if (admit) this.open(socket);
        else this.reject(socket);
      } else i++;
    }
    if (this.waiting.length === 0) this.stopWaiting();
  }

  private stopWaiting(): void {
    if (this.waitTimer) Timer.clear(this.waitTimer);
    this.waitTimer = null;
  }

  private open(socket: TCP): void {
    const buffers = this.pool.pop() ?? { read: new Uint8Array(this.readBufferSize), head: new Uint8Array(this.maxHeaderSize) };
    const connection = new HttpConnection(this, buffers, this.options.serverName);
    this.connections.add(connection);
    try {
      connection.attach(socket);
    } catch (error) {
      this.release(connection, buffers);
      this.reportError(error);
    }
  }

  /**
   * Full: close the connection that stalls the worst to make room, false if none does:
   * first the request head in progress longest (a client trickling its head, slowloris,
   * would otherwise hold every slot: well-behaved clients send a head at once), then the
   * connection silent longest since it connected (after a grace), then, with evictIdle,
   * the longest-idle keep-alive connection.
   */
  private evictStalled(): boolean {
    let victim: HttpConnection | null = null;
    let worst = STALL_IDLE + 1;
    let since = Infinity;
    for (const connection of this.connections) {
      const stall = connection.stall;
      if (stall === STALL_NONE || stall === STALL_FRESH || (stall === STALL_IDLE && !this.options.evictIdle) || stall > worst) continue;
      const at = connection.stalledSince;
      if (stall < worst || at < since) {
        worst = stall;
        since = at;
        victim = connection;
      }
    }
    if (!victim) return false;
    victim.destroy();
    return true;
  }

  /**
   * Full, and nothing stalls: every slot is held by connections too fresh to judge. One
   * address may still not keep a newcomer from another out: if the address with the most
   * connections holds more than one more than the newcomer's, its newest fresh connection
   * at least FRESH_MIN old (the one with the least invested) makes room. Without this, a host that reconnects
   * silently just before each connection would count as stalled holds every slot for
   * as long as it likes. Runs only when full: at most maxConnections squared compares.
   */
  private evictFresh(newcomer: TCP): boolean {
    const from = addressOf(newcomer);
    let mine = 0;
    for (const connection of this.connections) if (connection.remoteAddress === from) mine++;
    let victim: HttpConnection | null = null;
    let most = mine + 1; // the victim's address must hold more than this
    let newest = -Infinity;
    const now = platformNow();
    for (const connection of this.connections) {
      if (connection.stall !== STALL_FRESH || now - connection.stalledSince < FRESH_MIN) continue;
      const address = connection.remoteAddress;
      let held = 0;
      for (const other of this.connections) if (other.remoteAddress === address) held++;
      // the address holding the most; among its connections, the newest
      if (held > most || (held === most && victim !== null && connection.stalledSince > newest)) {
        most = held;
        newest = connection.stalledSince;
        victim = connection;
      }
    }
    if (!victim) return false;
    victim.destroy();
    return true;
  }

  /**
   * Full: answer 503 and close. The request is read (and discarded) first, bounded in
   * size and time, so the close does not reset the connection under the response.
   */
  private reject(socket: TCP): void {
    const response = (this.rejectResponse ??= latin1Bytes(
      'HTTP/1.1 503 Service Unavailable\r\n' +
        (this.options.serverName !== undefined ? `Server: ${this.options.serverName}\r\n` : '') +
        'Connection: close\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nRetry-After: 5\r\n\r\nserver full\n',
    ));
    refuse(socket, response, { maxHead: this.maxHeaderSize, linger: REJECT_LINGER });
    this.reportError(new Error('server full: rejected a connection with 503'));
  }
}

/** A socket's peer address; '' when the socket is already gone (it counts as an unknown address). */
function addressOf(socket: TCP): string {
  try {
    return socket.remoteAddress ?? '';
  } catch {
    return '';
  }
}
