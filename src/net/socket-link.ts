// Binds one WebSocketConnection to one ECMA-419 TCP socket: reads into a fixed
// buffer in onReadable, writes only what onWritable allows, keeps the rest in a
// bounded SendQueue, and drives the connection's timeouts with one Moddable timer.
// Every host (esp32, the Moddable simulator, Node through hosts/sim) provides the
// same `embedded:io/socket/tcp` and `timer` modules, so this file ships unchanged.

import TCP from 'embedded:io/socket/tcp';
import { ReadyState, WebSocketConnection } from '../websocket/connection';
import { CloseCode } from '../websocket/protocol';
import type { MessageType } from '../websocket/protocol';
import { textCodec, utf8Length } from '../bytes/utf8';
import type { ConnectionHandler, ConnectionOptions } from '../websocket/connection';
import { SendQueue } from './send-queue';
import { closeSocket, disownSocket, openOwnedSocket, writeSocket } from './socket-owner';
import type { SocketClass, SocketOwner } from './socket-owner';
import { isTlsError } from './tls';
import { platformNow, platformRandom } from './platform';
import { TimedOwner } from './timed-owner';

// Only the host modules' default exports are named here, so the same source type-checks
// against Moddable's typings (mcconfig) and against ours (hosts/typings, CI).
type TCPOptions = ConstructorParameters<typeof TCP>[0];

export interface LinkOptions {
  /** Fixed receive buffer: bytes read from the socket per read() call. Default 1024. */
  readBufferSize?: number;
  /**
   * Bytes kept for the socket when it cannot take them yet. The whole send budget of a
   * connection: a message that does not fit is refused (send returns false), and input
   * is read only as far as the queue could take back what it may cause to be sent
   * (see pump()). Default 4096.
   */
  sendQueueSize?: number;
}

/** What a link reports to its owner (client or server). Handlers may be absent. */
export type LinkEvents = Omit<ConnectionHandler, 'write' | 'end'> & {
  /** The send queue has emptied after holding bytes: a send refused for the budget would fit again. */
  drained?(): void;
};

/** Headroom kept for control frames (pong, close) when admitting data messages. */
const CONTROL_RESERVE = 2 * (125 + 14);
/**
 * After refusing a handshake, how long to keep reading (and dropping) the client's input
 * before closing anyway (ms). Closing a socket with unread input resets the connection,
 * which can destroy the refusal response before the client reads it. (A failed connection
 * lingers up to its closeTimeout instead: see end().)
 */
const REFUSAL_LINGER = 1000;
/**
 * A failed connection's link also closes once the peer has sent nothing for this long (ms)
 * after our last bytes left: then nothing is unread or on its way, so closing sends a FIN,
 * not a reset, and the peer has had that long to read our close frame. A peer that answered
 * the close frame and waits for us to close TCP first (RFC 6455 7.1.1, as browsers and
 * Python's websockets do) is not kept for the whole closeTimeout. Longer than a TCP
 * retransmission timeout (200 ms at least on Linux) and far longer than the gaps between
 * a busy link's reads, so a peer in mid-message is not taken for one that is done.
 */
const LINGER_QUIET = 500;
/** Largest frame header, used to budget messages before they are encoded. */
const HEADER_BUDGET = 14;
/** The smallest send queue that admits a message at all (a 1-byte one). */
export const MIN_SEND_QUEUE = CONTROL_RESERVE + HEADER_BUDGET + 1;

/** Throws a RangeError for link options no connection could work with. */
export function checkLinkOptions(options: LinkOptions): void {
  const { readBufferSize, sendQueueSize } = options;
  if (readBufferSize !== undefined && !(Number.isInteger(readBufferSize) && readBufferSize >= 1)) {
    throw new RangeError(`readBufferSize must be a whole number >= 1, got ${readBufferSize}`);
  }
  if (sendQueueSize !== undefined && !(Number.isInteger(sendQueueSize) && sendQueueSize >= MIN_SEND_QUEUE)) {
    throw new RangeError(
      `sendQueueSize must be a whole number >= ${MIN_SEND_QUEUE} (${CONTROL_RESERVE} bytes are kept for control frames), got ${sendQueueSize}`,
    );
  }
}

/**
 * The link is its connection's handler (ConnectionHandler): the connection's bytes go
 * straight to write(), its events to the methods below, which pass them to `events`. A
 * subclass (the server's client entry) overrides those methods instead: one object per
 * connection and no forwarding call on the way to the application, which keeps a
 * device's stack shallow (a message's handler sends from inside the read).
 */
