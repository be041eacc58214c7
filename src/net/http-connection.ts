// HttpConnection: one HTTP connection on one ECMA-419 socket. It binds the sans-IO
// HttpRequestReader and HttpResponseWriter (src/http) to the socket: reads into a fixed
// read buffer under onReadable, answers requests in order (the reader copies a POST's
// body into the head buffer before its verdict), writes under onWritable's count,
// holds one timer for the request, idle and linger deadlines, and hands a WebSocket
// upgrade to the WebSocketServer. What to answer is decided by the reader, the
// static-response functions and the server's options; this file only moves bytes.

import TCP from 'embedded:io/socket/tcp';
import { TimedOwner } from './timed-owner';
import { closeSocket, disownSocket, openOwnedSocket, writeSocket } from './socket-owner';
import type { SocketOwner } from './socket-owner';
import { platformNow } from './platform';
import { HEAD_MORE, HttpRequestReader } from '../http/request-reader';
import type { RequestVerdict, HttpRequest } from '../http/request-reader';
import { HttpResponseWriter } from '../http/response-writer';
import type { ResponsePiece } from '../http/response-writer';
import { HAND_OFF, respond } from '../http/static-response';
import type { Site } from '../http/static-response';

/** Discard input this long after a closing error response before closing (ms). */
const LINGER = 1000;
/** A full server spares a connection that has sent nothing yet for this long (ms). */
const FRESH_GRACE = 1000;

// Why a full server may close a connection to let a newcomer in (HttpServer.evictStalled),
// in the order it picks them; STALL_NONE: it is doing its job.
export const STALL_NONE = -1;
/**
 * A request in progress, its head or a POST's body: a client sending slowly holds a slot
 * for nothing (slowloris).
 */
export const STALL_HEAD = 0;
/** Connected, not a byte sent, for over FRESH_GRACE (a browser's pre-connect, or a slot holder). */
export const STALL_SILENT = 1;
/** A keep-alive connection between requests (evicted only with evictIdle). */
export const STALL_IDLE = 2;
/**
 * Connected under FRESH_GRACE ago, not a byte sent yet: its request is usually on the
 * way. Evicted only to keep one address from holding every slot (HttpServer.evictStalled).
 */
export const STALL_FRESH = 3;

/** What a connection needs of its server (HttpServer). */
export interface HttpConnectionHost {
  readonly idleTimeout: number;
  readonly requestTimeout: number;
  readonly options: Site;
  emitRequest(method: string, path: string, status: number): void;
  emitError(error: unknown): void;
  /** Give an upgrade at the WebSocket path to the WebSocket server (the connection forgot the socket). */
  handOff(socket: TCP, request: HttpRequest, rest: Uint8Array | undefined): void;
  readonly maxRequestLine: number;
  readonly maxHeaders: number;
  /** Largest POST body (0: POST is refused with 405 as other methods). */
  readonly maxBodySize: number;
  /** The connection is gone (closed or handed off): its buffers may serve another. */
  release(connection: HttpConnection, buffers: HttpBuffers): void;
}

/** A connection's buffers, pooled by the server: reads, and the head buffer the reader and the writer share. */
export interface HttpBuffers {
  read: Uint8Array;
  head: Uint8Array;
}

// HttpConnection.flags
const PUMPING = 1; // inside pump(): a re-entrant call returns at once
const SENDING = 2; // a response is being written
const LINGER_WANTED = 4; // the client may still be sending: drain before closing
const LINGERING = 8; // closing: reading and dropping input until the linger ends
const ANSWERED = 16; // a response was completed on this connection

/** One HTTP connection: reads heads, answers them in order, streams bodies under onWritable. */
export class HttpConnection extends TimedOwner implements SocketOwner {
  private readonly server: HttpConnectionHost;
  private readonly buffers: HttpBuffers;
  private readonly reader: HttpRequestReader;
  private readonly writer: HttpResponseWriter;
  private tcp: TCP | null = null;

  // Input: bytes read but not yet given to the reader are rbuf[rs, re); `readable` more wait in the socket.
  private rs = 0;
  private re = 0;
  private readable = 0;

