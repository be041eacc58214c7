// A raw TCP "WebSocket server" for client tests: it parses the upgrade request by
// hand, answers it however a test wants (properly, wrongly, or never), records every
// frame the client sends (with its mask key), and can go silent, stop reading, or
// echo; over TLS too (`tls`: wss://). Independent of src/ on purpose: it uses
// node:crypto and its own frame codec.
import net from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface RawRequest {
  method: string;
  target: string;
  version: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  head: string;
}

export interface RawFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  mask: Buffer | null;
  payload: Buffer;
  /** performance-independent arrival time (Date.now()). */
  at: number;
}

/** Decodes frames from a byte stream (either direction; unmasks when masked). */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawFrame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const frames: RawFrame[] = [];
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) break;
      const masked = (b[1] & 0x80) !== 0;
      let length = b[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) break;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) break;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (b.length < at + length) break;
      const mask = masked ? Buffer.from(b.subarray(maskAt, maskAt + 4)) : null;
      const payload = Buffer.from(b.subarray(at, at + length));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      frames.push({ fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0x0f, masked, mask, payload, at: Date.now() });
      this.buffer = b.subarray(at + length);
    }
    return frames;
  }
}

/** A server frame (unmasked unless `mask` is given). */
export function encodeFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true, mask?: Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const n = data.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(n, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(n), 2);
  if (!mask) return Buffer.concat([head, data]);
  mask.copy(head, 2 + lengthBytes);
  const body = Buffer.from(data);
  for (let i = 0; i < n; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, body]);
}

export function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** The proper 101 response for a request, with optional extra header lines. */
export function switchingProtocols(request: RawRequest, extra: string[] = [], accept = acceptFor(request.headers['sec-websocket-key'] ?? '')): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n` +
    extra.map((line) => line + '\r\n').join('') +
    '\r\n'
  );
}

export type Responder =
  /** Proper 101, then frames are recorded. */
  | 'accept'
  /** Read the request, never answer anything. */
  | 'never'
  /** Write this (a full response head, maybe frames after it) and keep the socket open. */
  | ((request: RawRequest) => string | Buffer);

export interface RawServerOptions {
  respond?: Responder;
  /** After the 101: 'record' (default) reads and records frames and answers nothing;
   *  'echo' also echoes data messages, answers pings and closes; 'pause' stops reading. */
  after?: 'record' | 'echo' | 'pause';
  /** In 'echo' mode: end TCP after answering a close (default true). */
  endOnClose?: boolean;
  /** Serve wss://: a TLS server with these options (certificate and key at least). */
  tls?: tls.TlsOptions;
}

export class RawConnection {
  readonly socket: net.Socket;
  request: RawRequest | null = null;
  readonly frames: RawFrame[] = [];
  /** Bytes received after the request head. */
  bytesAfterHead = 0;
  ended = false;
  private readonly reader = new FrameReader();
  private head = Buffer.alloc(0);
  private upgraded = false;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  constructor(socket: net.Socket, private readonly options: RawServerOptions) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => (this.ended = true));
  }

  write(data: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Answer a request held back ('never') with a proper 101 now; frames are recorded from then on. */
  accept(): void {
    if (!this.request) throw new Error('no request yet');
    this.write(switchingProtocols(this.request));
    this.upgraded = true;
  }

  private onData(chunk: Buffer): void {
    if (!this.request) {
      this.head = Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = this.head.subarray(0, end).toString('latin1');
      const rest = this.head.subarray(end + 4);
      const [requestLine, ...lines] = text.split('\r\n');
      const [method, target, version] = requestLine.split(' ');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      this.request = { method, target, version, headers, head: text };
      const respond = this.options.respond ?? 'accept';
      if (respond === 'never') return;
      if (respond === 'accept') {
        this.write(switchingProtocols(this.request));
        this.upgraded = true;
        if (this.options.after === 'pause') this.socket.pause();
      } else {
        const response = respond(this.request);
        this.write(typeof response === 'string' ? Buffer.from(response, 'latin1') : response);
        this.upgraded = true; // whatever the client makes of it, record what follows
      }
      if (rest.length) this.onFrames(rest);
      return;
    }
    if (this.upgraded) this.onFrames(chunk);
  }

  private onFrames(chunk: Buffer): void {
    this.bytesAfterHead += chunk.length;
    for (const frame of this.reader.push(chunk)) {
      this.frames.push(frame);
      if (this.options.after === 'echo') this.echo(frame);
    }
  }

  private echo(frame: RawFrame): void {
    switch (frame.opcode) {
      case 0x9:
        this.write(encodeFrame(0xa, frame.payload));
        return;
      case 0x8:
        this.write(encodeFrame(0x8, frame.payload.subarray(0, 2)));
        if (this.options.endOnClose !== false) this.socket.end();
        return;
      case 0xa:
        return;
      default:
        if (frame.opcode !== 0) {
          this.fragmentOpcode = frame.opcode;
          this.fragments = [];
        }
        this.fragments.push(frame.payload);
        if (frame.fin) this.write(encodeFrame(this.fragmentOpcode, Buffer.concat(this.fragments)));
    }
  }

  /** Data messages reassembled from the recorded frames. */
  messages(): Array<{ opcode: number; payload: Buffer; frames: number }> {
    const out: Array<{ opcode: number; payload: Buffer; frames: number }> = [];
    let current: { opcode: number; parts: Buffer[] } | null = null;
    for (const frame of this.frames) {
      if (frame.opcode >= 0x8) continue;
      if (frame.opcode !== 0) current = { opcode: frame.opcode, parts: [] };
      current!.parts.push(frame.payload);
      if (frame.fin) {
        out.push({ opcode: current!.opcode, payload: Buffer.concat(current!.parts), frames: current!.parts.length });
        current = null;
      }
    }
    return out;
  }
}

export class RawServer {
  readonly connections: RawConnection[] = [];
  private readonly server: net.Server;
  port = 0;

  private readonly secure: boolean;

  private constructor(options: RawServerOptions) {
    const accept = (socket: net.Socket) => {
      this.connections.push(new RawConnection(socket, options));
    };
    this.secure = options.tls !== undefined;
    this.server = options.tls ? tls.createServer(options.tls, accept) : net.createServer(accept);
    // A client that gives up on a TLS handshake is no error of the server's.
    this.server.on('tlsClientError', () => {});
  }

  static async start(options: RawServerOptions = {}): Promise<RawServer> {
    const raw = new RawServer(options);
    await new Promise<void>((resolve, reject) => {
      raw.server.once('error', reject);
      raw.server.listen(0, '127.0.0.1', () => resolve());
    });
    raw.port = (raw.server.address() as net.AddressInfo).port;
    return raw;
  }

  /** ws://127.0.0.1:PORT, or over TLS wss://localhost:PORT (the name the test certificate holds). */
  get url(): string {
    return this.secure ? `wss://localhost:${this.port}` : `ws://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
