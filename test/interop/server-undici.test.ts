// Real-peer tests of WebSocketServer (sim host) with undici's WHATWG WebSocket client.
// Each peer gets its own Agent whose connector hands undici a socket we keep: its
// local port names the client on the server, a 'data' tap records the exact bytes
// the peer received, and destroying it is the abrupt disconnect. undici's diagnostics
// channels report the ping and pong frames the peer received. Under npm run
// test:moddable the server is the Moddable simulator's (peers/server-harness.ts): its
// methods are awaited, its events read after s.settled().
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { Agent, WebSocket, ping } from 'undici';
import { installSimPlatform } from '../../hosts/sim/platform';
import { waitFor } from '../moddable/mode';
import { asciiText, BIG, decodeFrames, destroySockets, disposeServers, Inbox, MiB, MULTIBYTE, pattern, ServerUnderTest, SIZES, SIZES_TOTAL } from './peers/server-harness';

interface Message {
  data: string | Uint8Array;
}

interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

interface Peer {
  ws: WebSocket;
  socket: net.Socket;
  endpoint: string;
  /** Every byte the peer's socket received, handshake included. */
  wire: Buffer[];
  messages: Inbox<Message>;
  pings: Buffer[];
  pongs: Inbox<Buffer>;
  errors: string[];
  closed: Promise<CloseInfo>;
}

const byWebSocket = new Map<unknown, Peer>();
const agents = new Set<Agent>();
const peerSockets = new Set<net.Socket>();

const onPing = (message: unknown): void => {
  const { websocket, payload } = message as { websocket: unknown; payload: Buffer };
  byWebSocket.get(websocket)?.pings.push(Buffer.from(payload));
};
const onPong = (message: unknown): void => {
  const { websocket, payload } = message as { websocket: unknown; payload: Buffer };
  byWebSocket.get(websocket)?.pongs.push(Buffer.from(payload));
};

/** An Agent whose single connection is a socket we hold (and tap). */
function agentWithSocket(): { agent: Agent; socket: Promise<net.Socket>; wire: Buffer[] } {
  const wire: Buffer[] = [];
  let resolveSocket!: (socket: net.Socket) => void;
  const socket = new Promise<net.Socket>((resolve) => (resolveSocket = resolve));
  const agent = new Agent({
    connect: (options, callback) => {
      const s = net.connect({ host: options.hostname, port: Number(options.port) });
      peerSockets.add(s);
      s.on('data', (chunk: Buffer) => wire.push(chunk));
      let called = false;
      s.once('connect', () => {
        if (called) return;
        called = true;
        resolveSocket(s);
        callback(null, s);
      });
      s.once('error', (error) => {
        if (called) return;
        called = true;
        callback(error, null);
      });
    },
  });
  agents.add(agent);
  return { agent, socket, wire };
}

function open(url: string, init: { protocols?: string[]; headers?: Record<string, string> } = {}): { peer: Promise<Peer>; record: Peer } {
  const { agent, socket, wire } = agentWithSocket();
  const ws = new WebSocket(url, { ...init, dispatcher: agent });
  ws.binaryType = 'arraybuffer';
  const record: Peer = {
    ws,
    socket: null as unknown as net.Socket, // set once connected, before any frame arrives
    endpoint: '',
    wire,
    messages: new Inbox<Message>(),
    pings: [],
    pongs: new Inbox<Buffer>(),
    errors: [],
    closed: new Promise<CloseInfo>((resolve) =>
      ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean })),
    ),
  };
  byWebSocket.set(ws, record);
  void socket.then((s) => {
    record.socket = s;
    record.endpoint = `127.0.0.1:${s.localPort}`;
  });
  ws.addEventListener('error', (e) => record.errors.push((e as ErrorEvent).message ?? 'error'));
  ws.addEventListener('message', (e) => {
    const data = e.data as string | ArrayBuffer;
    record.messages.push({ data: typeof data === 'string' ? data : new Uint8Array(data) });
  });
  const peer = new Promise<Peer>((resolve, reject) => {
    ws.addEventListener('open', () => void socket.then(() => resolve(record)));
    void record.closed.then((c) => reject(new Error(`closed before open: ${c.code} ${record.errors.join()}`)));
  });
  peer.catch(() => {}); // refused handshakes are awaited through record.closed
  return { peer, record };
}