  // Output: the writer's response, `writable` bytes at most now.
  private writable = 0;
  /** PUMPING | SENDING | LINGER_WANTED | LINGERING | ANSWERED: one field, not five (the heap counts slots). */
  private flags = 0;

  // Deadlines (platformNow() ms); the one timer is TimedOwner's.
  private idleSince = 0;
  /** While sending: the last write progress; while lingering: when the linger ends. */
  private mark = 0;

  constructor(server: HttpConnectionHost, buffers: HttpBuffers, serverName: string | undefined) {
    super();
    this.server = server;
    this.buffers = buffers;
    this.reader = new HttpRequestReader(buffers.head);
    this.writer = new HttpResponseWriter(buffers.head, serverName);
  }

  /**
   * How this connection stalls (STALL_*), for a full server choosing whom to close; see
   * stalledSince. A new connection that has sent nothing counts only after FRESH_GRACE:
   * its first request is usually in flight, and closing under it resets the client.
   */
  get stall(): number {
    if (!this.tcp || (this.flags & (SENDING | LINGERING)) !== 0) return STALL_NONE;
    if (this.reader.inProgress) return STALL_HEAD;
    if (this.rs < this.re || this.readable > 0) return STALL_NONE; // a request is about to be read
    if (this.flags & ANSWERED) return STALL_IDLE;
    return platformNow() - this.idleSince < FRESH_GRACE ? STALL_FRESH : STALL_SILENT;
  }

  /** The peer's address ('' once the socket is gone). */
  get remoteAddress(): string {
    return this.tcp?.remoteAddress ?? '';
  }

  /** Since when the stall has lasted (platformNow() ms): when the request's head began, or the connection last fell quiet. */
  get stalledSince(): number {
    return this.reader.inProgress ? this.reader.startedAt : this.idleSince;
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
    if (tcp) closeSocket(tcp);
  }

  private forget(): void {
    if (this.tcp) disownSocket(this.tcp); // late callbacks find nothing
    this.tcp = null;
    this.clearDeadline();
    this.writer.reset();
    this.flags &= ~SENDING;
    this.readable = 0;
    this.server.release(this, this.buffers);
  }

  // --- Input -------------------------------------------------------------------

  private pump(): void {
    if (this.flags & PUMPING) return;
    this.flags |= PUMPING;
    try {
      this.pumpLoop();
    } catch (error) {
      // Socket failures (the peer went away under a read) and our own bugs alike:
      // never let an exception out into the host's callback.
      this.server.emitError(error);
      this.destroy();
    }
    this.flags &= ~PUMPING;
    this.settle();
  }

  private pumpLoop(): void {
    while (this.tcp) {
      if (this.flags & LINGERING) {
        this.discard();
        return;
      }
      if (this.flags & SENDING) return;
      if (this.rs === this.re) {
        if (this.readable <= 0) return;
        this.rs = 0;
        this.re = this.readSome(this.tcp);
      }
      const at = this.reader.push(this.buffers.read, this.rs, this.re, platformNow(), this.server);
      if (at === HEAD_MORE) {
        this.rs = this.re;
        continue;
      }
      this.rs = at;
      this.answer(this.reader.verdict());
    }
  }

  /** Act on a complete request (head, and a POST's body): an error, a WebSocket hand-off, a route or a static file. */
  private answer(verdict: RequestVerdict): void {
    const request = verdict.request;
    if (!request) {
      if (verdict.linger) this.flags |= LINGER_WANTED;
      this.sendError(verdict.method, verdict.target, verdict.status, true);
      return;
    }
    let status: number;
    try {
      status = respond(this.writer, verdict, this.server.options);
      if (status !== HAND_OFF) this.writer.coalesce();
    } catch (error) {
      this.server.emitError(error);
      this.sendError(request.method, request.path, 500, this.writer.closing);
      return;
    }
    if (status !== HAND_OFF) {
      this.start(request.method, request.path, status);
      return;
    }
    const tcp = this.tcp!;
    const rest = this.rs < this.re ? this.buffers.read.subarray(this.rs, this.re) : undefined;
    // Forget the socket first: from here on it belongs to the WebSocket server, which
    // consumes `rest` synchronously (before our buffers serve another connection).
    this.forget();
    this.server.handOff(tcp, request, rest);
  }

