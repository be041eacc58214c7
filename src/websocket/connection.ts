// The WebSocket connection state machine, sans-IO: bytes and clock readings in,
// events and bytes out. It owns the opening handshake, the frame parser and encoder,
// automatic pongs, the close handshake and every timeout (handshake, close,
// keep-alive), all driven by an injected clock: a host calls handleTimeout() when
// nextTimeout() is due. It never touches a socket or a timer itself.

import { CloseCode, Opcode, isValidWireCloseCode } from './protocol';
import type { MessageType } from './protocol';
import { FrameParser } from './parser';
import type { FrameParserOptions, Role } from './parser';
import { FrameEncoder } from './encoder';
import { decodeUtf8, utf8Length } from '../bytes/utf8';
import { mathRandom } from '../bytes/random';
import type { RandomSource } from '../bytes/random';
import { HttpHeadReader, latin1Bytes, parseRequestHead, parseResponseHead } from '../http/head';
import type { HttpRequestHead } from '../http/head';
import { acceptClientRequest, createClientRequest, errorResponse, validateServerResponse } from './handshake';
import type { ClientRequestOptions, ServerHandshakeOptions } from './handshake';

export const ReadyState = {
  Connecting: 0,
  Open: 1,
  Closing: 2,
  Closed: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** What the connection asks of its host and reports to its application. */
export interface ConnectionHandler {
  /** Bytes for the transport, in order. Valid only during the call: write or copy them. */
  write(data: Uint8Array, start: number, end: number): void;
  /**
   * Close the transport once what was written has been sent. Called at most once.
   * `failed`: the connection was failed (RFC 6455 7.1.7) with a close frame the peer has
   * not answered, so the peer may still be sending. Its input is of no use any more, but
   * closing a socket over unread or arriving input makes TCP reset the connection, and a
   * reset can destroy the close frame before the peer reads it: keep reading and dropping
   * input until the peer closes, for a bounded time, then close.
   */
  end(failed?: boolean): void;
  /** The handshake succeeded; `protocol` is the negotiated subprotocol or ''. */
  open?(protocol: string): void;
  /** A whole message (message mode). The bytes are valid only during the call. */
  message?(type: MessageType, data: Uint8Array, start: number, end: number): void;
  /** A piece of a message (stream mode). */
  chunk?(type: MessageType, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void;
  /** A ping arrived (the pong has already been queued). */
  ping?(data: Uint8Array, start: number, end: number): void;
  pong?(data: Uint8Array, start: number, end: number): void;
  /**
   * The connection is closed, reported exactly once. `wasClean` is true only after a
   * completed close handshake. 1006 means the transport was lost or a timeout fired; a
   * handshake failure also reports 1006 with the reason.
   */
  close?(code: number, reason: string, wasClean: boolean): void;
  /**
   * An application callback above threw. The exception is caught so that it cannot
   * unwind the parser halfway through a read (losing or desynchronising frames) or
   * reach the host's event loop (on a device: a reboot); the connection carries on.
   */
  error?(error: unknown): void;
}

export interface ConnectionOptions {
  role: Role;
  /** 'message' (default) or 'stream' delivery. */
  mode?: 'message' | 'stream';
  /** Largest message received (1009 beyond). Default 4096 in message mode, unlimited when streaming. */
  maxMessageSize?: number;
  /** Largest frame received (1009 beyond). Default: maxMessageSize. */
  maxFrameSize?: number;
  /** Stream-mode chunk buffer. Default 1024. */
  chunkSize?: number;
  /**
   * The transport owns the buffers it passes to receive() and reads them no more: a masked
   * frame whole in one of them is unmasked there and delivered without a copy
   * (FrameParserOptions.unmaskInPlace). Default false. SocketLink sets it.
   */
  unmaskInPlace?: boolean;
  /** Largest payload per frame sent; longer messages are fragmented. 0 (default): never. */
  maxFragmentSize?: number;
  /** Encoder scratch buffer. Default 1024. */
  sendBufferSize?: number;
  /** Largest HTTP head accepted during the handshake (431 / failure beyond). Default 4096. */
  maxHeaderSize?: number;
  /** Mask keys and handshake nonces. Default Math.random. */
  random?: RandomSource;
  /** Milliseconds clock. Default Date.now. */
  now?: () => number;
  /** Opening handshake must finish within this (ms). Default 10000; 0 disables. */
  handshakeTimeout?: number;
  /** Close handshake must finish within this (ms). Default 5000. */
  closeTimeout?: number;
  /** Send a ping after this much silence (ms). Default 0: no keep-alive. */
  keepAliveInterval?: number;
  /** Fail with 1006 if nothing arrives this long after a keep-alive ping (ms). Default 10000. */
  keepAliveTimeout?: number;
}

const NO_DEADLINE = Infinity;

export class WebSocketConnection {
  private readonly handler: ConnectionHandler;
  private readonly role: Role;
  private readonly parser: FrameParser;
  private readonly encoder: FrameEncoder;
  private readonly random: RandomSource;
  private readonly now: () => number;
  private readonly maxHeaderSize: number;
  private readonly handshakeTimeout: number;
  private readonly closeTimeout: number;
  private readonly keepAliveInterval: number;
  private readonly keepAliveTimeout: number;

  private readyState: ReadyState = ReadyState.Connecting;
  private negotiated = '';
  private closeReported = false;
  private openedOnce = false;
  private ended = false;
  private started = false;
  private closeSent = false;
  private fragmenting = false;

  // Handshake (dropped once open, so its buffer can be collected).
  private head: HttpHeadReader | null = null;
  private clientKey = '';
  private offered: readonly string[] = [];
  private serverOptions: ServerHandshakeOptions | null = null;

  // Timers, as absolute clock readings.
  private handshakeDeadline = NO_DEADLINE;
  private closeDeadline = NO_DEADLINE;
  private lingerDeadline = NO_DEADLINE;
  private pingDue = NO_DEADLINE;
  private pongDeadline = NO_DEADLINE;
  private readonly pingPayload = new Uint8Array(4);
  private pingCount = 0;

  constructor(options: ConnectionOptions, handler: ConnectionHandler) {
    this.handler = handler;
    this.role = options.role;
    this.random = options.random ?? mathRandom;
    this.now = options.now ?? Date.now;
    this.maxHeaderSize = options.maxHeaderSize ?? 4096;
    this.handshakeTimeout = options.handshakeTimeout ?? 10000;
    this.closeTimeout = options.closeTimeout ?? 5000;
    this.keepAliveInterval = options.keepAliveInterval ?? 0;
    this.keepAliveTimeout = options.keepAliveTimeout ?? 10000;
    const parserOptions: FrameParserOptions = { role: options.role, mode: options.mode ?? 'message' };
    if (options.maxMessageSize !== undefined) parserOptions.maxMessageSize = options.maxMessageSize;
    if (options.maxFrameSize !== undefined) parserOptions.maxFrameSize = options.maxFrameSize;
    if (options.chunkSize !== undefined) parserOptions.chunkSize = options.chunkSize;
    if (options.unmaskInPlace) parserOptions.unmaskInPlace = true;
    this.parser = new FrameParser(parserOptions, this);
    this.encoder = new FrameEncoder(
      {
        role: options.role,
        maxFragmentSize: options.maxFragmentSize ?? 0,
        bufferSize: options.sendBufferSize ?? 1024,
        random: this.random,
      },
      (data, start, end) => this.write(data, start, end),
    );
  }

  get state(): ReadyState {
    return this.readyState;
  }

  /** The negotiated subprotocol ('' if none). */
  get protocol(): string {
    return this.negotiated;
  }

  /** Bytes of fixed buffers held by the parser and encoder. */
  get bufferBytes(): number {
    return this.parser.bufferBytes + this.encoder.bufferBytes + this.pingPayload.length;
  }

  // --- Opening handshake -------------------------------------------------------

  /** Client: write the upgrade request and wait for the response. */
  startClient(request: ClientRequestOptions): void {
    this.begin('client');
    const { request: text, key } = createClientRequest(request, this.random);
    this.clientKey = key;
    this.offered = request.subprotocols ?? [];
    this.head = new HttpHeadReader(this.maxHeaderSize);
    this.writeText(text);
  }

  /** Server: wait for the upgrade request on this transport. */
  startServer(options: ServerHandshakeOptions = {}): void {
    this.begin('server');
    this.serverOptions = options;
    this.head = new HttpHeadReader(this.maxHeaderSize);
  }

  /**
   * Server: take over a request an HTTP server already parsed (upgrade hand-off).
   * `rest` holds bytes read after the request head: the start of the first frame.
   * Returns true when the connection opened.
   */
  acceptUpgrade(request: HttpRequestHead, options: ServerHandshakeOptions = {}, rest?: Uint8Array, start = 0, end = rest ? rest.length : 0): boolean {
    this.begin('server');
    this.answerRequest(request, options);
    if (rest && this.readyState === ReadyState.Open && start < end) this.receive(rest, start, end);
    return this.readyState === ReadyState.Open;
  }

  private begin(role: Role): void {
    if (this.started) throw new Error('connection already started');
    if (role !== this.role) throw new Error(`a ${this.role} connection cannot start as a ${role}`);
    this.started = true;
    if (this.handshakeTimeout > 0) this.handshakeDeadline = this.now() + this.handshakeTimeout;
  }

  // --- Input -------------------------------------------------------------------

  /** Bytes from the transport. */
  receive(data: Uint8Array, start = 0, end = data.length): void {
    if (this.readyState === ReadyState.Closed || start >= end) return;
    if (this.keepAliveInterval > 0 && this.readyState === ReadyState.Open) this.peerAlive();
    if (this.readyState === ReadyState.Connecting) {
      if (!this.head) return; // not started: ignore
      start = this.receiveHead(data, start, end);
      if (start < 0 || this.state !== ReadyState.Open) return;
    }
    if (start < end) this.parser.push(data, start, end);
  }

  /**
   * Payload bytes the transport may read straight into the parser's buffer
   * (FrameParser.directRoom), saving a copy through its own buffer; 0 when it may not.
   */
  get directRoom(): number {
    return this.readyState === ReadyState.Open || this.readyState === ReadyState.Closing ? this.parser.directRoom : 0;
  }

  /** Where the next `n` (<= directRoom) bytes go: a view made per call. */
  directView(n: number): Uint8Array {
    return this.parser.directView(n);
  }

  /** The transport wrote `n` (<= directRoom) bytes at directView(n): as receive() of them. */
  receiveDirect(n: number): void {
    if (this.directRoom < n) return;
    if (this.keepAliveInterval > 0 && this.readyState === ReadyState.Open) this.peerAlive();
    this.parser.pushDirect(n);
  }

  /** Any bytes from the peer prove it alive. */
  private peerAlive(): void {
    this.pongDeadline = NO_DEADLINE;
    this.pingDue = this.now() + this.keepAliveInterval;
  }

  /** The transport closed or failed (a TLS transport may say why: 1015 and its reason). */
  transportClosed(reason = '', code: number = CloseCode.Abnormal): void {
    this.ended = true; // nothing left to end
    this.lingerDeadline = NO_DEADLINE;
    this.finish(code, reason, false);
  }

  /**
   * The transport delivered more of our output to the peer (bytes left a send queue).
   * A peer that takes our bytes is alive: a pending close or pong deadline restarts, so a
   * close frame or ping queued behind a large message is not timed out while the message
   * is still draining to a slow but working peer. A peer that takes nothing still times out.
   */
  outputProgressed(now = this.now()): void {
    if (this.closeDeadline !== NO_DEADLINE) this.closeDeadline = now + this.closeTimeout;
    if (this.pongDeadline !== NO_DEADLINE) this.pongDeadline = now + this.keepAliveTimeout;
  }

  /**
   * Received payload bytes not delivered yet (FrameParser.held): the next receive() may
   * deliver them with its own, and a handler that answers each message (an echo) sends
   * them all then. A transport bounds its reads by this and its send room.
   */
  get heldInput(): number {
    return this.parser.held;
  }

  /** True once the opening handshake succeeded (also after the connection closed). */
  get wasOpened(): boolean {
    return this.openedOnce;
  }

  /** The earliest clock reading at which handleTimeout() has work, or Infinity. */
  nextTimeout(): number {
    return Math.min(this.handshakeDeadline, this.closeDeadline, this.lingerDeadline, this.pingDue, this.pongDeadline);
  }

  /** Run whatever timers are due at `now` (default: the injected clock). */
  handleTimeout(now = this.now()): void {
    if (now >= this.handshakeDeadline) {
      this.fail(CloseCode.Abnormal, 'opening handshake timed out');
      return;
    }
    if (now >= this.closeDeadline) {
      this.closeDeadline = NO_DEADLINE;
      this.finish(CloseCode.Abnormal, 'close handshake timed out', false);
      this.endTransport();
      return;
    }
    if (now >= this.lingerDeadline) {
      // Client after a clean close: the server did not close TCP in time; do it ourselves.
      this.lingerDeadline = NO_DEADLINE;
      this.endTransport();
      return;
    }
    if (now >= this.pongDeadline) {
      this.fail(CloseCode.Abnormal, 'keep-alive timed out: no answer from the peer');
      return;
    }
    if (now >= this.pingDue && this.readyState === ReadyState.Open) {
      const payload = this.pingPayload;
      const n = ++this.pingCount;
      payload[0] = n >>> 24;
      payload[1] = (n >> 16) & 0xff;
      payload[2] = (n >> 8) & 0xff;
      payload[3] = n & 0xff;
      this.encoder.ping(payload);
      this.pingDue = NO_DEADLINE;
      this.pongDeadline = now + this.keepAliveTimeout;
    }
  }

  // --- Output ------------------------------------------------------------------

  /** Send a text message. Returns false (and sends nothing) unless the connection is open. */
  sendText(text: string): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    this.checkNotFragmenting();
    this.encoder.text(text);
    return true;
  }

  /** Send a binary message (the bytes are not modified). False unless open. */
  sendBinary(data: Uint8Array, start = 0, end = data.length): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    this.checkNotFragmenting();
    this.encoder.binary(data, start, end);
    return true;
  }

  /** Send a text message from UTF-8 bytes the caller has validated. False unless open. */
  sendTextBytes(data: Uint8Array, start = 0, end = data.length): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    this.checkNotFragmenting();
    this.encoder.textBytes(data, start, end);
    return true;
  }

  /**
   * Send one fragment of a message whose size is not known up front (streaming, echo
   * of streamed input). Text fragments are UTF-8 bytes the caller has validated; a
   * sequence may be split across fragments. Fragments of one message must not be
   * interleaved with other data messages (control frames may interleave).
   */
  sendFragment(type: MessageType, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    if (first === this.fragmenting) {
      throw new Error(first ? 'previous fragmented message not finished' : 'no fragmented message to continue');
    }
    this.encoder.frame(first ? (type === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, last, data, start, end);
    this.fragmenting = !last;
    return true;
  }

  /** Send a ping (payload at most 125 bytes). False unless open. */
  ping(data?: Uint8Array): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    this.encoder.ping(data);
    return true;
  }

  /**
   * Start the close handshake. The code must be valid on the wire (1000, 3000-4999, ...)
   * and the reason at most 123 UTF-8 bytes, else a RangeError is thrown. Before the
   * connection opened this abandons the handshake.
   */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (!isValidWireCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
    if (utf8Length(reason) > 123) throw new RangeError('close reason longer than 123 bytes');
    if (this.readyState === ReadyState.Connecting) {
      this.fail(CloseCode.Abnormal, 'closed before the connection opened');
      return;
    }
    if (this.readyState !== ReadyState.Open) return;
    this.readyState = ReadyState.Closing;
    this.sendClose(code, reason);
    this.stopKeepAlive();
    this.closeDeadline = this.now() + this.closeTimeout;
  }

  private checkNotFragmenting(): void {
    if (this.fragmenting) throw new Error('a fragmented message is being sent: finish it with sendFragment(..., last = true)');
  }

  /** Drop the connection at once: no close frame, the transport is ended, 1006 (or `code`, local-only) reported. */
  abort(reason = 'aborted', code: number = CloseCode.Abnormal): void {
    this.fail(code, reason);
  }

  // --- Internals ---------------------------------------------------------------

  private write(data: Uint8Array, start: number, end: number): void {
    if (!this.ended) this.handler.write(data, start, end);
  }

  private writeText(text: string): void {
    const bytes = latin1Bytes(text);
    this.write(bytes, 0, bytes.length);
  }

  private endTransport(failed = false): void {
    if (this.ended) return;
    this.ended = true;
    this.handler.end(failed);
  }

  private sendClose(code: number | undefined, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.encoder.close(code, reason);
  }

  private stopKeepAlive(): void {
    this.pingDue = NO_DEADLINE;
    this.pongDeadline = NO_DEADLINE;
  }

  /** Report the close once and clear every timer but the client's linger. */
  private finish(code: number, reason: string, wasClean: boolean): void {
    this.readyState = ReadyState.Closed;
    this.parser.stop();
    this.head = null;
    this.handshakeDeadline = NO_DEADLINE;
    this.closeDeadline = NO_DEADLINE;
    this.stopKeepAlive();
    if (this.closeReported) return;
    this.closeReported = true;
    try {
      this.handler.close?.(code, reason, wasClean);
    } catch (error) {
      this.reportError(error);
    }
  }

  private reportError(error: unknown): void {
    try {
      this.handler.error?.(error);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }

  /** Fail without a close frame (handshake failures, timeouts, abort) and end the transport. */
  private fail(code: number, reason: string): void {
    this.finish(code, reason, false);
    this.endTransport();
  }

  /** Returns the offset after the head once open, or -1 while waiting or after a failure. */
  private receiveHead(data: Uint8Array, start: number, end: number): number {
    const head = this.head;
    if (!head) return -1;
    const at = head.push(data, start, end);
    if (at === -1) return -1;
    if (this.role === 'server') {
      if (at === -2) return this.reject(431, 'request header fields too large');
      const request = parseRequestHead(head.text());
      if (!request) return this.reject(400, 'malformed request');
      this.answerRequest(request, this.serverOptions ?? {});
    } else {
      if (at === -2) return this.failHandshake('response head too large');
      const response = parseResponseHead(head.text());
      if (!response) return this.failHandshake('malformed response');
      const verdict = validateServerResponse(response, this.clientKey, this.offered);
      if (!verdict.ok) return this.failHandshake(verdict.reason);
      this.opened(verdict.value.protocol);
    }
    return this.readyState === ReadyState.Open ? at : -1;
  }

  private answerRequest(request: HttpRequestHead, options: ServerHandshakeOptions): void {
    const decision = acceptClientRequest(request, options);
    this.writeText(decision.response);
    if (decision.ok) this.opened(decision.protocol);
    else this.fail(CloseCode.Abnormal, `handshake rejected: ${decision.status} ${decision.reason}`);
  }

  private reject(status: number, reason: string): number {
    this.writeText(errorResponse(status, reason, this.serverOptions?.serverName));
    this.fail(CloseCode.Abnormal, `handshake rejected: ${status} ${reason}`);
    return -1;
  }

  private failHandshake(reason: string): number {
    this.fail(CloseCode.Abnormal, `handshake failed: ${reason}`);
    return -1;
  }

  private opened(protocol: string): void {
    this.head = null;
    this.serverOptions = null;
    this.handshakeDeadline = NO_DEADLINE;
    this.negotiated = protocol;
    this.readyState = ReadyState.Open;
    this.openedOnce = true;
    if (this.keepAliveInterval > 0) this.pingDue = this.now() + this.keepAliveInterval;
    try {
      this.handler.open?.(protocol);
    } catch (error) {
      this.reportError(error);
    }
  }

  // FrameHandler: the parser reports to the connection itself. Methods on the prototype,
  // not closures made per connection: in XS each closure costs ~11 heap slots, and the
  // Atom Lite's whole heap is 4,928 slots.

  /** @internal FrameHandler */
  onMessage(type: MessageType, data: Uint8Array, start: number, end: number): void {
    try {
      this.handler.message?.(type, data, start, end);
    } catch (error) {
      this.reportError(error);
    }
  }

  /** @internal FrameHandler */
  onChunk(type: MessageType, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void {
    try {
      this.handler.chunk?.(type, data, start, end, first, last);
    } catch (error) {
      this.reportError(error);
    }
  }

  /** @internal FrameHandler */
  onPing(data: Uint8Array, start: number, end: number): void {
    if (this.readyState === ReadyState.Open) this.encoder.pong(data, start, end);
    try {
      this.handler.ping?.(data, start, end);
    } catch (error) {
      this.reportError(error);
    }
  }

  /** @internal FrameHandler */
  onPong(data: Uint8Array, start: number, end: number): void {
    try {
      this.handler.pong?.(data, start, end);
    } catch (error) {
      this.reportError(error);
    }
  }

  /** @internal FrameHandler */
  onClose(code: number, data: Uint8Array, start: number, end: number): void {
    this.peerClosed(code, data, start, end);
  }

  /** @internal FrameHandler */
  onError(code: number, reason: string): void {
    this.protocolError(code, reason);
  }

  private peerClosed(code: number, data: Uint8Array, start: number, end: number): void {
    const reason = start < end ? decodeUtf8(data, start, end) : '';
    // Echo the peer's code (an empty close is answered with an empty close).
    this.sendClose(code === CloseCode.NoStatus ? undefined : code, '');
    this.finish(code, reason, true);
    if (this.role === 'server') {
      this.endTransport();
    } else {
      // RFC 6455 7.1.1: the server closes TCP first; wait for it, but not forever.
      this.lingerDeadline = this.now() + this.closeTimeout;
    }
  }

  private protocolError(code: number, reason: string): void {
    // Fail the connection (RFC 6455 7.1.7): our close frame, then the transport ends,
    // once the peer has stopped sending (see ConnectionHandler.end).
    this.sendClose(code, reason);
    this.finish(code, reason, false);
    this.endTransport(true);
  }
}
