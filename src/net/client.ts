// WebSocketClient: nanoFramework's ClientWebSocket in TypeScript idiom, on ECMA-419
// sockets. Every wait is bounded: DNS and the opening handshake by connectTimeout, a
// silent peer by keepAliveInterval + serverTimeout, the close handshake by serverTimeout.

import Timer from 'timer';
import { SocketLink, checkLinkOptions } from './socket-link';
import type { LinkOptions } from './socket-link';
import { CloseCode } from '../websocket/protocol';
import type { ConnectionOptions } from '../websocket/connection';
import { asBytes, deliver } from '../websocket/message-data';
import { Emitter } from './emitter';
import { isIPv4, parseWebSocketUrl } from '../websocket/url';
import { platformResolver } from './platform';
import { createClientRequest } from '../websocket/handshake';
import { tlsError, tlsSecureOptions } from './tls';
import type { TlsClientOptions, TlsSecureOptions } from './tls';
import type { SocketClass } from './socket-owner';
import type { WebSocketUrl } from '../websocket/url';

export interface ClientOptions {
  /** Ping after this much silence (ms); 0 disables. Default 30000. */
  keepAliveInterval?: number;
  /** How long to wait for the server: a pong after a keep-alive ping, and the close handshake (ms). Default 10000. */
  serverTimeout?: number;
  /** Bound on DNS + TCP connect + opening handshake (ms). Default 10000. */
  connectTimeout?: number;
  /** Largest message received (1009 beyond). Default 4096; in stream mode, default unlimited. */
  maxMessageSize?: number;
  /** Largest single frame received (1009 beyond). Default: maxMessageSize. */
  maxReceiveFrameSize?: number;
  /** Largest payload per frame sent; longer messages are fragmented. 0 (default): never. */
  maxFragmentSize?: number;
  /** 'message' (default): whole messages; 'stream': 'chunk' events, for messages larger than RAM. */
  receiveMode?: 'message' | 'stream';
  /** Stream-mode chunk size. Default 1024. */
  chunkSize?: number;
  /** Encoder scratch buffer. Default 1024. */
  sendBufferSize?: number;
  /** Largest handshake response head. Default 4096. */
  maxHeaderSize?: number;
  /** Socket read size. Default 1024. */
  readBufferSize?: number;
  /** Send budget: bytes queued for a slow socket; a send that does not fit returns false. Default 4096. */
  sendQueueSize?: number;
  /** wss:// (TLS): the host's TLS socket class and what to trust. Required for wss:// URLs. */
  tls?: TlsClientOptions;
}

export interface ConnectOptions {
  /** Extra request headers (names must be tokens; handshake headers cannot be overridden). */
  headers?: Readonly<Record<string, string>>;
  /** Offered subprotocols, in preference order. */
  subprotocols?: readonly string[];
  origin?: string;
}

export type SocketState = 'connecting' | 'open' | 'closing' | 'closed';

export interface ClientEvents {
  open: (protocol: string) => void;
  /** Text as a string; binary as a view into the receive buffer, valid during the call only (slice() to keep). */
  message: (data: string | Uint8Array, isText: boolean) => void;
  /** Stream mode: each piece of a message, as a view valid during the call only. */
  chunk: (data: Uint8Array, isText: boolean, first: boolean, last: boolean) => void;
  pong: (data: Uint8Array) => void;
  /** Always exactly once per connect(), also when connecting failed (then code 1006). */
  close: (code: number, reason: string, wasClean: boolean) => void;
  /** Connect failures, handshake failures, exceptions thrown by listeners. */
  error: (error: Error) => void;
}

const STATES: readonly SocketState[] = ['connecting', 'open', 'closing', 'closed'];

// Only default exports of host modules are used: Moddable's typings and ours differ in names.
type TimerId = ReturnType<typeof Timer.set>;

export class WebSocketClient extends Emitter<ClientEvents> {
  private readonly options: ClientOptions;
  private link: SocketLink | null = null;
  private phase: SocketState = 'closed';
  private opened = false;
  private resolveTimer: TimerId | null = null;

