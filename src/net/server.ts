// WebSocketServer: nanoFramework's WebSocketServer in TypeScript idiom, on ECMA-419
// sockets. Stand-alone (its own Listener) or fed by an HTTP server's upgrade hand-off.
// Clients are named by their endpoint ("address:port"). Memory is fixed per client
// and the number of clients is capped: one more gets 503 and its socket is closed.

import type Listener from 'embedded:io/socket/listener';
import { boundPort, closeListener, listen } from './listen';
import TCP from 'embedded:io/socket/tcp';
import { SocketLink, checkLinkOptions } from './socket-link';
import { refuse } from './reject';
import type { LinkOptions } from './socket-link';
import { CloseCode } from '../websocket/protocol';
import type { MessageType } from '../websocket/protocol';
import { ReadyState } from '../websocket/connection';
import type { ConnectionOptions } from '../websocket/connection';
import type { ServerHandshakeOptions } from '../websocket/handshake';
import { errorResponse } from '../websocket/handshake';
import { latin1Bytes } from '../http/head';
import type { HttpRequestHead } from '../http/head';
import { textCodec } from '../bytes/utf8';
import { Emitter } from './emitter';
import { asBytes, deliver } from '../websocket/message-data';

export interface ServerOptions {
  /** Listening port (stand-alone). Default 80. */
  port?: number;
  /** Interface to bind (stand-alone). Host default (hosts/sim: 127.0.0.1). */
  address?: string;
  /** Path the WebSocket endpoint answers on (404 elsewhere). Default '/'. */
  prefix?: string;
  /** Open plus handshaking clients at most; one more gets 503. Default 4. */
  maxClients?: number;
  /** Own a Listener (true, default) or only take hand-offs through addWebSocket(). */
  isStandAlone?: boolean;
  /** Server header in handshake responses. */
  serverName?: string;
  /** Supported subprotocols; the first one the client offers is chosen. */
  subprotocols?: readonly string[];
  /** Accept or refuse (403) a client by its Origin header. */
  checkOrigin?: (origin: string | undefined, request: HttpRequestHead) => boolean;
  /** Ping a silent client after this long (ms); 0 disables. Default 30000. */
  keepAliveInterval?: number;
  /** Wait this long for a pong, and for the close handshake (ms). Default 10000. */
  clientTimeout?: number;
  /** Opening handshake must complete within this (ms). Default 10000. */
  handshakeTimeout?: number;
  /** Largest message received (1009 beyond). Default 1024 (message mode). */
  maxMessageSize?: number;
  maxReceiveFrameSize?: number;
  maxFragmentSize?: number;
  receiveMode?: 'message' | 'stream';
  chunkSize?: number;
  /** Encoder scratch buffer per client. Default 512. */
  sendBufferSize?: number;
  /** Largest request head (431 beyond). Default 2048. */
  maxHeaderSize?: number;
  /** Socket read size per client. Default 512. */
  readBufferSize?: number;
  /** Send budget per client; a send that does not fit is refused (returns false). Default 2048. */
  sendQueueSize?: number;
}

export interface ServerEvents {
  opened: (client: string, protocol: string) => void;
  /** Text as a string; binary as a view valid during the call only (slice() to keep). */
  message: (client: string, data: string | Uint8Array, isText: boolean) => void;
  /** Stream mode: each piece of a message (a view valid during the call only). */
  chunk: (client: string, data: Uint8Array, isText: boolean, first: boolean, last: boolean) => void;
  closed: (client: string, code: number, reason: string, wasClean: boolean) => void;
  /** The client's send queue has emptied: a send it refused for its budget would fit now. */
  drain: (client: string) => void;
  /** Exceptions thrown by listeners, rejected handshakes, listener failures. */
  error: (error: Error, client?: string) => void;
}

/**
 * One client: its entry in the server's table and its link, whose events it reports as
 * the server's events under the client's endpoint. It is the link (a subclass), so a
 * client costs one object and its events reach the server without a forwarding call.
 */
class ServerClient extends SocketLink {
  endpoint = '';
  /** Opened (the 101 went out) and not yet closed. */
  isOpen = false;

  constructor(
    private readonly server: WebSocketServer,
    connectionOptions: ConnectionOptions,
    linkOptions: LinkOptions,
  ) {
    super(connectionOptions, linkOptions);
  }

  // Events before the client is registered (endpoint '') are ignored, as its socket is
  // still being attached.
  override open(protocol: string): void {
    if (this.endpoint === '') return;
    this.isOpen = true;
    this.server.clientOpened(this, protocol);
  }

  override message(type: MessageType, data: Uint8Array, start: number, end: number): void {
    this.server.clientMessage(this, deliver(type, data, start, end), type === 'text');
  }

