// HttpServer: a small, strict HTTP/1.1 server for static files, tiny dynamic GET
// endpoints and the WebSocket upgrade hand-off, on ECMA-419 sockets (the same
// `embedded:io/socket/tcp`, `embedded:io/socket/listener` and `timer` default exports
// as socket-link.ts), so it runs unchanged on the ESP32, in the Moddable simulator and
// on Node through hosts/sim.
//
// Memory per connection (fixed, allocated once per connection slot and reused through
// a pool of at most maxConnections sets, so a steady server allocates no buffers):
//   read buffer   readBufferSize bytes (default 512): bytes per read(), and the bytes
//                 of pipelined requests waiting while a response is being sent;
//   head buffer   maxHeaderSize bytes (default 2048): the request head while it is
//                 read, then (once parsed into strings) the response head and short
//                 error bodies while they are written; the path is percent-decoded
//                 in place there too.
//   => 2,560 bytes of buffers per connection at the defaults (10,240 for 4), plus one
//   Timer, the connection object (~30 properties) and the socket's three callback
//   closures: 103 XS slots per idle keep-alive connection (the fake socket object
//   included), measured under xsnap (test/http/xs.test.ts; 32-byte slots there, 16 on
//   the ESP32).
//   A rejected (503) connection holds only a 64-byte scratch buffer for <= 2 s.
//   Per request, transient: the head text, the header map and its values, the
//   decoded path; a route's body string/bytes.
// Bodies are streamed: each onWritable writes at most its count of bytes, taken from
// StaticEntry.body(start, end) (a flash view on the device). Only the first piece may
// be copied, into the head buffer behind the head (when body() gives plain bytes), so
// a small response leaves in one write; the socket is opened with nodelay.
//
// Behaviour (decisions):
// - GET and HEAD only; any other method gets 405 with "Allow: GET, HEAD" (and close).
// - HTTP/1.1 keeps the connection alive unless "Connection: close"; requests pipelined
//   on one connection are answered in order, one at a time (input is not read while a
//   response is being written, so TCP itself holds the client back). HTTP/1.0 is
//   served for plain GET/HEAD but the connection is always closed after the response;
//   an HTTP/1.0 upgrade is refused with 400. Versions other than 1.x get 505 (also
//   "HTTP/2" without a minor digit); any other malformed request line or header field
//   gets 400, and so does an HTTP/1.1 request without exactly one Host header.
// - Request bodies are not supported: "Content-Length: 0" is fine, a malformed or
//   conflicting Content-Length and Content-Length together with Transfer-Encoding get
//   400 (RFC 7230 3.3.3: a smuggling vector), Content-Length > 0 or any
//   Transfer-Encoding gets 413 (Content Too Large: our limit is zero bytes).
// - Limits: request line over maxRequestLine bytes (without CRLF) -> 414; head over
//   maxHeaderSize bytes or more than maxHeaders header fields -> 431; a head not
//   complete within requestTimeout of its first byte -> 408. Leading empty lines
//   before a request line are skipped (RFC 7230 3.5) and do not start that timer.
// - Every error response (400, 405, 408, 413, 414, 431, 505, and refused upgrades)
//   carries "Connection: close" and the connection is closed after it; 404, 406, 304
//   and a route's 500 keep a well-formed HTTP/1.1 connection alive. When the client
//   may still be sending (413, 414, 431, 405 with a body, or unread bytes), the
//   server reads and discards input for up to 1 s after the response before it
//   closes, so the close does not reset the connection under the response.
// - A keep-alive connection idle for idleTimeout (also a new connection that sends
//   nothing) is closed without a response. While a response is written, a client
//   that accepts no bytes for idleTimeout is dropped. 0 disables either timeout.
// - Paths: origin-form ("/a/b?q") or absolute-form ("http://host/a/b"); the query is
//   ignored for static files and routes (routes get it in request.query); "#" -> 400.
//   The path is percent-decoded ("%zz" or a truncated escape -> 400), must be valid
//   UTF-8, and may not contain control characters, backslashes (raw or %5C) or "."
//   / ".." segments (raw or encoded): all 400. The store is only asked for exact keys.
//   A path ending in "/" means path + "index.html" (so "/" is "/index.html").
// - Static files: routes first (the exact decoded path as requested, before the
//   index.html mapping), then the store. If the client accepts
//   gzip (Accept-Encoding token list; "gzip", "x-gzip" or "*", q=0 excluded) and the
//   store has path + ".gz", that is sent with "Content-Encoding: gzip"; whenever
//   path + ".gz" exists the response has "Vary: Accept-Encoding". An entry that is
//   gzip-encoded (only a .gz exists, or one asked for directly) and a client that
//   does not accept gzip -> 406. Responses carry Content-Type, Content-Length, the
//   entry's ETag (quoted) and "Cache-Control: no-cache"; "If-None-Match" with that
//   ETag (weak comparison, or "*") -> 304 without a body. HEAD: the same headers, no
//   body. No Date header (the device has no wall clock; RFC 7231 7.1.1.2 allows that).
// - Routes: `(request) => ({ status, contentType, body, headers })`, called for GET and
//   HEAD (for HEAD only the headers are sent); "Cache-Control: no-store" unless the
//   route sets Cache-Control. An exception, or a malformed response (status outside
//   200-599, header names that are not tokens or values with control characters,
//   Content-Length / Transfer-Encoding / Connection headers, a head over
//   maxHeaderSize) -> 500 and an 'error' event; the connection keeps working. A
//   Uint8Array body is sent from the route's array (not copied): do not modify it.
// - WebSocket: a GET at websocket.path (before "?") with "Upgrade: websocket" is given
//   to websocket.server.addWebSocket(socket, request, rest), rest being the bytes
//   already read after the head (the start of the first frame; bytes not yet read
//   stay in the socket for the new owner). The HTTP server then forgets the socket and
//   its timer. The WebSocketServer (isStandAlone: false) must use the same path as
//   its prefix; it answers the handshake itself (101, or 400/403/426/503 and close).
//   "Upgrade: websocket" on any other path (or without a websocket option) -> 404 and
//   close. Other Upgrade tokens (h2c...) are ignored, as RFC 7230 6.7 allows.
// - More than maxConnections open connections: the new one gets 503 (Retry-After: 5)
//   and is closed after its request was read (bounded in size, and to 2 s).
// - Events: 'request' (method, path, status) once per response sent, for logging
//   (method and path are '' when the head could not be parsed: 408, 414, 431, 400...;
//   status 101 for a hand-off that opened, 0 when the WebSocketServer refused it);
//   'error' for route and store exceptions, rejected (503) connections and stalled
//   clients. Listener exceptions never reach the socket callbacks.