  /** Throws a RangeError for buffer sizes no connection could work with. */
  constructor(options: ClientOptions = {}) {
    super();
    checkLinkOptions(options);
    this.options = options;
  }

  get state(): SocketState {
    if (this.link) return STATES[this.link.connection.state];
    return this.phase;
  }

  /** The negotiated subprotocol ('' if none). */
  get protocol(): string {
    return this.link ? this.link.connection.protocol : '';
  }

  /** Bytes accepted by send() and not yet handed to the socket. */
  get bufferedAmount(): number {
    return this.link ? this.link.bufferedAmount : 0;
  }

  /**
   * Connect to ws://host[:port]/path or wss://host[:port]/path (needs options.tls). Throws
   * for a malformed URL or options; every later failure arrives as 'error' then 'close'
   * (1006; 1015 when the TLS handshake failed, with the reason).
   */
  connect(url: string, options: ConnectOptions = {}): void {
    if (this.state !== 'closed') throw new Error('already connected or connecting');
    const target = parseWebSocketUrl(url);
    let secure: TlsSecureOptions | null = null;
    if (target.secure) {
      const tls = this.options.tls;
      if (!tls) throw new Error("wss:// needs a TLS socket: options.tls = { socket: TLS, ca } (import TLS from 'embedded:io/socket/tcp/tls')");
      secure = tlsSecureOptions(tls, target.host);
    }
    // Bad headers, subprotocols or origin throw here, not later on a socket that would
    // then wait out connectTimeout (the request is built again once the socket exists).
    const check: Parameters<typeof createClientRequest>[0] = { host: target.host, port: target.port, path: target.path, secure: target.secure };
    if (options.subprotocols) check.subprotocols = options.subprotocols;
    if (options.headers) check.headers = options.headers;
    if (options.origin !== undefined) check.origin = options.origin;
    createClientRequest(check, () => {});
    this.phase = 'connecting';
    this.opened = false;
    const start = (address: string): void => {
      this.clearResolveTimer();
      if (this.phase !== 'connecting') return;
      try {
        this.open(address, target, secure, options);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Once the link exists failEarly() does nothing: fail the link, or nothing ever reports.
        if (this.link) this.link.connection.abort(message);
        else this.failEarly(message);
      }
    };
    if (isIPv4(target.host)) return this.later(() => start(target.host));
    if (target.host === 'localhost') return this.later(() => start('127.0.0.1'));
    const resolve = platformResolver();
    if (!resolve) return this.later(() => this.failEarly(`cannot resolve ${target.host}: this host has no DNS resolver`));
    this.resolveTimer = Timer.set(() => {
      this.resolveTimer = null;
      this.failEarly(`DNS lookup of ${target.host} timed out`);
    }, this.options.connectTimeout ?? 10000);
    resolve(target.host, (error, address) => {
      if (error || !address) {
        this.clearResolveTimer();
        this.failEarly(`cannot resolve ${target.host}: ${error ? error.message : 'no address'}`);
      } else start(address);
    });
  }

  /** Send a string as text, anything else as binary. False when not open or over the send budget. */
  send(data: string | ArrayBuffer | ArrayBufferView): boolean {
    return typeof data === 'string' ? this.sendText(data) : this.sendBinary(data);
  }

  sendText(text: string): boolean {
    return !!this.link && this.link.sendText(text);
  }

  sendBinary(data: ArrayBuffer | ArrayBufferView): boolean {
    return !!this.link && this.link.sendBytes('binary', asBytes(data));
  }

  /** Send one fragment of a message of unknown length (see WebSocketConnection.sendFragment). */
  sendFragment(data: ArrayBuffer | ArrayBufferView, isText: boolean, first: boolean, last: boolean): boolean {
    return !!this.link && this.link.sendFragment(isText ? 'text' : 'binary', asBytes(data), first, last);
  }

  ping(payload?: ArrayBuffer | ArrayBufferView): boolean {
    const link = this.link;
    if (!link) return false;
    const sent = link.connection.ping(payload ? asBytes(payload) : undefined);
    link.settle();
    return sent;
  }