  override chunk(type: MessageType, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void {
    this.server.clientChunk(this, data.subarray(start, end), type === 'text', first, last);
  }

  override drained(): void {
    if (this.isOpen) this.server.clientDrained(this);
  }

  override close(code: number, reason: string, wasClean: boolean): void {
    if (this.endpoint === '') return;
    this.server.clientClosed(this, code, reason, wasClean);
  }

  override error(error: unknown): void {
    this.server.clientError(error);
  }
}

/** How long a rejected (503) socket may take to send its request before it is closed. */
const REJECT_LINGER = 2000;

export class WebSocketServer extends Emitter<ServerEvents> {
  private readonly options: ServerOptions;
  private readonly clients = new Map<string, ServerClient>();
  private listener: Listener | null = null;
  private nextId = 1;
  private stopping = false;

  /** Throws a RangeError for buffer sizes no connection could work with. */
  constructor(options: ServerOptions = {}) {
    super();
    checkLinkOptions(options);
    this.options = options;
  }

  /** Open clients. */
  get clientsCount(): number {
    let n = 0;
    for (const client of this.clients.values()) if (client.isOpen) n++;
    return n;
  }

  /** Endpoints of the open clients. */
  listClients(): string[] {
    const list: string[] = [];
    for (const client of this.clients.values()) if (client.isOpen) list.push(client.endpoint);
    return list;
  }

  /**
   * The port actually listened on where the host's listener reports it (hosts/sim: useful
   * with port 0); otherwise, and when not listening, the configured port (default 80).
   */
  get port(): number | undefined {
    return boundPort(this.listener, this.options.port ?? 80);
  }

  /** Stand-alone: start listening. */
  start(): void {
    if (this.options.isStandAlone === false) throw new Error('not stand-alone: feed it with addWebSocket()');
    if (this.listener) return;
    this.stopping = false;
    this.listener = listen(this.options.port ?? 80, this.options.address, (socket) => this.accept(socket, null));
  }

  /**
   * Take over a socket whose upgrade request an HTTP server already read: `request` is
   * the parsed head and `rest` the bytes read after it (the start of the first frame;
   * the server may unmask them in place). Without `request`, the handshake is read from
   * the socket. Returns false when the
   * server is full (the client got 503) or the request was refused.
   */
  addWebSocket(socket: TCP, request?: HttpRequestHead, rest?: Uint8Array): boolean {
    return this.accept(socket, request ?? null, rest);
  }

  /** Send to every open client. Returns how many accepted it (a full send budget refuses). */
  broadcast(data: string | ArrayBuffer | ArrayBufferView): number {
    const codec = typeof data === 'string' ? textCodec() : null;
    // Encode text once for every client when the engine can (else each link measures it).
    const bytes = typeof data !== 'string' ? asBytes(data) : codec ? codec.encode(data) : null;
    const type = typeof data === 'string' ? 'text' : 'binary';
    let sent = 0;
    for (const client of this.clients.values()) {
      if (!client.isOpen) continue;
      if (bytes ? client.sendBytes(type, bytes) : client.sendText(data as string)) sent++;
    }
    return sent;
  }

  /** Send text or binary to one client. False if unknown, not open, or over its send budget. */
  send(endpoint: string, data: string | ArrayBuffer | ArrayBufferView): boolean {
    return typeof data === 'string' ? this.sendText(endpoint, data) : this.sendBinary(endpoint, data);
  }

  sendText(endpoint: string, text: string): boolean {
    const client = this.clients.get(endpoint);
    return !!client && client.isOpen && client.sendText(text);
  }

  sendBinary(endpoint: string, data: ArrayBuffer | ArrayBufferView): boolean {
    const client = this.clients.get(endpoint);
    return !!client && client.isOpen && client.sendBytes('binary', asBytes(data));
  }

  /** One fragment of a message of unknown length to one client (streaming, echo). */
  sendFragment(endpoint: string, data: ArrayBuffer | ArrayBufferView, isText: boolean, first: boolean, last: boolean): boolean {
    const client = this.clients.get(endpoint);
    return !!client && client.isOpen && client.sendFragment(isText ? 'text' : 'binary', asBytes(data), first, last);
  }

  /** Bytes queued for one client (0 if unknown). */
  bufferedAmount(endpoint: string): number {
    return this.clients.get(endpoint)?.bufferedAmount ?? 0;
  }

  /** Close one client with a close handshake. False if unknown. */
  disconnectClient(endpoint: string, code: number = CloseCode.Normal, reason = ''): boolean {
    const client = this.clients.get(endpoint);
    if (!client) return false;
    client.connection.close(code, reason);
    client.settle();
    return true;
  }

