// A failed connection (1002, 1007, 1009, ...) must not lose its close code. Failing
// sends our close frame and then ends the transport; closing the socket while the
// peer's input is still unread or still arriving makes TCP answer with a reset, and a
// reset can destroy the close frame before the peer reads it (a `ws` client sending a
// message over the server's cap then reports 1006, a raw client ECONNRESET). So after
// failing, a link keeps reading and dropping the peer's input until the peer closes, has
// gone quiet for a while, or for at most its close timeout, and only then closes the
// socket: a FIN, not a reset. A clean close does not linger.
// Both roles: our server against a `ws` client and raw clients, our client against a
// `ws` server and a raw server. The `ws` peers run in a worker thread (fixtures/ws-peer.mjs),
// concurrently, as real peers do. No assertion depends on how fast the machine is.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installSimPlatform } from '../../hosts/sim/platform';
import { WebSocketClient } from '../../src/net/client';
import { startEchoServer } from '../../src/apps/echo-app';
import type { EchoOptions } from '../../src/apps/echo-app';
import type { WebSocketServer } from '../../src/net/server';
import { encodeFrame } from '../interop/peers/client-raw';
import { decodeFrames } from '../interop/peers/server-harness';
import type { WireFrame } from '../interop/peers/server-harness';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const ROUNDS = 20;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => void> = [];
beforeAll(() => installSimPlatform());
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // keep releasing the rest
    }
  }
});