  /** Start the close handshake (bounded by serverTimeout). Throws RangeError for a code that may not be sent. */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.phase === 'connecting' && !this.link) {
      this.failEarly('closed before the connection opened');
      return;
    }
    const link = this.link;
    if (!link) return;
    link.connection.close(code, reason);
    link.settle();
  }

  /** Drop the connection now: no close handshake, 'close' reports 1006. */
  abort(): void {
    if (!this.link) {
      if (this.phase === 'connecting') this.failEarly('aborted');
      return;
    }
    this.link.connection.abort();
  }

  private open(address: string, target: WebSocketUrl, secure: TlsSecureOptions | null, options: ConnectOptions): void {
    const { host, port, path } = target;
    const o = this.options;
    const mode = o.receiveMode ?? 'message';
    const connectionOptions: ConnectionOptions = {
      role: 'client',
      mode,
      keepAliveInterval: o.keepAliveInterval ?? 30000,
      keepAliveTimeout: o.serverTimeout ?? 10000,
      closeTimeout: o.serverTimeout ?? 10000,
      handshakeTimeout: o.connectTimeout ?? 10000,
      maxFragmentSize: o.maxFragmentSize ?? 0,
    };
    if (o.maxMessageSize !== undefined) connectionOptions.maxMessageSize = o.maxMessageSize;
    if (o.maxReceiveFrameSize !== undefined) connectionOptions.maxFrameSize = o.maxReceiveFrameSize;
    if (o.chunkSize !== undefined) connectionOptions.chunkSize = o.chunkSize;
    if (o.sendBufferSize !== undefined) connectionOptions.sendBufferSize = o.sendBufferSize;
    if (o.maxHeaderSize !== undefined) connectionOptions.maxHeaderSize = o.maxHeaderSize;
    const linkOptions: LinkOptions = {};
    if (o.readBufferSize !== undefined) linkOptions.readBufferSize = o.readBufferSize;
    if (o.sendQueueSize !== undefined) linkOptions.sendQueueSize = o.sendQueueSize;
    const link = new SocketLink(connectionOptions, linkOptions, {
      open: (protocol) => {
        this.opened = true;
        this.emit('open', protocol);
      },
      message: (type, data, start, end) => this.emit('message', deliver(type, data, start, end), type === 'text'),
      chunk: (type, data, start, end, first, last) => this.emit('chunk', data.subarray(start, end), type === 'text', first, last),
      pong: (data, start, end) => this.emit('pong', data.subarray(start, end)),
      close: (code, reason, wasClean) => {
        this.phase = 'closed';
        this.link = null;
        if (!this.opened) this.emit('error', code === CloseCode.TlsHandshake ? tlsError(reason) : new Error(reason || 'connection failed'));
        this.emit('close', code, reason, wasClean);
      },
      error: (error) => this.reportError(error),
    });
    this.link = link;
    const request: Parameters<typeof link.connection.startClient>[0] = { host, port, path, secure: target.secure };
    if (options.subprotocols) request.subprotocols = options.subprotocols;
    if (options.headers) request.headers = options.headers;
    if (options.origin !== undefined) request.origin = options.origin;
    if (secure) {
      // The TLS socket's ECMA-419 options: TCP's, plus `host` (SNI) and `secure`.
      const tlsOptions: Parameters<typeof link.attach>[0] & { host: string; secure: TlsSecureOptions } = { address, port, nodelay: true, host: secure.serverName, secure };
      link.attach(tlsOptions, this.options.tls!.socket as unknown as SocketClass);
    } else link.attach({ address, port, nodelay: true });
    link.connection.startClient(request); // queued until the socket is writable
    link.settle();
  }

  /** A failure before any socket exists: 'error' then 'close' (1006), asynchronously. */
  private failEarly(reason: string): void {
    if (this.phase !== 'connecting' || this.link) return;
    this.clearResolveTimer();
    this.phase = 'closed';
    this.emit('error', new Error(reason));
    this.emit('close', CloseCode.Abnormal, reason, false);
  }

  private later(task: () => void): void {
    Timer.set(() => task(), 0);
  }

  private clearResolveTimer(): void {
    if (this.resolveTimer) Timer.clear(this.resolveTimer);
    this.resolveTimer = null;
  }
}