  /** Stop listening and close every client with 1001 (going away). */
  stop(): void {
    this.stopping = true;
    if (this.listener) closeListener(this.listener);
    this.listener = null;
    for (const client of [...this.clients.values()]) {
      client.connection.close(CloseCode.GoingAway, 'server stopping');
      client.settle();
    }
  }

  private accept(socket: TCP, request: HttpRequestHead | null, rest?: Uint8Array): boolean {
    if (this.stopping || this.clients.size >= (this.options.maxClients ?? 4)) {
      this.reject(socket, request !== null);
      return false;
    }
    const o = this.options;
    const connectionOptions: ConnectionOptions = {
      role: 'server',
      mode: o.receiveMode ?? 'message',
      maxMessageSize: o.maxMessageSize ?? (o.receiveMode === 'stream' ? Number.MAX_SAFE_INTEGER : 1024),
      keepAliveInterval: o.keepAliveInterval ?? 30000,
      keepAliveTimeout: o.clientTimeout ?? 10000,
      closeTimeout: o.clientTimeout ?? 10000,
      handshakeTimeout: o.handshakeTimeout ?? 10000,
      maxFragmentSize: o.maxFragmentSize ?? 0,
      sendBufferSize: o.sendBufferSize ?? 512,
      maxHeaderSize: o.maxHeaderSize ?? 2048,
    };
    if (o.maxReceiveFrameSize !== undefined) connectionOptions.maxFrameSize = o.maxReceiveFrameSize;
    if (o.chunkSize !== undefined) connectionOptions.chunkSize = o.chunkSize;
    const linkOptions: LinkOptions = { readBufferSize: o.readBufferSize ?? 512, sendQueueSize: o.sendQueueSize ?? 2048 };
    const link = new ServerClient(this, connectionOptions, linkOptions);
    link.attach({ from: socket, nodelay: true });
    link.endpoint = this.endpointOf(link);
    this.clients.set(link.endpoint, link);
    const handshake: ServerHandshakeOptions = { path: o.prefix ?? '/' };
    if (o.subprotocols) handshake.subprotocols = o.subprotocols;
    if (o.checkOrigin) handshake.checkOrigin = o.checkOrigin;
    if (o.serverName !== undefined) handshake.serverName = o.serverName;
    if (request) link.connection.acceptUpgrade(request, handshake, rest);
    else link.connection.startServer(handshake);
    link.settle();
    return request ? link.connection.state === ReadyState.Open : true;
  }

  // A client's events, as the server's events under its endpoint (called by ServerClient).

  /** @internal */
  clientOpened(client: ServerClient, protocol: string): void {
    this.emit('opened', client.endpoint, protocol);
  }

  /** @internal */
  clientMessage(client: ServerClient, data: string | Uint8Array, isText: boolean): void {
    this.emit('message', client.endpoint, data, isText);
  }

  /** @internal */
  clientChunk(client: ServerClient, data: Uint8Array, isText: boolean, first: boolean, last: boolean): void {
    this.emit('chunk', client.endpoint, data, isText, first, last);
  }

  /** @internal */
  clientDrained(client: ServerClient): void {
    this.emit('drain', client.endpoint);
  }

  /** @internal A client's connection closed (reported once). */
  clientClosed(client: ServerClient, code: number, reason: string, wasClean: boolean): void {
    this.clients.delete(client.endpoint);
    if (client.isOpen) this.emit('closed', client.endpoint, code, reason, wasClean);
    else this.emit('error', new Error(reason), client.endpoint);
    client.isOpen = false;
  }

  /** @internal A client's handler threw. */
  clientError(error: unknown): void {
    this.reportError(error);
  }

  private endpointOf(link: SocketLink): string {
    const address = link.remoteAddress;
    const port = link.remotePort;
    let endpoint = address !== undefined && port !== undefined ? `${address}:${port}` : `client-${this.nextId++}`;
    while (this.clients.has(endpoint)) endpoint = `${endpoint}#${this.nextId++}`;
    return endpoint;
  }

  /**
   * Full (or stopping): answer 503 and close. The request is read first (bounded in
   * size and time) so the close does not reset the connection under the response.
   */
  private reject(socket: TCP, requestAlreadyRead: boolean): void {
    const response = latin1Bytes(errorResponse(503, 'server full', this.options.serverName, 'Retry-After: 5'));
    refuse(socket, response, { requestRead: requestAlreadyRead, maxHead: this.options.maxHeaderSize ?? 2048, linger: REJECT_LINGER });
    this.emit('error', new Error('server full: rejected a client with 503'));
  }
}
