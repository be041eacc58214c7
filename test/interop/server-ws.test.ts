// Real-peer tests of WebSocketServer (sim host) with the `ws` client: every assertion
// is about bytes or events the peer (or a raw TCP socket) actually received, or the
// events the server reported for it. Under npm run test:moddable the server is the
// Moddable simulator's (peers/server-harness.ts): its methods are awaited, its events
// read after s.settled().
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { installSimPlatform } from '../../hosts/sim/platform';
import { performance } from 'node:perf_hooks';
import { onModdable, waitFor } from '../moddable/mode';
import { asciiText, BIG, clientFrame, connectRaw, decodeFrames, destroySockets, disposeServers, Inbox, MiB, MULTIBYTE, pattern, readFrames, readResponseHead, readUntilClosed, SAMPLE_ACCEPT, ServerUnderTest, SIZES, SIZES_TOTAL, sleep, upgradeRequest } from './peers/server-harness';

interface Message {
  data: Buffer;
  isBinary: boolean;
}

interface Peer {
  ws: WebSocket;
  /** "127.0.0.1:<local port>": the name the server gives this client. */
  endpoint: string;
  /** The 101 response as the peer received it. */
  response: IncomingMessage;
  messages: Inbox<Message>;
  pings: Buffer[];
  pongs: Inbox<Buffer>;
  errors: Error[];
  closed: Promise<{ code: number; reason: string }>;
}

const peers = new Set<WebSocket>();

function track(ws: WebSocket): { errors: Error[]; closed: Promise<{ code: number; reason: string }> } {
  peers.add(ws);
  const errors: Error[] = [];
  ws.on('error', (e) => errors.push(e));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
  );
  return { errors, closed };
}

function connect(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<Peer> {
  const ws = new WebSocket(url, protocols, options);
  const { errors, closed } = track(ws);
  const messages = new Inbox<Message>();
  const pongs = new Inbox<Buffer>();
  const pings: Buffer[] = [];
  ws.on('message', (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
  ws.on('ping', (data) => pings.push(Buffer.from(data)));
  ws.on('pong', (data) => pongs.push(Buffer.from(data)));
  let response: IncomingMessage | null = null;
  ws.on('upgrade', (res) => (response = res));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      const res = response!;
      resolve({ ws, endpoint: `127.0.0.1:${res.socket.localPort}`, response: res, messages, pings, pongs, errors, closed });
    });
    ws.once('close', (code) => reject(new Error(`closed before open: ${code} ${errors.map((e) => e.message).join()}`)));
  });
}

/** A handshake the server refuses: the status line and headers the peer received. */
function refused(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; message: string; headers: IncomingMessage['headers']; body: string }> {
  const ws = new WebSocket(url, options);
  track(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('unexpectedly opened')));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode!, message: res.statusMessage!, headers: res.headers, body });
        req.destroy();
      });
    });
  });
}

function send(ws: WebSocket, data: string | Uint8Array, options: { binary?: boolean; fin?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => ws.send(data, options, (error) => (error ? reject(error) : resolve())));
}

beforeAll(() => installSimPlatform());

afterEach(async () => {
  for (const ws of peers) ws.terminate();
  peers.clear();
  destroySockets();
  await disposeServers();
});