export class SocketLink extends TimedOwner implements SocketOwner, ConnectionHandler {
  readonly connection: WebSocketConnection;
  /** @internal What the link reports to its owner, unless a subclass overrides the event methods. */
  readonly events: LinkEvents | undefined;
  private socket: TCP | null = null;
  private readonly readBuffer: Uint8Array;
  private readonly queue: SendQueue;
  private readonly maxFragmentSize: number;
  private writable = 0;
  private readable = 0;
  private ending = false;
  /** Ended after a refused handshake or a failure: drop input, close only once the peer has. */
  private lingering = false;
  /** Bytes were written (a refusal sends a response; a handshake timeout does not). */
  private wroteAny = false;
  private endDeadline = Infinity;
  /** After failing: close at this time unless more input comes (LINGER_QUIET); else Infinity. */
  private quietUntil = Infinity;
  private readonly closeTimeout: number;
  private readonly isServer: boolean;
  private pumping = false;
  /** A TLS socket that has not reported writable yet: its handshake is not done. */
  private tlsPending = false;
  /**
   * The socket failed under a write (or the queue overflowed): what the connection is told
   * from the timer, with a fresh stack ('' = the transport closed, else the abort reason);
   * null when nothing is pending. See loseLater().
   */
  private lossPending: string | null = null;

  constructor(connectionOptions: ConnectionOptions, linkOptions: LinkOptions, events?: LinkEvents) {
    super();
    checkLinkOptions(linkOptions);
    // Whole words, so the parser can unmask and validate it a word at a time in place.
    const readSize = linkOptions.readBufferSize ?? 1024;
    this.readBuffer = new Uint8Array(new ArrayBuffer((readSize + 3) & ~3), 0, readSize);
    this.queue = new SendQueue(linkOptions.sendQueueSize ?? 4096);
    this.maxFragmentSize = connectionOptions.maxFragmentSize ?? 0;
    this.closeTimeout = connectionOptions.closeTimeout ?? 5000;
    this.isServer = connectionOptions.role === 'server';
    this.events = events;
    // The read buffer is the link's and each read overwrites it: the parser may unmask in it.
    this.connection = new WebSocketConnection({ random: platformRandom(), now: platformNow, ...connectionOptions, unmaskInPlace: true }, this);
  }

  /**
   * Open the socket: a new connection (address/port) or an accepted one (from). `tls`: a
   * TLS socket class of the same ECMA-419 shape (wss://), given its `host` and `secure`
   * options in socketOptions.
   */
  attach(socketOptions: TCPOptions, tls?: SocketClass): void {
    this.tlsPending = tls !== undefined;
    this.socket = openOwnedSocket(socketOptions, this, tls);
  }

  /** @internal The socket has `count` bytes to read. */
  onSocketReadable(count: number): void {
    this.readable = count;
    this.pump();
  }

  /** @internal The socket takes `count` more bytes. */
  onSocketWritable(count: number): void {
    this.tlsPending = false; // a TLS socket is writable once its handshake is done
    this.writable = count;
    this.flush();
  }

  /** Bytes accepted but not yet handed to the socket. */
  get bufferedAmount(): number {
    return this.queue.length;
  }

  get remoteAddress(): string | undefined {
    return this.socket?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket?.remotePort;
  }

  /**
   * Whether a message of `bytes` payload bytes fits the send budget now (the socket's
   * free space plus the queue's, less room kept for control frames).
   */
  canSend(bytes: number): boolean {
    if (!this.socket) return false;
    const frames = this.maxFragmentSize > 0 ? Math.max(1, Math.ceil(bytes / this.maxFragmentSize)) : 1;
    const room = (this.queue.length === 0 ? this.writable : 0) + this.queue.free - CONTROL_RESERVE;
    return bytes + frames * HEADER_BUDGET <= room;
  }

  /**
   * Send a text message within the send budget. With a native codec the string is
   * encoded once here (and its byte length is exact); without one, measured first.
   * False when the connection is not open or the message does not fit.
   */
  sendText(text: string): boolean {
    const codec = textCodec();
    if (codec) return this.sendBytes('text', codec.encode(text));
    if (this.connection.state !== ReadyState.Open || !this.canSend(utf8Length(text))) return false;
    const sent = this.connection.sendText(text);
    this.settle();
    return sent;
  }

  /** Send a whole message of bytes (text: valid UTF-8) within the send budget. */
  sendBytes(type: MessageType, bytes: Uint8Array): boolean {
    if (this.connection.state !== ReadyState.Open || !this.canSend(bytes.length)) return false;
    const sent = type === 'text' ? this.connection.sendTextBytes(bytes) : this.connection.sendBinary(bytes);
    this.settle();
    return sent;
  }

  /** Send one fragment of a message of unknown length within the send budget. */
  sendFragment(type: MessageType, bytes: Uint8Array, first: boolean, last: boolean): boolean {
    if (this.connection.state !== ReadyState.Open || !this.canSend(bytes.length)) return false;
    const sent = this.connection.sendFragment(type, bytes, 0, bytes.length, first, last);
    this.settle();
    return sent;
  }