const connect = (url: string, init: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<Peer> => open(url, init).peer;

function text(m: Message): string {
  if (typeof m.data !== 'string') throw new Error('expected a text message');
  return m.data;
}

function wireText(wire: Buffer[]): string {
  return Buffer.concat(wire).toString('latin1');
}

beforeAll(() => {
  installSimPlatform();
  diagnostics.subscribe('undici:websocket:ping', onPing);
  diagnostics.subscribe('undici:websocket:pong', onPong);
});

afterAll(() => {
  diagnostics.unsubscribe('undici:websocket:ping', onPing);
  diagnostics.unsubscribe('undici:websocket:pong', onPong);
});

afterEach(async () => {
  for (const s of peerSockets) s.destroy();
  peerSockets.clear();
  byWebSocket.clear();
  await Promise.all([...agents].map((a) => a.destroy().catch(() => {})));
  agents.clear();
  destroySockets();
  await disposeServers();
});

describe('undici WebSocket against WebSocketServer', () => {
  it('echoes text and binary messages of 0, 125, 126, 65535, 65536 bytes and 1 MiB', async () => {
    const s = new ServerUnderTest(BIG);
    const peer = await connect(s.url);
    expect(peer.ws.extensions).toBe(''); // undici offers permessage-deflate; the server declines
    for (const size of SIZES) {
      const t = asciiText(size, size + 1);
      peer.ws.send(t);
      expect(text(await peer.messages.next(`text echo of ${size}`, waitFor(size))) === t).toBe(true);
      const bytes = pattern(size, size + 1);
      peer.ws.send(bytes);
      const b = await peer.messages.next(`binary echo of ${size}`, waitFor(size));
      expect(b.data).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(b.data as Uint8Array, bytes)).toBe(0);
    }
    await s.settled();
    expect(s.refusedSends).toEqual([]);
    expect(s.errors).toEqual([]);
  }, waitFor(2 * SIZES_TOTAL));

  it('answers a message over maxMessageSize with close 1009', async () => {
    const s = new ServerUnderTest(BIG);
    const peer = await connect(s.url);
    peer.ws.send(pattern(2 * MiB + 1));
    const closed = await peer.closed;
    expect(closed.code).toBe(1009);
    expect(await s.waitClosed(peer.endpoint)).toMatchObject({ code: 1009, wasClean: false });
    await s.settled();
    expect(s.messages).toEqual([]);
  });

  it('echoes multibyte UTF-8 including 4-byte characters', async () => {
    const s = new ServerUnderTest({ ...BIG, readBufferSize: 509 });
    const peer = await connect(s.url);
    const long = MULTIBYTE.repeat(Math.ceil(70000 / Buffer.byteLength(MULTIBYTE)));
    for (const t of [MULTIBYTE, '𝄞', long]) {
      peer.ws.send(t);
      expect(text(await peer.messages.next('utf-8 echo'))).toBe(t);
    }
  });

  it('fragments its own sends by maxFragmentSize and undici reassembles them (checked on the wire)', async () => {
    const s = new ServerUnderTest({ ...BIG, maxFragmentSize: 1000 });
    const peer = await connect(s.url);
    const bytes = pattern(65536, 5);
    peer.ws.send(bytes);
    const b = await peer.messages.next('binary echo');
    expect(Buffer.compare(b.data as Uint8Array, bytes)).toBe(0);
    const t = MULTIBYTE.repeat(200); // multibyte characters cut at fragment boundaries
    peer.ws.send(t);
    expect(text(await peer.messages.next('text echo'))).toBe(t);
    const wire = Buffer.concat(peer.wire);
    const frames = decodeFrames(wire.subarray(wire.indexOf('\r\n\r\n') + 4)).frames;
    const binary = frames.slice(0, 66);
    expect(binary.map((f) => f.opcode)).toEqual([2, ...Array(65).fill(0)]);
    expect(binary.map((f) => f.fin)).toEqual([...Array(65).fill(false), true]);
    expect(binary.map((f) => f.payload.length)).toEqual([...Array(65).fill(1000), 536]);
    const textFrames = frames.slice(66);
    expect(textFrames[0]!.opcode).toBe(1);
    expect(textFrames.slice(1).every((f) => f.opcode === 0)).toBe(true);
    expect(Buffer.concat(textFrames.map((f) => f.payload)).toString('utf8')).toBe(t);
  });

  it('answers pings from the peer with pongs carrying the same payload', async () => {
    const s = new ServerUnderTest();
    const peer = await connect(s.url);
    const payloads = [Buffer.alloc(0), Buffer.from('undici ping'), Buffer.from(pattern(125, 4))];
    for (const payload of payloads) ping(peer.ws, payload);
    const pongs = await peer.pongs.take(3, 'pong');
    expect(pongs.map((p) => p.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
  });

  it('keep-alive: the server pings, undici pongs automatically and the connection stays open', async () => {
    const s = new ServerUnderTest({ keepAliveInterval: 150, clientTimeout: 300 });
    const peer = await connect(s.url);
    // The next ping goes out only once the previous one was answered (an unanswered one closes
    // the connection): a third ping means undici answered the first two in time.
    await s.until(() => peer.pings.length >= 3, 'three keep-alive pings');
    expect(peer.pings.slice(0, 3).map((p) => p.toString('hex'))).toEqual(['00000001', '00000002', '00000003']);
    expect(peer.ws.readyState).toBe(WebSocket.OPEN);
    await s.settled();
    expect(s.closed).toEqual([]);
    peer.ws.send('alive');
    expect(text(await peer.messages.next('echo'))).toBe('alive');
  });

  it('close from the peer: 1000, and 4001 with a reason, reported by the server as sent', async () => {
    const s = new ServerUnderTest();
    for (const [code, reason] of [
      [1000, ''],
      [4001, 'undici says ciao ✓'],
    ] as const) {
      const peer = await connect(s.url);
      peer.ws.close(code, reason);
      const seen = await peer.closed;
      expect(seen).toMatchObject({ code, wasClean: true });
      expect(await s.waitClosed(peer.endpoint)).toMatchObject({ code, reason, wasClean: true });
    }
    expect(s.server.clientsCount).toBe(0);
  });

  it('disconnectClient(endpoint, 4002, "bye"): the peer sees 4002 "bye", cleanly', async () => {
    const s = new ServerUnderTest();
    const peer = await connect(s.url);
    await s.waitOpened(1);
    expect(s.server.listClients()).toEqual([peer.endpoint]);
    await s.server.disconnectClient(peer.endpoint, 4002, 'bye');
    expect(await peer.closed).toEqual({ code: 4002, reason: 'bye', wasClean: true });
    expect(await s.waitClosed(peer.endpoint)).toMatchObject({ code: 4002, wasClean: true });
  });

  it('the peer socket destroyed abruptly: the server reports 1006, not clean', async () => {
    const s = new ServerUnderTest();
    const peer = await connect(s.url);
    await s.waitOpened(1);
    peer.socket.destroy();
    expect(await s.waitClosed(peer.endpoint)).toMatchObject({ code: 1006, wasClean: false });
    expect(s.server.clientsCount).toBe(0);
  });

  it('maxClients + 1: the extra connection receives HTTP 503 and is closed', async () => {
    const s = new ServerUnderTest({ maxClients: 2 });
    const a = await connect(s.url);
    const b = await connect(s.url);
    await s.waitOpened(2);
    const extra = open(s.url).record;
    const closed = await extra.closed;
    expect(closed).toMatchObject({ code: 1006, wasClean: false });
    expect(extra.errors.length).toBeGreaterThan(0);
    expect(wireText(extra.wire)).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    await s.settled();
    expect(s.server.clientsCount).toBe(2);
    expect(s.server.listClients().sort()).toEqual([a.endpoint, b.endpoint].sort());
    b.ws.close(1000);
    await s.waitClosed(b.endpoint);
    expect(s.server.listClients()).toEqual([a.endpoint]);
  });

  it('stop() with 3 clients: each peer sees close 1001; new connections are refused', async () => {
    const s = new ServerUnderTest();
    const clients = await Promise.all([connect(s.url), connect(s.url), connect(s.url)]);
    await s.waitOpened(3);
    await s.server.stop();
    for (const c of clients) expect(await c.closed).toEqual({ code: 1001, reason: 'server stopping', wasClean: true });
    const late = open(s.url).record;
    expect(await late.closed).toMatchObject({ code: 1006, wasClean: false });
    expect(late.wire).toEqual([]);
  });

  it('broadcast: 100 numbered messages reach each of 5 clients complete and in order', async () => {
    const s = new ServerUnderTest({ maxClients: 5 }, { echo: false });
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(s.url)));
    await s.waitOpened(5);
    for (let i = 0; i < 100; i++) expect(await s.server.broadcast(`#${i}`)).toBe(5);
    for (const c of clients) {
      const got = await c.messages.take(100, 'broadcast');
      expect(got.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => `#${i}`));
    }
  });

  it('send to one client reaches only that client', async () => {
    const s = new ServerUnderTest({}, { echo: false });
    const clients = await Promise.all([connect(s.url), connect(s.url)]);
    await s.waitOpened(2);
    await s.server.sendText(clients[0]!.endpoint, 'private');
    await s.server.broadcast('public');
    expect(text(await clients[0]!.messages.next('private'))).toBe('private');
    expect(text(await clients[0]!.messages.next('public'))).toBe('public');
    expect(text(await clients[1]!.messages.next('public'))).toBe('public');
  });

  it('negotiates the subprotocol: server [b, c], client offers [a, c] -> c', async () => {
    const s = new ServerUnderTest({ subprotocols: ['b', 'c'] });
    const peer = await connect(s.url, { protocols: ['a', 'c'] });
    expect(peer.ws.protocol).toBe('c');
    expect(wireText(peer.wire)).toMatch(/\r\nSec-WebSocket-Protocol: c\r\n/);
    expect((await s.waitOpened(1))[0]!.protocol).toBe('c');
  });

  it('checkOrigin refusal: the peer receives HTTP 403 and never opens', async () => {
    const s = new ServerUnderTest({}, { allowOrigins: ['http://good.example'] });
    await s.ready();
    const bad = open(s.url, { headers: { Origin: 'http://evil.example' } }).record;
    expect(await bad.closed).toMatchObject({ code: 1006, wasClean: false });
    expect(wireText(bad.wire)).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    const good = await connect(s.url, { headers: { Origin: 'http://good.example' } });
    await s.settled();
    expect(s.origins.map((r) => r.origin)).toEqual(['http://evil.example', 'http://good.example']);
    expect(s.server.listClients()).toEqual([good.endpoint]);
  });

  it('an exception in a message listener is reported on "error" and the server keeps serving', async () => {
    const s = new ServerUnderTest({}, { throwOn: { text: 'boom', message: 'listener exploded' } });
    await s.ready();
    const a = await connect(s.url);
    const b = await connect(s.url);
    a.ws.send('boom');
    expect(text(await a.messages.next('echo of boom'))).toBe('boom');
    a.ws.send('after');
    expect(text(await a.messages.next('echo after'))).toBe('after');
    b.ws.send('other');
    expect(text(await b.messages.next('echo other'))).toBe('other');
    await s.settled();
    expect(s.errors.map((e) => e.error.message)).toEqual(['listener exploded']);
    expect(s.closed).toEqual([]);
  });
});