describe('ws client against WebSocketServer', () => {
  it('echoes text and binary messages of 0, 125, 126, 65535, 65536 bytes and 1 MiB', async () => {
    const s = new ServerUnderTest(BIG);
    const peer = await connect(s.url);
    for (const size of SIZES) {
      const text = asciiText(size, size);
      await send(peer.ws, text);
      const t = await peer.messages.next(`text echo of ${size}`, waitFor(size));
      expect(t.isBinary).toBe(false);
      expect(t.data.length).toBe(size);
      expect(t.data.toString('utf8') === text).toBe(true);

      const bytes = pattern(size, size);
      await send(peer.ws, bytes);
      const b = await peer.messages.next(`binary echo of ${size}`, waitFor(size));
      expect(b.isBinary).toBe(true);
      expect(b.data.length).toBe(size);
      expect(Buffer.compare(b.data, bytes)).toBe(0);
    }
    await s.settled();
    expect(s.refusedSends).toEqual([]);
    expect(s.messages.map((m) => [m.isText, typeof m.data === 'string' ? Buffer.byteLength(m.data) : m.data.length])).toEqual(
      SIZES.flatMap((n) => [[true, n], [false, n]]),
    );
    expect(s.errors).toEqual([]);
  }, waitFor(2 * SIZES_TOTAL));

  it('answers a message over maxMessageSize with close 1009', async () => {
    const s = new ServerUnderTest(BIG);
    const peer = await connect(s.url);
    // Exactly at the limit is fine...
    await send(peer.ws, pattern(2 * MiB, 1));
    const atLimit = await peer.messages.next('2 MiB echo', waitFor(2 * MiB));
    expect(atLimit.data.length).toBe(2 * MiB);
    // ...one byte more is refused from the frame header.
    peer.ws.send(pattern(2 * MiB + 1, 2), () => {});
    const closed = await peer.closed;
    expect(closed.code).toBe(1009);
    const server = await s.waitClosed(peer.endpoint);
    expect(server).toMatchObject({ code: 1009, wasClean: false });
    expect(s.messages).toHaveLength(1);
  });

  it('backpressure: a peer that stops reading while sending 16 x 1 MiB gets every echo, in order, once it reads again', async () => {
    const s = new ServerUnderTest(BIG);
    const peer = await connect(s.url);
    const socket = peer.response.socket;
    socket.pause(); // the peer stops reading: kernel buffers, then the server's send queue fill
    const count = 16;
    const sent = Array.from({ length: count }, (_, i) => pattern(MiB, 100 + i));
    for (const bytes of sent) peer.ws.send(bytes);
    let maxBuffered = 0;
    // In-process the loopback fills within the first second. The simulator's server moves
    // ~1.5 KB per 20 ms poll each way, so filling the kernel buffers and then half its
    // budget takes minutes: there it samples until its queue is past half the budget (it
    // reads nothing more then), within the time the measured throughput needs for 8 MiB.
    const window = onModdable ? waitFor(8 * MiB) : 20_000; // in-process: a safety net, normally < 1 s
    const started = performance.now();
    for (let i = 0; ; i++) {
      await sleep(25);
      maxBuffered = Math.max(maxBuffered, await s.server.bufferedAmount(peer.endpoint));
      if (i >= 39 && (maxBuffered > 2 * MiB || performance.now() - started > window)) break;
    }
    await s.settled();
    const stalledAt = s.messages.length;
    // 16 MiB is more than the loopback buffers hold (here about 4-5 MiB): the server fills
    // its queue past half its budget, then stops reading instead of dropping or growing.
    expect(stalledAt).toBeLessThan(count);
    expect(maxBuffered).toBeGreaterThan(2 * MiB);
    expect(maxBuffered).toBeLessThanOrEqual(4 * MiB);
    socket.resume();
    const echoes = await peer.messages.take(count, 'echo', Math.max(20_000, waitFor(MiB)));
    echoes.forEach((e, i) => expect(Buffer.compare(e.data, sent[i]!), `echo ${i}`).toBe(0));
    await s.settled();
    expect(s.refusedSends).toEqual([]);
    expect(await s.server.bufferedAmount(peer.endpoint)).toBe(0);
  }, Math.max(30_000, waitFor(16 * MiB)));

  it('a close after queued data: the peer reads all the data first, then the close frame', async () => {
    const s = new ServerUnderTest(BIG, { echo: false });
    const peer = await connect(s.url);
    const [opened] = await s.waitOpened(1);
    peer.response.socket.pause();
    const big = pattern(MiB, 77);
    expect(await s.server.sendBinary(opened!.endpoint, big)).toBe(true);
    expect(await s.server.bufferedAmount(opened!.endpoint)).toBeGreaterThan(0);
    await s.server.disconnectClient(opened!.endpoint, 4010, 'after data');
    await sleep(100);
    peer.response.socket.resume();
    const m = await peer.messages.next('queued message');
    expect(Buffer.compare(m.data, big)).toBe(0);
    expect(await peer.closed).toEqual({ code: 4010, reason: 'after data' });
    expect(await s.waitClosed(opened!.endpoint)).toMatchObject({ code: 4010, wasClean: true });
  });

  it('invalid UTF-8 from the peer (also split across fragments) is closed with 1007', async () => {
    const s = new ServerUnderTest();
    const a = await connect(s.url);
    await send(a.ws, Buffer.from([0x61, 0xed, 0xa0, 0x80]), { binary: false }); // a UTF-16 surrogate
    expect((await a.closed).code).toBe(1007);
    const b = await connect(s.url);
    await send(b.ws, Buffer.from([0x61, 0xf0, 0x9f]), { binary: false, fin: false }); // valid so far
    await send(b.ws, Buffer.from([0x28]), { binary: false, fin: true }); // ( is no continuation byte
    expect((await b.closed).code).toBe(1007);
    await s.settled();
    expect(s.closed.map((c) => [c.code, c.wasClean])).toEqual([
      [1007, false],
      [1007, false],
    ]);
    expect(s.messages).toEqual([]);
  });

  it('echoes multibyte UTF-8 (2-, 3- and 4-byte sequences), also split across reads', async () => {
    const s = new ServerUnderTest({ ...BIG, readBufferSize: 509 }); // odd read size: sequences straddle reads
    const peer = await connect(s.url);
    const long = MULTIBYTE.repeat(Math.ceil(70000 / Buffer.byteLength(MULTIBYTE)));
    for (const text of [MULTIBYTE, '😀', long]) {
      await send(peer.ws, text);
      const m = await peer.messages.next('utf-8 echo');
      expect(m.isBinary).toBe(false);
      expect(Buffer.compare(m.data, Buffer.from(text, 'utf8'))).toBe(0);
      expect(m.data.toString('utf8')).toBe(text);
    }
    await s.settled();
    expect(s.messages.map((m) => m.data)).toEqual([MULTIBYTE, '😀', long]);
  });

  it('reassembles fragmented messages (a 4-byte character split across fragments, empty and interleaved control frames)', async () => {
    const s = new ServerUnderTest(BIG);
    const peer = await connect(s.url);
    const smile = Buffer.from('😀', 'utf8'); // f0 9f 98 80
    await send(peer.ws, Buffer.concat([Buffer.from('abc'), smile.subarray(0, 2)]), { binary: false, fin: false });
    await send(peer.ws, smile.subarray(2, 3), { binary: false, fin: false });
    await send(peer.ws, Buffer.alloc(0), { binary: false, fin: false });
    peer.ws.ping(Buffer.from('mid-message'));
    await send(peer.ws, Buffer.concat([smile.subarray(3), Buffer.from('déf')]), { binary: false, fin: true });
    const pong = await peer.pongs.next('pong between fragments');
    expect(pong.toString()).toBe('mid-message');
    const text = await peer.messages.next('reassembled text');
    expect(text.isBinary).toBe(false);
    expect(text.data.toString('utf8')).toBe('abc😀déf');

    const whole = pattern(70000, 9);
    await send(peer.ws, whole.subarray(0, 1), { binary: true, fin: false });
    await send(peer.ws, whole.subarray(1, 65537), { binary: true, fin: false });
    await send(peer.ws, whole.subarray(65537), { binary: true, fin: true });
    const binary = await peer.messages.next('reassembled binary');
    expect(binary.isBinary).toBe(true);
    expect(Buffer.compare(binary.data, whole)).toBe(0);

    await send(peer.ws, 'sentinel');
    expect((await peer.messages.next('sentinel')).data.toString()).toBe('sentinel');
    await s.settled();
    expect(s.messages.length).toBe(3); // one message per fragmented message
  });

  it('answers pings from the peer with pongs carrying the same payload', async () => {
    const s = new ServerUnderTest();
    const peer = await connect(s.url);
    const payloads = [Buffer.alloc(0), Buffer.from([1, 2, 3, 250]), Buffer.from(pattern(125, 3))];
    for (const payload of payloads) peer.ws.ping(payload);
    const pongs = await peer.pongs.take(3, 'pong');
    expect(pongs.map((p) => p.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
    await s.settled();
    expect(s.messages).toEqual([]); // control frames are not messages
  });

  it('keep-alive: the server pings a silent peer, the peer pongs automatically and stays connected', async () => {
    const s = new ServerUnderTest({ keepAliveInterval: 150, clientTimeout: 300 });
    const peer = await connect(s.url);
    // The server sends its next ping only once the peer has answered the previous one (any
    // bytes from the peer re-arm it; an unanswered ping closes the connection instead): a
    // third ping means the first two pongs came back and kept the connection open.
    await s.until(() => peer.pings.length >= 3, 'three keep-alive pings');
    expect(peer.pings.slice(0, 3).map((p) => p.toString('hex'))).toEqual(['00000001', '00000002', '00000003']);
    expect(peer.ws.readyState).toBe(WebSocket.OPEN);
    await s.settled();
    expect(s.closed).toEqual([]);
    expect(s.server.listClients()).toEqual([peer.endpoint]);
    await send(peer.ws, 'still here');
    expect((await peer.messages.next('echo after keep-alive')).data.toString()).toBe('still here');
  });

  it('reports the close code and reason the peer sends (1000, 4001 + reason, no code)', async () => {
    const s = new ServerUnderTest();
    const cases: [number | undefined, string, number][] = [
      [1000, '', 1000],
      [4001, 'custom reason ü', 4001],
      [undefined, '', 1005],
    ];
    for (const [code, reason, expected] of cases) {
      const peer = await connect(s.url);
      if (code === undefined) peer.ws.close();
      else peer.ws.close(code, reason);
      const seen = await peer.closed;
      expect(seen.code).toBe(expected); // the server echoed the code
      const server = await s.waitClosed(peer.endpoint);
      expect(server).toMatchObject({ code: expected, reason, wasClean: true });
    }
    expect(s.server.clientsCount).toBe(0);
  });

  it('disconnectClient(endpoint, 4002, "bye"): the peer sees 4002 "bye"', async () => {
    const s = new ServerUnderTest();
    const peer = await connect(s.url);
    await s.waitOpened(1);
    expect(await s.server.disconnectClient(peer.endpoint, 4002, 'bye')).toBe(true);
    expect(await peer.closed).toEqual({ code: 4002, reason: 'bye' });
    expect(await s.waitClosed(peer.endpoint)).toMatchObject({ code: 4002, wasClean: true });
    expect(await s.server.disconnectClient('127.0.0.1:1', 4002, 'bye')).toBe(false);
  });

  it('an abrupt disconnect (terminate, or a socket destroyed mid-frame) is reported as 1006, not clean', async () => {
    const s = new ServerUnderTest();
    const peer = await connect(s.url);
    await s.waitOpened(1);
    peer.ws.terminate();
    expect(await s.waitClosed(peer.endpoint)).toMatchObject({ code: 1006, wasClean: false });

    const socket = await connectRaw(s.port);
    const { head } = await readResponseHead(socket, upgradeRequest(s.port));
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    const endpoint = `127.0.0.1:${socket.localPort}`;
    await s.until(() => s.server.listClients().includes(endpoint), 'raw client open');
    socket.write(clientFrame(2, pattern(1000)).subarray(0, 300)); // half a frame
    await sleep(50);
    socket.destroy();
    expect(await s.waitClosed(endpoint)).toMatchObject({ code: 1006, wasClean: false });
    expect(s.messages).toEqual([]);
    expect(s.server.clientsCount).toBe(0);
  });

  it('a silent dead peer (handshake done by hand, then never reads or answers) is closed with 1006 after keepAliveInterval + clientTimeout', async () => {
    const interval = 300;
    const timeout = 400;
    const s = new ServerUnderTest({ keepAliveInterval: interval, clientTimeout: timeout });
    const socket = await connectRaw(s.port);
    const { head, rest } = await readResponseHead(socket, upgradeRequest(s.port)); // the socket is paused from here on
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head).toContain(`Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n`);
    const [opened] = await s.waitOpened(1);
    const closed = await s.waitClosed(opened!.endpoint, 5000);
    const elapsed = closed.at - opened!.at;
    expect(closed).toMatchObject({ code: 1006, wasClean: false, reason: 'keep-alive timed out: no answer from the peer' });
    expect(elapsed).toBeGreaterThanOrEqual(interval + timeout - 5); // not before the ping and its timeout
    // What the server sent meanwhile: one keep-alive ping (payload: counter 1), then TCP closed.
    const { data, ended } = await readUntilClosed(socket);
    const { frames, rest: partial } = decodeFrames(Buffer.concat([rest, data]));
    expect(partial.length).toBe(0);
    expect(frames.length).toBeGreaterThanOrEqual(1);
    expect(frames[0]).toMatchObject({ fin: true, opcode: 0x9, masked: false });
    expect(frames[0]!.payload.toString('hex')).toBe('00000001');
    expect(frames.filter((f) => f.opcode !== 0x8 && f.opcode !== 0x9)).toEqual([]);
    expect(ended).toBe(true);
  });

  it('a first frame sent in the same TCP write as the handshake request is kept and echoed', async () => {
    const s = new ServerUnderTest();
    const socket = await connectRaw(s.port);
    const request = Buffer.concat([Buffer.from(upgradeRequest(s.port), 'latin1'), clientFrame(1, Buffer.from('early ✓')), clientFrame(9, Buffer.from('p'))]);
    const { head, rest } = await readResponseHead(socket, request);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    const frames = await readFrames(socket, rest, 2);
    expect(frames.map((f) => [f.opcode, f.fin, f.masked, f.payload.toString('utf8')])).toEqual([
      [1, true, false, 'early ✓'],
      [10, true, false, 'p'],
    ]);
  });

  it('accepts Firefox-style handshake headers (Connection: keep-alive, Upgrade; Upgrade: WebSocket; Origin)', async () => {
    const s = new ServerUnderTest({}, { allowOrigins: ['http://127.0.0.1:8080'] });
    await s.ready();
    const socket = await connectRaw(s.port);
    const request = upgradeRequest(s.port, { Origin: 'http://127.0.0.1:8080', 'User-Agent': 'Mozilla/5.0 Firefox/128.0' })
      .replace('Connection: Upgrade', 'Connection: keep-alive, Upgrade')
      .replace('Upgrade: websocket', 'Upgrade: WebSocket');
    const { head, rest } = await readResponseHead(socket, request);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head).toContain(`Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n`);
    await s.settled();
    expect(s.origins.map((r) => r.origin)).toEqual(['http://127.0.0.1:8080']);
    socket.write(clientFrame(2, pattern(300)));
    const [echo] = await readFrames(socket, rest, 1);
    expect(echo!.opcode).toBe(2);
    expect(Buffer.compare(echo!.payload, pattern(300))).toBe(0);
  });

  it('maxClients: one more connection gets HTTP 503 and is closed; clientsCount and listClients reflect reality', async () => {
    const s = new ServerUnderTest({ maxClients: 2, serverName: 'sim-test' });
    const a = await connect(s.url);
    const b = await connect(s.url);
    await s.waitOpened(2);
    expect(s.server.clientsCount).toBe(2);
    expect(s.server.listClients().sort()).toEqual([a.endpoint, b.endpoint].sort());

    const socket = await connectRaw(s.port);
    const { head, rest } = await readResponseHead(socket, upgradeRequest(s.port));
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 503 Service Unavailable');
    expect(lines).toContain('Connection: close');
    expect(lines).toContain('Retry-After: 5');
    expect(lines).toContain('Server: sim-test');
    const length = Number(/\r\nContent-Length: (\d+)\r\n/.exec(head)![1]);
    const { data, ended } = await readUntilClosed(socket);
    expect(ended).toBe(true); // closed by the server (FIN), after the whole body
    expect(Buffer.concat([rest, data]).length).toBe(length);

    const viaWs = await refused(s.url);
    expect(viaWs.status).toBe(503);
    await s.settled();
    expect(s.errors.filter((e) => /server full/.test(e.error.message))).toHaveLength(2);
    expect(s.server.clientsCount).toBe(2);
    expect(s.server.listClients().sort()).toEqual([a.endpoint, b.endpoint].sort());

    // A freed place is available again.
    a.ws.close(1000);
    await s.waitClosed(a.endpoint);
    expect(s.server.clientsCount).toBe(1);
    expect(s.server.listClients()).toEqual([b.endpoint]);
    const c = await connect(s.url);
    await s.waitOpened(3);
    expect(s.server.listClients().sort()).toEqual([b.endpoint, c.endpoint].sort());
    await send(c.ws, 'third');
    expect((await c.messages.next('echo')).data.toString()).toBe('third');
  });

  it('a burst of 6 simultaneous connections with maxClients 4 (default): exactly 4 open, 2 get 503', async () => {
    const s = new ServerUnderTest();
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(s.url);
          track(ws);
          ws.once('open', () => resolve('open'));
          ws.once('unexpected-response', (req, res) => {
            resolve(String(res.statusCode));
            req.destroy();
          });
        }),
      ),
    );
    expect(outcomes.filter((o) => o === 'open')).toHaveLength(4);
    expect(outcomes.filter((o) => o === '503')).toHaveLength(2);
    await s.waitOpened(4);
    expect(s.server.clientsCount).toBe(4);
    expect(new Set(s.server.listClients()).size).toBe(4);
    expect(await s.server.broadcast('to the four')).toBe(4);
  });

  it('stop() with 3 clients: each peer sees close 1001 and the listener refuses new connections', async () => {
    const s = new ServerUnderTest();
    const clients = await Promise.all([connect(s.url), connect(s.url), connect(s.url)]);
    await s.waitOpened(3);
    await s.server.stop();
    const closes = await Promise.all(clients.map((c) => c.closed));
    for (const closed of closes) expect(closed).toEqual({ code: 1001, reason: 'server stopping' });
    for (const c of clients) expect(await s.waitClosed(c.endpoint)).toMatchObject({ code: 1001, wasClean: true });
    expect(s.server.clientsCount).toBe(0);
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: s.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', (e) => resolve(e));
    });
    expect(error?.code).toBe('ECONNREFUSED');
  });

  it('broadcast: 100 numbered messages reach each of 5 clients complete and in order', async () => {
    const s = new ServerUnderTest({ maxClients: 5 }, { echo: false });
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(s.url)));
    await s.waitOpened(5);
    const accepted: number[] = [];
    for (let i = 0; i < 100; i++) accepted.push(await s.server.broadcast(`message ${i}`));
    for (let i = 0; i < 100; i++) {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, i);
      accepted.push(await s.server.broadcast(bytes));
    }
    expect(accepted).toEqual(Array(200).fill(5));
    for (const c of clients) {
      const got = await c.messages.take(200, 'broadcast');
      expect(got.slice(0, 100).map((m) => (m.isBinary ? 'binary' : m.data.toString()))).toEqual(
        Array.from({ length: 100 }, (_, i) => `message ${i}`),
      );
      expect(got.slice(100).map((m) => (m.isBinary ? m.data.readUInt32BE(0) : -1))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    }
  });

  it('send to one client reaches only that client', async () => {
    const s = new ServerUnderTest({}, { echo: false });
    const clients = await Promise.all([connect(s.url), connect(s.url), connect(s.url)]);
    await s.waitOpened(3);
    const target = clients[1]!;
    expect(await s.server.send(target.endpoint, 'only for you')).toBe(true);
    expect(await s.server.send(target.endpoint, new Uint8Array([7, 7]))).toBe(true);
    expect(await s.server.send('127.0.0.1:1', 'nobody')).toBe(false);
    expect(await s.server.broadcast('marker')).toBe(3);
    for (const c of clients) {
      const first = await c.messages.next('first message');
      if (c === target) {
        expect(first.data.toString()).toBe('only for you');
        expect([...(await c.messages.next('binary')).data]).toEqual([7, 7]);
        expect((await c.messages.next('marker')).data.toString()).toBe('marker');
      } else {
        expect(first.data.toString()).toBe('marker'); // per-connection order: nothing came before it
      }
    }
  });

  it('negotiates the subprotocol: server [b, c], client offers [a, c] -> c', async () => {
    const s = new ServerUnderTest({ subprotocols: ['b', 'c'] });
    const peer = await connect(s.url, {}, ['a', 'c']);
    expect(peer.ws.protocol).toBe('c');
    expect(peer.response.headers['sec-websocket-protocol']).toBe('c');
    const [opened] = await s.waitOpened(1);
    expect(opened!.protocol).toBe('c');
    // No common protocol: 101 without a Sec-WebSocket-Protocol header.
    const socket = await connectRaw(s.port);
    const { head } = await readResponseHead(socket, upgradeRequest(s.port, { 'Sec-WebSocket-Protocol': 'x, a' }));
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head.toLowerCase()).not.toContain('sec-websocket-protocol');
    await s.waitOpened(2);
    expect(s.opened.map((o) => o.protocol)).toEqual(['c', '']);
  });

  it('checkOrigin refusal answers 403 and the client does not open', async () => {
    const s = new ServerUnderTest({}, { allowOrigins: ['http://good.example'] });
    await s.ready();
    const bad = await refused(s.url, { origin: 'http://evil.example' });
    expect(bad.status).toBe(403);
    expect(bad.message).toBe('Forbidden');
    expect(bad.headers.connection).toBe('close');
    const none = await refused(s.url);
    expect(none.status).toBe(403);
    const good = await connect(s.url, { origin: 'http://good.example' });
    await s.settled();
    expect(s.origins.map((r) => r.origin)).toEqual(['http://evil.example', undefined, 'http://good.example']);
    expect(s.opened.map((o) => o.endpoint)).toEqual([good.endpoint]);
    expect(s.errors.filter((e) => /403/.test(e.error.message))).toHaveLength(2);
    expect(s.server.clientsCount).toBe(1);
  });

  it('an exception thrown in a message listener is reported on "error"; the server keeps serving that client and others', async () => {
    const s = new ServerUnderTest({}, { throwOn: { text: 'boom', message: 'listener exploded' } });
    await s.ready();
    const a = await connect(s.url);
    const b = await connect(s.url);
    await send(a.ws, 'boom');
    expect((await a.messages.next('echo of boom')).data.toString()).toBe('boom');
    await s.until(() => s.errors.length > 0, 'error event');
    expect(s.errors.map((e) => e.error.message)).toEqual(['listener exploded']);
    await send(a.ws, 'after');
    expect((await a.messages.next('echo after the exception')).data.toString()).toBe('after');
    await send(b.ws, 'other');
    expect((await b.messages.next('echo to the other client')).data.toString()).toBe('other');
    await s.settled();
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    expect(s.closed).toEqual([]);
    expect(s.server.clientsCount).toBe(2);
  });
});