  // --- Output ------------------------------------------------------------------

  /** An error response; close: the connection closes after it. */
  private sendError(method: string, path: string, status: number, close: boolean): void {
    if (close) this.writer.closing = true;
    // a method the reader refused: POST is understood when bodies are taken
    this.writer.error(status, method === 'HEAD', this.server.maxBodySize > 0 ? 'GET, HEAD, POST' : 'GET, HEAD');
    this.start(method, path, status);
  }

  private start(method: string, path: string, status: number): void {
    this.flags |= SENDING;
    this.mark = platformNow();
    this.server.emitRequest(method, path, status);
    this.flush();
  }

  private flush(): void {
    const tcp = this.tcp;
    const writer = this.writer;
    if (!tcp || (this.flags & SENDING) === 0) return;
    let progressed = false;
    while (this.writable > 0) {
      const n = writer.nextSize(this.writable);
      if (n === 0) break;
      let piece: ResponsePiece;
      try {
        piece = writer.next(n);
      } catch (error) {
        this.server.emitError(error);
        this.destroy(); // the head promised a length we cannot deliver
        return;
      }
      let ok: boolean;
      try {
        ok = writeSocket(tcp, piece);
      } catch {
        ok = false; // the peer went away
      }
      if (!ok) {
        this.destroy();
        return;
      }
      writer.advance(n);
      this.writable -= n;
      progressed = true;
    }
    if (progressed) this.mark = platformNow();
    if (!writer.pending) this.finish();
    else this.settle();
  }

  /** The response is written: close, linger, or read the next request. */
  private finish(): void {
    const linger = (this.flags & LINGER_WANTED) !== 0;
    this.flags &= ~(SENDING | LINGER_WANTED);
    const close = this.writer.closing;
    this.writer.reset();
    if (close) {
      if (linger || this.readable > 0 || this.rs < this.re) {
        this.flags |= LINGERING;
        this.mark = platformNow() + LINGER;
        this.discard();
        this.settle();
      } else this.destroy();
      return;
    }
    this.reader.reset();
    this.flags |= ANSWERED;
    this.idleSince = platformNow();
    if (this.flags & PUMPING) return; // the pump loop goes on with the next request
    if (this.rs < this.re || this.readable > 0) this.pump();
    else this.settle();
  }

  /** Lingering before a close: read and drop whatever the client still sends. */
  private discard(): void {
    const tcp = this.tcp;
    this.rs = this.re = 0;
    try {
      while (tcp && this.readable > 0) this.readSome(tcp);
    } catch {
      this.destroy();
    }
  }

  /** Read what fits of the waiting bytes into the read buffer; returns how many. */
  private readSome(tcp: TCP): number {
    const rbuf = this.buffers.read;
    const n = this.readable < rbuf.length ? this.readable : rbuf.length;
    tcp.read(n === rbuf.length ? rbuf : rbuf.subarray(0, n));
    this.readable -= n;
    return n;
  }

  // --- Timer -------------------------------------------------------------------

  private deadline(): number {
    const server = this.server;
    if (this.flags & LINGERING) return this.mark;
    if (this.flags & SENDING) return server.idleTimeout > 0 ? this.mark + server.idleTimeout : Infinity;
    if (this.reader.inProgress) return server.requestTimeout > 0 ? this.reader.startedAt + server.requestTimeout : Infinity;
    return server.idleTimeout > 0 ? this.idleSince + server.idleTimeout : Infinity;
  }

  private settle(): void {
    this.armDeadline(this.tcp ? this.deadline() : Infinity);
  }

  protected override onDeadline(): void {
    if (!this.tcp) return;
    if (platformNow() < this.deadline()) {
      this.settle();
      return;
    }
    if (this.flags & LINGERING) this.destroy();
    else if (this.flags & SENDING) {
      this.server.emitError(new Error('client stopped reading: response abandoned'));
      this.destroy();
    } else if (this.reader.inProgress) {
      // 408: the rest of the head or body may still come; no linger (the client is stalled).
      this.sendError('', '', 408, true);
    } else this.destroy();
  }
}