import { refuse } from './reject';
import { disownSocket, openOwnedSocket } from './socket-owner';
import type { SocketOwner } from './socket-owner';
import type Listener from 'embedded:io/socket/listener';
import { boundPort, closeListener, listen } from './listen';
import TCP from 'embedded:io/socket/tcp';
import Timer from 'timer';
import { Emitter } from './emitter';
import { hasToken, headerValue, isToken, latin1Bytes, reasonPhrase, latin1Text, parseRequestHead } from './http-head';
import type { HttpRequestHead } from './http-head';
import { platformNow } from './platform';
import { decodeUtf8, encodeUtf8, isValidUtf8 } from './utf8';
import type { StaticEntry, StaticStore } from './static-store';
import type { WebSocketServer } from './server';

type TimerId = ReturnType<typeof Timer.set>;

export interface HttpRequest extends HttpRequestHead {
  /** Percent-decoded path without the query, e.g. "/index.html". */
  path: string;
  /** The raw query after "?" ('' when none). */
  query: string;
}

export interface RouteResponse {
  /** 200-599. Default 200. */
  status?: number;
  /** Default "text/plain; charset=utf-8". */
  contentType?: string;
  /** A string is sent as UTF-8; a Uint8Array is sent as is (not copied). */
  body: string | Uint8Array;
  /** Extra header fields (not Content-Length, Transfer-Encoding or Connection). */
  headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = (request: HttpRequest) => RouteResponse;

export interface HttpServerOptions {
  /** Listening port. Default 80 (0: an ephemeral port where the host supports it). */
  port?: number;
  /** Interface to bind. Host default (hosts/sim: 127.0.0.1). */
  address?: string;
  /** Open connections at most; one more gets 503 and is closed. Default 4. */
  maxConnections?: number;
  /**
   * When full, close the longest-idle keep-alive connection (one between requests, with
   * nothing to send) to make room, and answer 503 only if none is idle. Browsers keep
   * idle connections open for a page's lifetime, so without this a few pages can lock
   * everyone else out for idleTimeout. Default false.
   */
  evictIdle?: boolean;
  /** Longest request line in bytes, without CRLF (414 beyond). Default 512. */
  maxRequestLine?: number;
  /** Largest request head in bytes, with its final blank line (431 beyond); also the response head limit. Default 2048. */
  maxHeaderSize?: number;
  /** Most header fields in a request (431 beyond). Default 32. */
  maxHeaders?: number;
  /** Close a keep-alive connection idle this long (ms), silently; also bounds a stalled response. 0: never. Default 10000. */
  idleTimeout?: number;
  /** A request head must be complete within this (ms) of its first byte, else 408. 0: never. Default 5000. */
  requestTimeout?: number;
  /** Server header value (none by default). */
  serverName?: string;
  /** Static files. */
  store?: StaticStore;
  /** Dynamic GET/HEAD endpoints by exact (decoded) path; checked before the store. */
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

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const PERCENT = 0x25;
const DOT = 0x2e;
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;

// Head scanner states: the bytes matched so far of LF [CR] LF.
const IN_LINE = 0;
const AFTER_LF = 1;
const AFTER_LF_CR = 2;

// scan() results besides an index.
const MORE = -1;
const TOO_LONG_LINE = -2;
const TOO_LARGE = -3;

/** Discard input this long after a closing error response before closing (ms). */
const LINGER = 1000;
/** A rejected (503) connection may take this long to send its request (ms). */
const REJECT_LINGER = 2000;
/** evictIdle spares a connection that has sent nothing yet for this long (ms). */
const FRESH_GRACE = 1000;

interface ServerPatterns {
  readonly digits: RegExp;
  readonly qvalue: RegExp;
  /** Any request line "METHOD TARGET HTTP/<digits>[.<digits>]" (to tell 505 from 400). */
  readonly versionedLine: RegExp;
}

// Created on first use, not at module load (see headPatterns in ./http-head).
let patterns: ServerPatterns | null = null;

function serverPatterns(): ServerPatterns {
  patterns ??= {
    digits: /^[0-9]+$/,
    qvalue: /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/,
    versionedLine: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/([0-9]+)(?:\.[0-9]+)?$/,
  };
  return patterns;
}

interface Buffers {
  read: Uint8Array;
  head: Uint8Array;
}

/** True when gzip is acceptable by an Accept-Encoding value (RFC 7231 5.3.4). */
export function acceptsGzip(value: string | undefined): boolean {
  if (value === undefined) return false;
  let gzip = -1;
  let star = -1;
  const items = value.split(',');
  for (let i = 0; i < items.length; i++) {
    const params = items[i].split(';');
    const coding = params[0].trim().toLowerCase();
    if (!coding) continue;
    let q = 1;
    for (let k = 1; k < params.length; k++) {
      const p = params[k].trim();
      if (p.length >= 2 && (p[0] === 'q' || p[0] === 'Q') && p[1] === '=') {
        const text = p.slice(2);
        q = serverPatterns().qvalue.test(text) ? Number(text) : 0; // an invalid weight is not an acceptance
      }
    }
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip, q);
    else if (coding === '*') star = Math.max(star, q);
  }
  return gzip >= 0 ? gzip > 0 : star > 0;
}

/** True when an If-None-Match value matches etag (unquoted) by weak comparison, or is "*". */
export function etagMatches(value: string, etag: string): boolean {
  const all = value.trim();
  if (all === '*') return true;
  const items = all.split(',');
  for (let i = 0; i < items.length; i++) {
    let tag = items[i].trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag.length >= 2 && tag[0] === '"' && tag[tag.length - 1] === '"' && tag.slice(1, -1) === etag) return true;
  }
  return false;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function checkFieldValue(what: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) throw new Error(`${what} contains a control character`);
  }
}