  /** Call after any operation on the connection: re-arms the timer for its next deadline. */
  settle(): void {
    if (this.lossPending !== null) return; // its timer is armed; the connection is done
    const at = Math.min(this.connection.nextTimeout(), this.closeAt());
    this.armDeadline(this.socket ? at : Infinity);
  }

  protected override onDeadline(): void {
    const loss = this.lossPending;
    if (loss !== null) {
      this.lossPending = null;
      if (loss) this.connection.abort(loss);
      else this.connection.transportClosed();
      return;
    }
    if (platformNow() >= this.closeAt()) {
      this.closeSocket();
      return;
    }
    // Still connecting, the only deadline is the opening handshake's: with the TLS
    // handshake unfinished, say so (1015), not that the server ignored the upgrade.
    if (this.tlsPending && this.connection.state === ReadyState.Connecting && platformNow() >= this.connection.nextTimeout()) {
      this.connection.abort('TLS handshake timed out', CloseCode.TlsHandshake);
      return;
    }
    this.connection.handleTimeout();
    this.settle();
  }

  /** When an ended link closes its socket: the deadline, or earlier once a failed link's peer went quiet. */
  private closeAt(): number {
    // The quiet period counts only once our bytes (the close frame) have all left.
    return this.queue.length === 0 ? Math.min(this.endDeadline, this.quietUntil) : this.endDeadline;
  }

  /**
   * Read while data is waiting and the send queue has room for what a handler may send
   * back because of it: an echo answers each delivery, and one read can deliver the
   * payload held from earlier reads (heldInput) as well as its own bytes. So a read takes
   * at most the room left after those; with an empty queue it reads anyway (a message
   * larger than the whole queue would otherwise never complete: its sender then finds
   * the budget too small, as it would for any message that size).
   */
  private pump(): void {
    if (this.pumping) return; // a handler's send re-entered through flush()
    this.pumping = true;
    const buffer = this.readBuffer;
    let dropped = false;
    try {
      while (this.socket && this.readable > 0) {
        let n = this.readable;
        if (!this.ending && this.queue.length > 0) {
          // Two header budgets: the held payload's frame header was read earlier, so its
          // echo's header is output this read did not bring in (later frames' headers are
          // larger coming in, masked, than going out).
          const room = this.queue.free - CONTROL_RESERVE - 2 * HEADER_BUDGET - this.connection.heldInput;
          if (room <= 0) break; // onWritable drains the queue, then flush() reads on
          if (room < n) n = room;
        }
        const direct = this.ending ? 0 : this.connection.directRoom;
        if (direct > 0 && direct >= (n < buffer.length ? n : buffer.length)) {
          // All of this read is payload the parser would copy into its own buffer: read it
          // there (one view per read instead of a copy), as much as the payload takes. A
          // read that would reach past the payload goes through the read buffer, so the
          // socket is not read more often than before.
          if (direct < n) n = direct;
          this.socket.read(this.connection.directView(n));
          this.readable -= n;
          this.connection.receiveDirect(n);
          continue;
        }
        if (n > buffer.length) n = buffer.length;
        // read(buffer) fills it exactly: a shorter read needs a shorter view.
        this.socket.read(n === buffer.length ? buffer : buffer.subarray(0, n));
        this.readable -= n;
        // Once ended, input is only drained: the connection is closed and never sees it.
        if (this.ending) dropped = true;
        else this.connection.receive(buffer, 0, n);
      }
    } catch {
      this.lost(); // the socket failed under us
    }
    if (dropped && this.quietUntil !== Infinity) this.quietUntil = platformNow() + LINGER_QUIET;
    this.pumping = false;
    this.settle();
  }

  /** @internal The connection's bytes (ConnectionHandler). */
  write(data: Uint8Array, start: number, end: number): void {
    const socket = this.socket;
    if (!socket) return;
    this.wroteAny = true;
    if (this.queue.length === 0 && this.writable > 0) {
      // Hand the socket what it takes now and queue only the rest: queuing all of a piece
      // larger than `writable` would leave no write in flight, so no onWritable would
      // ever come to flush the queue (and reading stops once it is nearly full).
      const n = Math.min(end - start, this.writable);
      try {
        if (!writeSocket(socket, start === 0 && n === data.length ? data : data.subarray(start, start + n))) {
          this.loseLater('');
          return;
        }
        this.writable -= n;
      } catch {
        this.loseLater('');
        return;
      }
      start += n;
      if (start === end) return;
    }
    if (!this.queue.push(data, start, end)) {
      // Only control frames and handshake bytes can get here (data is admitted by
      // canSend): the peer has stopped reading. Drop it rather than grow.
      this.loseLater('send queue overflow: the peer does not read');
    }
  }