async function waitFor(condition: () => boolean, what: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function echoServer(options: EchoOptions): WebSocketServer {
  const server = startEchoServer({ port: 0, keepAliveInterval: 0, ...options });
  cleanups.push(() => server.stop());
  return server;
}

interface PeerReport {
  codes: number[];
  port: number;
  code: number;
}

/** test/sim/fixtures/ws-peer.mjs in a worker thread; next() resolves with its next report. */
function wsPeer(workerData: Record<string, unknown>): { next(): Promise<PeerReport> } {
  const worker = new Worker(new URL('./fixtures/ws-peer.mjs', import.meta.url), { workerData });
  cleanups.push(() => void worker.terminate());
  const reports: PeerReport[] = [];
  const waiting: Array<(report: PeerReport) => void> = [];
  worker.on('message', (report: PeerReport) => {
    const resolve = waiting.shift();
    if (resolve) resolve(report);
    else reports.push(report);
  });
  return {
    next: () => {
      const report = reports.shift();
      return report ? Promise.resolve(report) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

// --- Frames ------------------------------------------------------------------------

/** A frame; masked with a random key when `masked` (client to server). */
function frame(opcode: number, payload: Buffer, { fin = true, masked = true } = {}): Buffer {
  return encodeFrame(opcode, payload, fin, masked ? randomBytes(4) : undefined);
}

/** The peer's close frame: code and reason, or null until one arrived. */
function closeOf(frames: WireFrame[]): { code: number; reason: string; masked: boolean } | null {
  const close = frames.find((f) => f.opcode === 8);
  if (!close) return null;
  return { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2).toString('utf8'), masked: close.masked };
}

// --- A raw TCP end that records everything ------------------------------------------

/** One end of a raw TCP connection: received bytes, FIN, errors, close. */
class RawEnd {
  data = Buffer.alloc(0);
  /** Where the WebSocket frames start (after the HTTP head), or -1. */
  headEnd = -1;
  gotFin = false;
  error: string | null = null;
  isClosed = false;

  constructor(readonly socket: net.Socket) {
    cleanups.push(() => socket.destroy());
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      if (this.headEnd < 0) {
        const i = this.data.indexOf('\r\n\r\n');
        if (i >= 0) this.headEnd = i + 4;
      }
    });
    socket.on('end', () => (this.gotFin = true));
    socket.on('error', (e: NodeJS.ErrnoException) => (this.error ??= `${e.code ?? ''} ${e.message}`));
    socket.on('close', () => (this.isClosed = true));
  }

  frames(): WireFrame[] {
    return this.headEnd < 0 ? [] : decodeFrames(this.data.subarray(this.headEnd)).frames;
  }

  close(): { code: number; reason: string; masked: boolean } | null {
    return closeOf(this.frames());
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /**
   * Keep writing `piece()`s a few ms apart, as a peer in the middle of a large message does,
   * whatever it reads, including a FIN: until the peer's close frame arrived and `after`
   * more pieces went out, then end our side (FIN). With `end` false it writes until the
   * connection is gone. Stops early if the socket fails.
   */
  async stream(piece: () => Buffer, after: number, end = true): Promise<void> {
    let extra = 0;
    while (!this.isClosed && !this.error && !this.socket.destroyed) {
      this.write(piece());
      if (end && this.close() && ++extra >= after) break;
      await sleep(2);
    }
    if (end && !this.socket.destroyed) this.socket.end();
  }
}

/**
 * Garbage to a failed connection that would make an open one answer (or deliver): eight
 * pings of 125 bytes, masked from a client. Never answered once the connection failed.
 */
function pings(masked: boolean): Buffer {
  return Buffer.concat(Array.from({ length: 8 }, () => frame(9, randomBytes(125), { masked })));
}

/** A raw client that opened a WebSocket connection to `port` by hand. */
async function rawClient(port: number): Promise<RawEnd> {
  // Half-open allowed: the client goes on writing after a FIN, as a peer in mid-message does.
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const end = new RawEnd(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  end.write(
    Buffer.from(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      'latin1',
    ),
  );
  await waitFor(() => end.headEnd >= 0 || end.isClosed, 'the 101 response');
  expect(end.data.subarray(0, end.headEnd).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return end;
}

// --- Server role ----------------------------------------------------------------------

describe('our server, after failing a connection, lets the peer read the close frame', () => {
  for (const [send, size] of [['big', 4 << 20], ['pieces', 1024]] as const) {
    const what = send === 'big' ? 'one 4 MiB message' : 'a message in 1 KiB fragments';
    it(`a ws client sending ${what} over maxMessageSize sees 1009, not 1006 (${ROUNDS} rounds)`, async () => {
      const server = echoServer({ maxMessageSize: 4096 });
      const worker = wsPeer({ role: 'client', port: server.port, rounds: ROUNDS, send, size });
      const { codes } = await worker.next();
      expect(codes).toEqual(Array(ROUNDS).fill(1009));
      await waitFor(() => server.clientsCount === 0, 'the server to drop every client');
    });
  }

  const violations: Array<[string, () => Buffer, number, string]> = [
    ['a reserved opcode', () => frame(3, Buffer.from('x')), 1002, 'reserved data opcode'],
    ['an unmasked frame', () => frame(1, Buffer.from('plain'), { masked: false }), 1002, 'unmasked frame from a client'],
    [
      'invalid UTF-8 split across frames',
      () =>
        Buffer.concat([
          frame(1, Buffer.from('ok so far \xce', 'latin1'), { fin: false }),
          frame(0, Buffer.from([0xba, 0xf4]), { fin: false }),
          frame(0, Buffer.from([0x90, 0x80, 0x80])), // U+110000: invalid at 0x90
        ]),
      1007,
      'invalid UTF-8 in text message',
    ],
    ['a frame over maxMessageSize (header only)', () => Buffer.from([0x82, 0xfe, 0x10, 0x01, 1, 2, 3, 4]), 1009, 'frame too big'],
  ];
  for (const [what, bytes, code, reason] of violations) {
    it(`a raw client sending ${what}, then garbage, reads the ${code} close frame and a FIN, no reset (${ROUNDS} rounds)`, async () => {
      const server = echoServer({ maxMessageSize: 4096 });
      for (let round = 0; round < ROUNDS; round++) {
        const client = await rawClient(server.port!);
        client.write(bytes());
        await client.stream(() => pings(true), 20);
        await waitFor(() => client.isClosed, 'the server to close TCP');
        expect({ round, error: client.error, close: client.close(), fin: client.gotFin, sent: client.data.length - client.headEnd }).toEqual({
          round,
          error: null,
          close: { code, reason, masked: false },
          fin: true,
          sent: 2 + 2 + Buffer.byteLength(reason), // the close frame and nothing else: no pongs
        });
      }
      await waitFor(() => server.clientsCount === 0, 'the server to drop every client');
    });
  }

  it('invalid UTF-8 split across frames and slow TCP writes: the 1007 arrives, no reset (many rounds)', async () => {
    const server = echoServer({ maxMessageSize: 4096 });
    const bytes = Buffer.concat([
      frame(1, Buffer.from('ok so far \xce', 'latin1'), { fin: false }),
      frame(0, Buffer.from([0xba, 0xf4]), { fin: false }),
      frame(0, Buffer.concat([Buffer.from([0x90, 0x80, 0x80]), Buffer.alloc(600, 0x61)])),
    ]);
    for (let round = 0; round < ROUNDS; round++) {
      const client = await rawClient(server.port!);
      // 3-byte writes 1 ms apart, all of them, also after the server has failed the message.
      for (let at = 0; at < bytes.length && !client.isClosed && !client.error; at += 3) {
        client.write(bytes.subarray(at, at + 3));
        await sleep(1);
      }
      if (!client.socket.destroyed) client.socket.end();
      await waitFor(() => client.isClosed, 'the server to close TCP');
      expect({ round, error: client.error, close: client.close() }).toEqual({
        round,
        error: null,
        close: { code: 1007, reason: 'invalid UTF-8 in text message', masked: false },
      });
    }
  });

  it('a peer that never stops sending is cut off after the close timeout, with the close frame delivered', async () => {
    const closed: Array<[number, boolean]> = [];
    const server = echoServer({ maxMessageSize: 4096, clientTimeout: 300 });
    server.on('closed', (_client, code, _reason, wasClean) => closed.push([code, wasClean]));
    const client = await rawClient(server.port!);
    client.write(frame(3, Buffer.from('x')));
    await client.stream(() => randomBytes(1024), 0, false); // until the server closes the connection
    await waitFor(() => client.isClosed, 'the connection to end');
    expect(client.close()).toEqual({ code: 1002, reason: 'reserved data opcode', masked: false });
    expect(closed).toEqual([[1002, false]]); // reported when failing, not when the socket closed
    expect(server.clientsCount).toBe(0);
  });

  it('a client that answers our close frame and waits for the server to close TCP first is not kept for the close timeout', async () => {
    // RFC 6455 7.1.1: the server closes TCP first, so a client may wait for it (browsers and
    // Python's websockets do). The server cannot read that answer (7.1.7: no processing after
    // failing), but the client has gone quiet, and that is enough.
    const server = echoServer({ maxMessageSize: 4096, clientTimeout: 60_000 });
    const client = await rawClient(server.port!);
    client.write(frame(3, Buffer.from('x')));
    await waitFor(() => client.close() !== null, 'the close frame');
    client.write(frame(8, Buffer.from([0x03, 0xea])));
    // Half-open allowed: the client never closes its side, only the server can end this.
    await waitFor(() => client.gotFin || client.error !== null, 'the server to close TCP');
    expect({ error: client.error, close: client.close(), fin: client.gotFin }).toEqual({
      error: null,
      close: { code: 1002, reason: 'reserved data opcode', masked: false },
      fin: true,
    });
  });

  it('a clean close needs no lingering: the server closes TCP after the close handshake without waiting for the client', async () => {
    const server = echoServer({ clientTimeout: 60_000 });
    const client = await rawClient(server.port!);
    client.write(frame(8, Buffer.from([0x03, 0xe8])));
    // The client never closes its side: only the server can end this before the test times out.
    await waitFor(() => client.gotFin, 'the server FIN');
    expect(client.close()).toEqual({ code: 1000, reason: '', masked: false });
    expect(client.error).toBeNull();
  });
});

// --- Client role -----------------------------------------------------------------------

/** A raw server that accepts the upgrade, then misbehaves through `then`. */
async function rawServer(then: (end: RawEnd) => void): Promise<{ port: number; ends: RawEnd[] }> {
  const ends: RawEnd[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const end = new RawEnd(socket);
    ends.push(end);
    let answered = false;
    socket.on('data', () => {
      if (answered) return;
      const head = end.data.indexOf('\r\n\r\n');
      if (head < 0) return;
      answered = true;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(end.data.subarray(0, head).toString('latin1'))![1];
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      then(end);
    });
  });
  cleanups.push(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, ends };
}

function connectClient(port: number, options: ConstructorParameters<typeof WebSocketClient>[0] = {}): Promise<{ code: number; wasClean: boolean }> {
  const client = new WebSocketClient({ keepAliveInterval: 0, ...options });
  cleanups.push(() => client.abort());
  const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) =>
    client.on('close', (code, _reason, wasClean) => resolve({ code, wasClean })),
  );
  client.on('error', () => {});
  client.connect(`ws://127.0.0.1:${port}/`);
  return closed;
}

describe('our client, after failing a connection, lets the server read the close frame', () => {
  const violations: Array<[string, () => Buffer, number, string]> = [
    ['a masked frame', () => frame(1, Buffer.from('masked'), { masked: true }), 1002, 'masked frame from a server'],
    ['a reserved opcode', () => frame(4, Buffer.from('x'), { masked: false }), 1002, 'reserved data opcode'],
    ['invalid UTF-8', () => frame(1, Buffer.from([0x61, 0xff, 0x62]), { masked: false }), 1007, 'invalid UTF-8 in text message'],
  ];
  for (const [what, bytes, code, reason] of violations) {
    it(`a raw server sending ${what}, then garbage, reads the ${code} close frame, no reset (${ROUNDS} rounds)`, async () => {
      const server = await rawServer((end) => {
        end.write(bytes());
        void end.stream(() => pings(false), 20);
      });
      for (let round = 0; round < ROUNDS; round++) {
        const closed = await connectClient(server.port);
        const end = server.ends[round];
        await waitFor(() => end.isClosed, 'the client to close TCP');
        expect({ round, closed, error: end.error, close: end.close(), fin: end.gotFin, sent: end.data.length - end.headEnd }).toEqual({
          round,
          closed: { code, wasClean: false },
          error: null,
          close: { code, reason, masked: true },
          fin: true,
          sent: 2 + 4 + 2 + Buffer.byteLength(reason), // the (masked) close frame and nothing else: no pongs
        });
      }
    });
  }

  it('a server that answers our close frame but never closes TCP is closed by the client, with a FIN', async () => {
    const server = await rawServer((end) => {
      end.write(frame(1, Buffer.from('masked'), { masked: true }));
      void waitFor(() => end.close() !== null, 'the close frame').then(() => end.write(frame(8, Buffer.from([0x03, 0xea]), { masked: false })));
    });
    const closed = await connectClient(server.port, { serverTimeout: 60_000 });
    const end = server.ends[0];
    // Half-open allowed: the server never closes its side, only the client can end this.
    await waitFor(() => end.gotFin || end.error !== null, 'the client to close TCP');
    expect({ closed, error: end.error, close: end.close(), fin: end.gotFin }).toEqual({
      closed: { code: 1002, wasClean: false },
      error: null,
      close: { code: 1002, reason: 'masked frame from a server', masked: true },
      fin: true,
    });
  });

  for (const [send, size] of [['big', 4 << 20], ['pieces', 1024]] as const) {
    const what = send === 'big' ? 'one 4 MiB message' : 'a message in 1 KiB fragments';
    it(`a ws server sending ${what} over the client's maxMessageSize sees 1009, not 1006 (${ROUNDS} rounds)`, async () => {
      const worker = wsPeer({ role: 'server', send, size });
      const { port } = await worker.next();
      const ours: Array<{ code: number; wasClean: boolean }> = [];
      const seen: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(await connectClient(port, { maxMessageSize: 4096 }));
        seen.push((await worker.next()).code);
      }
      expect(ours).toEqual(Array(ROUNDS).fill({ code: 1009, wasClean: false }));
      expect(seen).toEqual(Array(ROUNDS).fill(1009));
    });
  }
});