export class HttpServer extends Emitter<HttpServerEvents> {
  /** @internal */ readonly options: HttpServerOptions;
  /** @internal */ readonly maxHeaderSize: number;
  /** @internal */ readonly maxRequestLine: number;
  /** @internal */ readonly maxHeaders: number;
  /** @internal */ readonly idleTimeout: number;
  /** @internal */ readonly requestTimeout: number;
  private readonly readBufferSize: number;
  private readonly connections = new Set<HttpConnection>();
  private readonly pool: Buffers[] = [];
  private listener: Listener | null = null;
  private rejectResponse: Uint8Array | null = null;

  constructor(options: HttpServerOptions = {}) {
    super();
    this.options = options;
    this.maxHeaderSize = options.maxHeaderSize ?? 2048;
    this.maxRequestLine = options.maxRequestLine ?? 512;
    this.maxHeaders = options.maxHeaders ?? 32;
    this.idleTimeout = options.idleTimeout ?? 10000;
    this.requestTimeout = options.requestTimeout ?? 5000;
    this.readBufferSize = options.readBufferSize ?? 512;
    if (this.maxHeaderSize < 256) throw new RangeError('maxHeaderSize must be at least 256');
    if (this.readBufferSize < 1) throw new RangeError('readBufferSize must be at least 1');
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

  /** @internal A connection is gone (closed or handed off). */
  release(connection: HttpConnection, buffers: Buffers): void {
    if (!this.connections.delete(connection)) return;
    if (this.pool.length < (this.options.maxConnections ?? 4)) this.pool.push(buffers);
  }

  private accept(socket: TCP): void {
    if (this.connections.size >= (this.options.maxConnections ?? 4) && !(this.options.evictIdle && this.evictOldestIdle())) {
      this.reject(socket);
      return;
    }
    const buffers = this.pool.pop() ?? { read: new Uint8Array(this.readBufferSize), head: new Uint8Array(this.maxHeaderSize) };
    const connection = new HttpConnection(this, buffers);
    this.connections.add(connection);
    try {
      connection.attach(socket);
    } catch (error) {
      this.release(connection, buffers);
      this.reportError(error);
    }
  }

  /** Close the connection idle the longest; false if none is idle. */
  private evictOldestIdle(): boolean {
    let oldest: HttpConnection | null = null;
    let since = Infinity;
    for (const connection of this.connections) {
      const at = connection.idleAt;
      if (at >= 0 && at < since) {
        since = at;
        oldest = connection;
      }
    }
    if (!oldest) return false;
    oldest.destroy();
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

/** One HTTP connection: reads heads, answers them in order, streams bodies under onWritable. */
class HttpConnection implements SocketOwner {
  private readonly server: HttpServer;
  private readonly buffers: Buffers;
  private readonly rbuf: Uint8Array;
  private readonly buf: Uint8Array;
  private tcp: TCP | null = null;

  // Input: bytes read but not yet scanned are rbuf[rs, re); `readable` more wait in the socket.
  private rs = 0;
  private re = 0;
  private readable = 0;
  private pumping = false;

  // Head scanner.
  private hlen = 0;
  private hstate = IN_LINE;
  private lineEnd = -1;

  // Output: buf[outPos, outLen) then the body [bodyPos, bodyEnd) of entry or bytes.
  private writable = 0;
  private sending = false;
  private outPos = 0;
  private outLen = 0;
  private entry: StaticEntry | null = null;
  private bytes: Uint8Array | null = null;
  private bodyPos = 0;
  private bodyEnd = 0;
  private closeAfter = false;
  private lingerWanted = false;
  private lingering = false;

  /** A response was completed on this connection. */
  private answered = false;

  // Deadlines (platformNow() ms) and the one timer.
  private idleSince = 0;
  private headStart = 0;
  private lastProgress = 0;
  private lingerUntil = 0;
  private timer: TimerId | null = null;
  private timerAt = Infinity;

  constructor(server: HttpServer, buffers: Buffers) {
    this.server = server;
    this.buffers = buffers;
    this.rbuf = buffers.read;
    this.buf = buffers.head;
  }

  /**
   * Since when this connection waits between requests with nothing to send; -1 if busy.
   * A new connection counts as idle only once it has been silent for FRESH_GRACE: its
   * first request is usually in flight, and closing under it resets the client.
   */
  get idleAt(): number {
    const waiting = !this.sending && !this.lingering && this.hlen === 0 && this.rs >= this.re && this.readable === 0;
    if (!this.tcp || !waiting) return -1;
    if (!this.answered && platformNow() - this.idleSince < FRESH_GRACE) return -1;
    return this.idleSince;
  }

  attach(socket: TCP): void {
    this.idleSince = platformNow();
    // whole responses: their last segment should not wait for an ACK
    this.tcp = openOwnedSocket({ from: socket, nodelay: true }, this);
    this.settle();
  }

  /** @internal The socket has `count` bytes to read. */
  onSocketReadable(count: number): void {
    this.readable = count;
    this.pump();
  }

  /** @internal The socket takes `count` more bytes. */
  onSocketWritable(count: number): void {
    this.writable = count;
    this.flush();
  }

  /** @internal The socket failed or the peer closed it. */
  onSocketError(): void {
    this.destroy();
  }

  /** Close the socket now and give the buffers back. */
  destroy(): void {
    const tcp = this.tcp;
    this.forget();
    if (tcp) {
      try {
        tcp.close();
      } catch {
        // already closed by the host
      }
    }
  }

  private forget(): void {
    if (this.tcp) disownSocket(this.tcp); // late callbacks find nothing
    this.tcp = null;
    this.clearTimer();
    this.entry = null;
    this.bytes = null;
    this.sending = false;
    this.readable = 0;
    this.server.release(this, this.buffers);
  }

  // --- Input -------------------------------------------------------------------

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pumpLoop();
    } catch (error) {
      // Socket failures (the peer went away under a read) and our own bugs alike:
      // never let an exception out into the host's callback.
      this.server.emitError(error);
      this.destroy();
    }
    this.pumping = false;
    this.settle();
  }

  private pumpLoop(): void {
    const rbuf = this.rbuf;
    while (this.tcp) {
      if (this.lingering) {
        this.discard();
        return;
      }
      if (this.sending) return;
      if (this.rs === this.re) {
        if (this.readable <= 0) return;
        const n = this.readable < rbuf.length ? this.readable : rbuf.length;
        this.tcp.read(n === rbuf.length ? rbuf : rbuf.subarray(0, n));
        this.readable -= n;
        this.rs = 0;
        this.re = n;
      }
      const empty = this.hlen === 0;
      const at = this.scan(rbuf, this.rs, this.re);
      if (empty && this.hlen > 0) this.headStart = platformNow();
      if (at === MORE) {
        this.rs = this.re;
        continue;
      }
      if (at === TOO_LONG_LINE || at === TOO_LARGE) {
        this.rs = this.re;
        this.lingerWanted = true;
        this.sendError('', '', at === TOO_LONG_LINE ? 414 : 431, true);
        continue;
      }
      this.rs = at;
      this.handleHead();
    }
  }

  /**
   * Copy head bytes from data[start, end) into buf until the blank line. Returns the
   * index just past it, MORE, TOO_LONG_LINE (request line over maxRequestLine) or
   * TOO_LARGE (head over maxHeaderSize).
   */
  private scan(data: Uint8Array, start: number, end: number): number {
    const buf = this.buf;
    const cap = buf.length;
    const maxLine = this.server.maxRequestLine;
    let len = this.hlen;
    let state = this.hstate;
    let lineEnd = this.lineEnd;
    let result = MORE;
    for (let i = start; i < end; i++) {
      const byte = data[i];
      if (len === 0 && (byte === CR || byte === LF)) continue; // empty lines before a request line
      if (len === cap) {
        result = lineEnd < 0 ? TOO_LONG_LINE : TOO_LARGE;
        break;
      }
      buf[len++] = byte;
      if (byte === LF) {
        if (lineEnd < 0) {
          lineEnd = len - 1;
          if (lineEnd - (lineEnd > 0 && buf[lineEnd - 1] === CR ? 1 : 0) > maxLine) {
            result = TOO_LONG_LINE;
            break;
          }
        }
        if (state !== IN_LINE) {
          result = i + 1;
          break;
        }
        state = AFTER_LF;
      } else {
        if (lineEnd < 0 && len - (byte === CR ? 1 : 0) > maxLine) {
          result = TOO_LONG_LINE;
          break;
        }
        state = byte === CR && state === AFTER_LF ? AFTER_LF_CR : IN_LINE;
      }
    }
    this.hlen = len;
    this.hstate = state;
    this.lineEnd = lineEnd;
    return result;
  }

  /** The complete head is buf[0, hlen): decide and start the response. */
  private handleHead(): void {
    const buf = this.buf;
    // The text without the final blank line (as HttpHeadReader.text()).
    let end = this.hlen - 1;
    if (buf[end - 1] === CR) end--;
    end--;
    if (end > 0 && buf[end - 1] === CR) end--;
    const text = latin1Text(buf, 0, end);
    const request = parseRequestHead(text);
    if (!request) {
      const first = text.slice(0, this.lineEnd >= 0 ? this.lineEnd : text.length);
      const line = first.endsWith('\r') ? first.slice(0, -1) : first;
      const m = serverPatterns().versionedLine.exec(line);
      this.sendError('', '', m && Number(m[1]) >= 2 ? 505 : 400, true);
      return;
    }
    const { method, headers, version } = request;
    const target = request.target;
    let fields = 0;
    for (const values of headers.values()) fields += values.length;
    if (fields > this.server.maxHeaders) return this.sendError(method, target, 431, true);
    const major = Number(version.charAt(5));
    if (major !== 1) return this.sendError(method, target, 505, true);
    const http10 = version === 'HTTP/1.0';
    if (!http10) {
      const host = headers.get('host');
      if (!host || host.length !== 1) return this.sendError(method, target, 400, true);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      this.lingerWanted = headers.has('content-length') || headers.has('transfer-encoding');
      this.sendError(method, target, 405, true, 'Allow', 'GET, HEAD');
      return;
    }
    const lengths = headers.get('content-length');
    let length = 0;
    if (lengths) {
      for (let i = 0; i < lengths.length; i++) {
        if (!serverPatterns().digits.test(lengths[i]) || lengths[i] !== lengths[0]) return this.sendError(method, target, 400, true);
      }
      length = Number(lengths[0]);
    }
    if (headers.has('transfer-encoding')) {
      if (lengths) return this.sendError(method, target, 400, true);
      this.lingerWanted = true;
      return this.sendError(method, target, 413, true);
    }
    if (length > 0) {
      this.lingerWanted = true;
      return this.sendError(method, target, 413, true);
    }
    if (target.indexOf('#') >= 0) return this.sendError(method, target, 400, true);
    const path = this.decodePath(target);
    if (path === null) return this.sendError(method, target, 400, true);
    const q = target.indexOf('?');
    const query = q < 0 ? '' : target.slice(q + 1);
    const head = method === 'HEAD';
    this.closeAfter = http10 || hasToken(headerValue(headers, 'connection'), 'close');

    if (hasToken(headerValue(headers, 'upgrade'), 'websocket')) {
      const ws = this.server.options.websocket;
      if (!ws || path !== ws.path) return this.sendError(method, path, 404, true);
      if (http10 || head) return this.sendError(method, path, 400, true);
      this.handOff(ws.server, request, path);
      return;
    }

    const full: HttpRequest = { method, target, version, headers, path, query };
    const routes = this.server.options.routes;
    if (routes && Object.prototype.hasOwnProperty.call(routes, path)) {
      this.serveRoute(routes[path], full, head);
      return;
    }
    this.serveStatic(full, head);
  }

  /**
   * Percent-decode the path of target (in place in buf, where the request line's bytes
   * are). Null when malformed or unsafe.
   */
  private decodePath(target: string): string | null {
    const buf = this.buf;
    // The request line starts at buf[0]: METHOD SP TARGET SP VERSION (validated).
    let ts = 0;
    while (buf[ts] !== SP) ts++;
    ts++;
    const te = ts + target.length;
    let start = ts;
    if (buf[ts] !== SLASH) {
      // absolute-form: http://authority/path (authority ignored: one host here).
      const scheme = target.slice(0, 8).toLowerCase();
      const skip = scheme.startsWith('http://') ? 7 : scheme.startsWith('https://') ? 8 : -1;
      if (skip < 0) return null;
      const slash = target.indexOf('/', skip);
      if (slash < 0) return '/';
      start = ts + slash;
    }
    let w = ts;
    for (let i = start; i < te; i++) {
      let byte = buf[i];
      if (byte === QUESTION) break;
      if (byte === PERCENT) {
        if (i + 2 >= te) return null;
        const high = hexValue(buf[i + 1]);
        const low = hexValue(buf[i + 2]);
        if (high < 0 || low < 0) return null;
        byte = (high << 4) | low;
        i += 2;
      }
      if (byte < 0x20 || byte === 0x7f || byte === BACKSLASH) return null;
      buf[w++] = byte;
    }
    if (w === ts || buf[ts] !== SLASH) return null;
    // No "." or ".." segment, however it was spelled.
    let segment = ts + 1;
    for (let i = ts + 1; i <= w; i++) {
      if (i === w || buf[i] === SLASH) {
        const n = i - segment;
        if ((n === 1 && buf[segment] === DOT) || (n === 2 && buf[segment] === DOT && buf[segment + 1] === DOT)) return null;
        segment = i + 1;
      }
    }
    if (!isValidUtf8(buf, ts, w)) return null;
    return decodeUtf8(buf, ts, w);
  }

  private handOff(server: WebSocketServer, request: HttpRequestHead, path: string): void {
    const tcp = this.tcp!;
    const rest = this.rs < this.re ? this.rbuf.subarray(this.rs, this.re) : undefined;
    // Forget the socket first: from here on it belongs to the WebSocket server.
    this.forget();
    let opened = false;
    try {
      // The WebSocket connection consumes `rest` synchronously (before our buffers are reused).
      opened = server.addWebSocket(tcp, request, rest);
    } catch (error) {
      this.server.emitError(error);
      try {
        tcp.close();
      } catch {
        // taken over, or already closed
      }
    }
    this.server.emitRequest(request.method, path, opened ? 101 : 0);
  }

  // --- Responses ---------------------------------------------------------------

  private serveStatic(request: HttpRequest, head: boolean): void {
    const store = this.server.options.store;
    let path = request.path;
    if (path.endsWith('/')) path += 'index.html';
    let entry: StaticEntry | null = null;
    let variant: StaticEntry | null = null;
    try {
      entry = store ? store.get(path) : null;
      variant = store ? store.get(path + '.gz') : null;
    } catch (error) {
      this.server.emitError(error);
      this.sendError(request.method, request.path, 500, this.closeAfter);
      return;
    }
    const gzipOk = acceptsGzip(headerValue(request.headers, 'accept-encoding'));
    if (variant && variant.encoding !== 'gzip') variant = null;
    if (variant && gzipOk) entry = variant;
    if (!entry) {
      this.sendError(request.method, request.path, variant ? 406 : 404, this.closeAfter);
      return;
    }
    if (entry.encoding === 'gzip' && !gzipOk) {
      this.sendError(request.method, request.path, 406, this.closeAfter);
      return;
    }
    const inm = headerValue(request.headers, 'if-none-match');
    const status = inm !== undefined && etagMatches(inm, entry.etag) ? 304 : 200;
    try {
      this.startHead(status);
      if (status === 200) {
        this.field('Content-Type', entry.contentType);
        this.field('Content-Length', String(entry.size));
        if (entry.encoding === 'gzip') this.field('Content-Encoding', 'gzip');
      }
      if (variant) this.field('Vary', 'Accept-Encoding');
      this.field('ETag', '"' + entry.etag + '"');
      this.field('Cache-Control', 'no-cache');
      this.endHead();
    } catch (error) {
      this.server.emitError(error);
      this.sendError(request.method, request.path, 500, this.closeAfter);
      return;
    }
    if (status === 200 && !head) {
      this.entry = entry;
      this.bodyPos = 0;
      this.bodyEnd = entry.size;
    }
    this.begin(request.method, request.path, status);
  }

  private serveRoute(handler: RouteHandler, request: HttpRequest, head: boolean): void {
    let bytes: Uint8Array;
    let status: number;
    try {
      const response = handler(request);
      status = response.status ?? 200;
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new Error(`route ${request.path}: invalid status ${String(status)}`);
      const body = response.body;
      bytes = typeof body === 'string' ? encodeUtf8(body) : body;
      if (!(bytes instanceof Uint8Array)) throw new Error(`route ${request.path}: body must be a string or a Uint8Array`);
      const noBody = status === 204 || status === 304;
      this.startHead(status);
      if (!noBody) {
        this.field('Content-Type', response.contentType ?? 'text/plain; charset=utf-8');
        this.field('Content-Length', String(bytes.length));
      }
      let cacheControl = false;
      const headers = response.headers;
      if (headers) {
        for (const name of Object.keys(headers)) {
          const lower = name.toLowerCase();
          if (!isToken(name) || lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') {
            throw new Error(`route ${request.path}: header ${JSON.stringify(name)} not allowed`);
          }
          if (lower === 'cache-control') cacheControl = true;
          this.field(name, String(headers[name]));
        }
      }
      if (!cacheControl) this.field('Cache-Control', 'no-store');
      this.endHead();
      if (noBody) bytes = new Uint8Array(0);
    } catch (error) {
      this.server.emitError(error);
      this.sendError(request.method, request.path, 500, this.closeAfter);
      return;
    }
    if (!head && bytes.length > 0) {
      this.bytes = bytes;
      this.bodyPos = 0;
      this.bodyEnd = bytes.length;
    }
    this.begin(request.method, request.path, status);
  }

  /** An error response with a short text/plain body (none for HEAD). */
  private sendError(method: string, path: string, status: number, close: boolean, name?: string, value?: string): void {
    if (close) this.closeAfter = true;
    this.entry = null;
    this.bytes = null;
    this.bodyPos = this.bodyEnd = 0;
    const body = `${status} ${reasonPhrase(status)}\n`;
    this.startHead(status);
    this.field('Content-Type', 'text/plain');
    this.field('Content-Length', String(body.length));
    if (name !== undefined && value !== undefined) this.field(name, value);
    this.endHead();
    if (method !== 'HEAD') this.put(body);
    this.begin(method, path, status);
  }

  private startHead(status: number): void {
    this.outLen = 0;
    this.outPos = 0;
    this.put('HTTP/1.1 ' + status + ' ' + reasonPhrase(status) + '\r\n');
    const name = this.server.options.serverName;
    if (name !== undefined) this.field('Server', name);
  }

  private field(name: string, value: string): void {
    this.put(name, true);
    this.put(': ', false);
    this.put(value, true);
    this.put('\r\n', false);
  }

  private endHead(): void {
    if (this.closeAfter) this.put('Connection: close\r\n');
    this.put('\r\n');
  }

  /**
   * Append latin1 text to the head buffer, in short pieces (XS strings are UTF-8:
   * charCodeAt(i) costs O(i)). A field (strict) may not hold CR, LF or other controls.
   */
  private put(text: string, strict = false): void {
    const buf = this.buf;
    let at = this.outLen;
    if (at + text.length > buf.length) throw new Error('response head larger than maxHeaderSize');
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff || c === 0x7f || (c < 0x20 && c !== 0x09 && (strict || (c !== CR && c !== LF)))) {
        throw new Error('control character in a response header');
      }
      buf[at++] = c;
    }
    this.outLen = at;
  }

  private begin(method: string, path: string, status: number): void {
    if (this.bodyPos < this.bodyEnd && this.outLen < this.buf.length && !this.coalesce()) {
      this.sendError(method, path, 500, this.closeAfter);
      return;
    }
    this.sending = true;
    this.lastProgress = platformNow();
    this.server.emitRequest(method, path, status);
    this.flush();
  }

  /**
   * Copy the start of the body into the head buffer behind the head, so a small
   * response leaves in one write (one segment, no Nagle wait between head and body).
   * Only when the body gives plain bytes; false if the store failed.
   */
  private coalesce(): boolean {
    const n = Math.min(this.buf.length - this.outLen, this.bodyEnd - this.bodyPos);
    let piece: ArrayBuffer | ArrayBufferView;
    try {
      piece = this.entry ? this.entry.body(this.bodyPos, this.bodyPos + n) : this.bytes!.subarray(this.bodyPos, this.bodyPos + n);
    } catch (error) {
      this.server.emitError(error);
      this.entry = null;
      this.bytes = null;
      this.bodyPos = this.bodyEnd = 0;
      return false;
    }
    let bytes: Uint8Array | null = null;
    if (piece instanceof Uint8Array) bytes = piece;
    else if (ArrayBuffer.isView(piece)) bytes = new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength);
    else if (piece instanceof ArrayBuffer) bytes = new Uint8Array(piece);
    if (!bytes || bytes.length !== n) return true; // a host buffer (flash): written as is later
    this.buf.set(bytes, this.outLen);
    this.outLen += n;
    this.bodyPos += n;
    return true;
  }

  // --- Output ------------------------------------------------------------------

  private flush(): void {
    const tcp = this.tcp;
    if (!tcp || !this.sending) return;
    let progressed = false;
    while (this.writable > 0) {
      let n: number;
      let piece: ArrayBuffer | ArrayBufferView;
      if (this.outPos < this.outLen) {
        n = Math.min(this.writable, this.outLen - this.outPos);
        piece = this.buf.subarray(this.outPos, this.outPos + n);
      } else if (this.bodyPos < this.bodyEnd) {
        n = Math.min(this.writable, this.bodyEnd - this.bodyPos);
        if (this.entry) {
          try {
            piece = this.entry.body(this.bodyPos, this.bodyPos + n);
            const size = (piece as { byteLength?: number }).byteLength;
            if (size !== undefined && size !== n) throw new Error(`store body(${this.bodyPos}, ${this.bodyPos + n}) returned ${size} bytes`);
          } catch (error) {
            this.server.emitError(error);
            this.destroy(); // the head promised a length we cannot deliver
            return;
          }
        } else piece = this.bytes!.subarray(this.bodyPos, this.bodyPos + n);
      } else break;
      try {
        // Moddable's typings narrow write() to its ByteBuffer; a flash view or bytes are both fine.
        tcp.write(piece as Uint8Array<ArrayBuffer>);
      } catch {
        this.destroy(); // the peer went away
        return;
      }
      if (this.outPos < this.outLen) this.outPos += n;
      else this.bodyPos += n;
      this.writable -= n;
      progressed = true;
    }
    if (progressed) this.lastProgress = platformNow();
    if (this.outPos >= this.outLen && this.bodyPos >= this.bodyEnd) this.finish();
    else this.settle();
  }

  /** The response is written: close, linger, or read the next request. */
  private finish(): void {
    this.sending = false;
    const close = this.closeAfter;
    const linger = this.lingerWanted;
    this.closeAfter = false;
    this.lingerWanted = false;
    this.entry = null;
    this.bytes = null;
    this.bodyPos = this.bodyEnd = 0;
    this.outPos = this.outLen = 0;
    if (close) {
      if (linger || this.readable > 0 || this.rs < this.re) {
        this.lingering = true;
        this.lingerUntil = platformNow() + LINGER;
        this.discard();
        this.settle();
      } else this.destroy();
      return;
    }
    this.hlen = 0;
    this.hstate = IN_LINE;
    this.lineEnd = -1;
    this.answered = true;
    this.idleSince = platformNow();
    if (this.pumping) return; // the pump loop goes on with the next request
    if (this.rs < this.re || this.readable > 0) this.pump();
    else this.settle();
  }

  /** Lingering before a close: read and drop whatever the client still sends. */
  private discard(): void {
    const tcp = this.tcp;
    const rbuf = this.rbuf;
    this.rs = this.re = 0;
    try {
      while (tcp && this.readable > 0) {
        const n = this.readable < rbuf.length ? this.readable : rbuf.length;
        tcp.read(n === rbuf.length ? rbuf : rbuf.subarray(0, n));
        this.readable -= n;
      }
    } catch {
      this.destroy();
    }
  }

  // --- Timer -------------------------------------------------------------------

  private deadline(): number {
    const server = this.server;
    if (this.lingering) return this.lingerUntil;
    if (this.sending) return server.idleTimeout > 0 ? this.lastProgress + server.idleTimeout : Infinity;
    if (this.hlen > 0) return server.requestTimeout > 0 ? this.headStart + server.requestTimeout : Infinity;
    return server.idleTimeout > 0 ? this.idleSince + server.idleTimeout : Infinity;
  }

  private settle(): void {
    if (!this.tcp) {
      this.clearTimer();
      return;
    }
    const at = this.deadline();
    if (at === Infinity) {
      this.clearTimer();
      return;
    }
    if (this.timer && at >= this.timerAt) return; // fires earlier; re-armed then
    const delay = Math.max(0, Math.ceil(at - platformNow()));
    if (this.timer) Timer.schedule(this.timer, delay);
    else this.timer = Timer.set(() => this.onTimer(), delay);
    this.timerAt = at;
  }

  private clearTimer(): void {
    if (this.timer) Timer.clear(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private onTimer(): void {
    this.timer = null; // a one-shot timer is spent once it fired
    this.timerAt = Infinity;
    if (!this.tcp) return;
    if (platformNow() < this.deadline()) {
      this.settle();
      return;
    }
    if (this.lingering) this.destroy();
    else if (this.sending) {
      this.server.emitError(new Error('client stopped reading: response abandoned'));
      this.destroy();
    } else if (this.hlen > 0) {
      // 408: the rest of the head may still come; no linger (the client is stalled).
      this.sendError('', '', 408, true);
    } else this.destroy();
  }
}