  private flush(): void {
    const socket = this.socket;
    if (!socket) return;
    if (this.queue.length > 0 && this.writable > 0) {
      try {
        const sent = this.queue.drain(this.writable, (piece) => writeSocket(socket, piece));
        if (sent < 0) {
          this.lost();
          return;
        }
        this.writable -= sent;
        if (sent > 0) {
          this.connection.outputProgressed();
          if (this.quietUntil !== Infinity) this.quietUntil = platformNow() + LINGER_QUIET;
          if (this.queue.length === 0 && !this.ending) this.drained();
        }
      } catch {
        this.lost();
        return;
      }
    }
    if (this.ending && this.queue.length === 0 && !this.lingering) {
      this.closeSocket();
      return;
    }
    if (this.readable > 0) this.pump();
    else this.settle();
  }

  /**
   * @internal The connection is done with the transport: close once the queue is flushed
   * (ConnectionHandler). `failed`: see ConnectionHandler.end.
   */
  end(failed = false): void {
    // A handshake this server refused (the rest of the request may still be unread or on
    // its way) or a connection failed with a close frame (the peer may be mid-message):
    // closing over unread input would reset the connection, destroying what we sent last
    // before the peer reads it. So flush, then keep reading and dropping input, writing
    // nothing, until the peer closes (onError) or the deadline passes, or, after a failure,
    // the peer has gone quiet (LINGER_QUIET). ECMA-419 sockets cannot half-close (no
    // shutdown), so we cannot send our FIN at once and wait for the peer's, as ws does.
    if (this.lossPending !== null) return; // the socket is closed; the timer reports the loss
    const refused = this.isServer && this.wroteAny && !this.connection.wasOpened;
    this.lingering = refused || failed;
    if (!this.socket || (this.queue.length === 0 && !this.lingering)) {
      this.closeSocket();
      return;
    }
    this.ending = true;
    const now = platformNow();
    // One deadline for flushing and lingering. A failed connection gets its closeTimeout:
    // the time it would give this peer to answer a close anyway, the application's to tune
    // (clientTimeout, serverTimeout); a small fixed bound would cut off a peer still sending
    // the rest of a large message over a slow link (the Moddable simulator reads ~75 KB/s),
    // and with it the close code. A peer that is done goes quiet and is closed sooner. A
    // refused request is small: REFUSAL_LINGER.
    this.endDeadline = now + (refused ? REFUSAL_LINGER : this.closeTimeout);
    if (failed) this.quietUntil = now + LINGER_QUIET;
    this.settle();
  }

  /** @internal The socket failed or the peer closed it; a TLS socket's failed handshake says why (1015). */
  onSocketError(error?: unknown): void {
    if (isTlsError(error)) {
      this.closeSocket();
      this.connection.transportClosed(error.message, CloseCode.TlsHandshake);
      return;
    }
    this.lost();
  }

  private lost(): void {
    this.closeSocket();
    this.connection.transportClosed();
  }

  /**
   * A write failed: close the socket now (nothing more is written to it) and tell the
   * connection from the timer. write() runs inside whatever sent (often an application's
   * message handler, itself inside onReadable): reporting the close there would run the
   * close handlers nested on top of that call chain, deep enough to overflow a device's
   * JavaScript stack (384 slots in Moddable's simulator, 512 on the Atom Lite; XS then
   * aborts, and a device reboots), and the sender would see its connection close inside
   * its own send().
   */
  private loseLater(reason: string): void {
    this.closeSocket();
    this.lossPending = reason;
    this.armDeadline(0); // due now: the timer runs it from the event loop
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.clearDeadline();
    this.queue.clear();
    this.readable = 0;
    this.endDeadline = Infinity;
    this.quietUntil = Infinity;
    if (socket) {
      disownSocket(socket); // a late callback finds no link
      closeSocket(socket);
    }
  }

  // The connection's events (ConnectionHandler), passed to `events`; see the class comment.

  /** @internal */
  open(protocol: string): void {
    this.events?.open?.(protocol);
  }

  /** @internal */
  message(type: MessageType, data: Uint8Array, start: number, end: number): void {
    this.events?.message?.(type, data, start, end);
  }

  /** @internal */
  chunk(type: MessageType, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void {
    this.events?.chunk?.(type, data, start, end, first, last);
  }

  /** @internal */
  ping(data: Uint8Array, start: number, end: number): void {
    this.events?.ping?.(data, start, end);
  }

  /** @internal */
  pong(data: Uint8Array, start: number, end: number): void {
    this.events?.pong?.(data, start, end);
  }

  /** @internal */
  close(code: number, reason: string, wasClean: boolean): void {
    this.events?.close?.(code, reason, wasClean);
  }

  /** @internal */
  error(error: unknown): void {
    this.events?.error?.(error);
  }

  /** @internal The send queue emptied after holding bytes (LinkEvents.drained). */
  drained(): void {
    this.events?.drained?.();
  }
}
