// Our WebSocketClient (on the sim host's ECMA-419 sockets) against real peers: the
// `ws` library's server, and raw node:net servers that misbehave on purpose
// (wrong handshakes, silence, never reading) and record every frame the client sends.
// The message and fragmentation suites run twice: over ws:// and over wss:// (the sim
// host's TLS socket against TLS servers with a test CA: test/interop/peers/tls-certs.ts).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import type { ServerOptions, WebSocket } from 'ws';
import { installSimPlatform } from '../../hosts/sim/platform';
import type { ClientOptions } from '../../src/net/client';
import { ClientProbe, Cleanup, asciiText, pattern, sleep, waitFor } from './peers/client-probe';
import { clientOptions, overTransports, secure } from './peers/transports';
import { RawServer, closePayload, closedPort, encodeFrame, switchingProtocols } from './peers/client-raw';
import type { RawFrame, RawServerOptions } from './peers/client-raw';
import { SDK_COMPATIBLE, testPki } from '../../scripts/tls-certs.mjs';

beforeAll(() => installSimPlatform());

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const MiB = 1 << 20;
const BIG: ClientOptions = { maxMessageSize: 2 * MiB, sendQueueSize: 2 * MiB };

interface ServerSide {
  ws: WebSocket;
  req: IncomingMessage;
  received: Array<{ data: Buffer; isBinary: boolean }>;
  closed: Promise<{ code: number; reason: string }>;
  pongs: Buffer[];
}

interface WsPeer {
  server: WebSocketServer;
  url: string;
  peers: ServerSide[];
  /** Resolves with the n-th server-side connection (0-based). */
  peer(n?: number): Promise<ServerSide>;
}

/**
 * A ws server on an ephemeral port (over TLS when `secure`: an https server with the test
 * certificate, in the settings the Moddable SDK's TLS speaks). By default it echoes every
 * message with the same type; `onConnection` replaces the echo.
 */
async function wsServer(options: ServerOptions = {}, onConnection?: (side: ServerSide) => void, echo = !onConnection): Promise<WsPeer> {
  let server: WebSocketServer;
  let host = '127.0.0.1';
  if (secure) {
    const pki = testPki();
    const httpsServer = https.createServer({ ...pki.server, ...SDK_COMPATIBLE });
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', () => resolve()));
    server = new WebSocketServer({ ...options, server: httpsServer });
    cleanup.add(() => new Promise<void>((resolve) => httpsServer.close(() => resolve())));
    host = 'localhost';
  } else {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  }
  const peers: ServerSide[] = [];
  server.on('connection', (ws, req) => {
    let resolveClosed!: (value: { code: number; reason: string }) => void;
    const side: ServerSide = {
      ws,
      req,
      received: [],
      pongs: [],
      closed: new Promise((resolve) => (resolveClosed = resolve)),
    };
    ws.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() }));
    ws.on('error', () => {});
    ws.on('pong', (data) => side.pongs.push(Buffer.from(data)));
    ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      side.received.push({ data: bytes, isBinary });
      if (echo) ws.send(bytes, { binary: isBinary });
    });
    peers.push(side);
    onConnection?.(side);
  });
  const port = (server.address() as { port: number }).port;
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  return {
    server,
    url: `${secure ? 'wss' : 'ws'}://${host}:${port}`,
    peers,
    async peer(n = 0) {
      await waitFor(() => peers.length > n, 10_000, `server connection #${n}`);
      return peers[n];
    },
  };
}

async function rawServer(options: RawServerOptions = {}): Promise<RawServer> {
  const raw = await RawServer.start(secure ? { ...options, tls: { ...testPki().server, ...SDK_COMPATIBLE } } : options);
  cleanup.add(() => raw.close());
  return raw;
}

function probe(options: ClientOptions = {}): ClientProbe {
  const p = new ClientProbe(clientOptions(options));
  cleanup.add(() => p.dispose());
  return p;
}

/** A client whose connection fails: waits for 'close' and returns it with the error messages. */
async function failure(p: ClientProbe) {
  const info = await p.closed;
  return { ...info, errors: p.errors.map((e) => e.message), opened: p.events.some((e) => e.type === 'open') };
}

const SIZES = [0, 125, 126, 65535, 65536, MiB];

overTransports('client ↔ ws server: messages', () => {
  it('echoes text of 0, 125, 126, 65535, 65536 and 1 MiB bytes', async () => {
    const peer = await wsServer();
    const p = probe(BIG).connect(`${peer.url}/echo`);
    await p.opened;
    for (const [i, size] of SIZES.entries()) {
      const text = asciiText(size, i);
      expect(p.client.sendText(text)).toBe(true);
      const m = await p.message(i);
      expect(m.isText).toBe(true);
      expect(typeof m.data).toBe('string');
      expect((m.data as string).length).toBe(size);
      expect(m.data === text).toBe(true);
      const side = await peer.peer();
      expect(side.received[i].isBinary).toBe(false);
      expect(side.received[i].data.toString('utf8') === text).toBe(true);
    }
    p.client.close(1000);
    expect((await p.closed).wasClean).toBe(true);
  });

  it('echoes binary of 0, 125, 126, 65535, 65536 and 1 MiB bytes', async () => {
    const peer = await wsServer();
    const p = probe(BIG).connect(`${peer.url}/echo`);
    await p.opened;
    for (const [i, size] of SIZES.entries()) {
      const bytes = pattern(size, i);
      expect(p.client.sendBinary(bytes)).toBe(true);
      const m = await p.message(i);
      expect(m.isText).toBe(false);
      expect(Buffer.isBuffer(m.data) && m.data.equals(bytes)).toBe(true);
      const side = await peer.peer();
      expect(side.received[i].isBinary).toBe(true);
      expect(side.received[i].data.equals(bytes)).toBe(true);
      expect(bytes.equals(pattern(size, i))).toBe(true); // masking never touches the caller's bytes
    }
    p.client.close(1000);
    await p.closed;
  });

  it('send() accepts ArrayBuffer and typed-array views as binary, strings as text', async () => {
    const peer = await wsServer();
    const p = probe().connect(peer.url);
    await p.opened;
    const bytes = pattern(300);
    expect(p.client.send(new Uint8Array(bytes).buffer)).toBe(true); // a plain ArrayBuffer
    expect(p.client.send(new Uint16Array(new Uint8Array(bytes).buffer, 0, 150))).toBe(true);
    expect(p.client.send(new DataView(new Uint8Array(bytes).buffer, 100, 50))).toBe(true);
    expect(p.client.send('text')).toBe(true);
    await p.message(3);
    expect(p.messages.map((m) => m.isText)).toEqual([false, false, false, true]);
    expect((p.messages[0].data as Buffer).equals(bytes)).toBe(true);
    expect((p.messages[1].data as Buffer).equals(bytes)).toBe(true);
    expect((p.messages[2].data as Buffer).equals(bytes.subarray(100, 150))).toBe(true);
    expect(p.messages[3].data).toBe('text');
  });

  it('with the default sendQueueSize a 1 MiB send returns false and sends nothing', async () => {
    const peer = await wsServer();
    const p = probe({ maxMessageSize: 2 * MiB }).connect(peer.url);
    await p.opened;
    expect(p.client.sendBinary(pattern(MiB))).toBe(false);
    expect(p.client.sendText(asciiText(MiB))).toBe(false);
    expect(p.client.bufferedAmount).toBe(0);
    // The connection is intact, and nothing of the refused messages went out.
    expect(p.client.sendText('after')).toBe(true);
    expect((await p.message(0)).data).toBe('after');
    const side = await peer.peer();
    await sleep(50);
    expect(side.received.map((r) => r.data.toString())).toEqual(['after']);
    expect(p.messages.length).toBe(1);
    expect(p.client.state).toBe('open');
  });

  it('multibyte UTF-8 text round-trips (2-, 3- and 4-byte sequences, large and small)', async () => {
    const peer = await wsServer();
    const p = probe(BIG).connect(peer.url);
    await p.opened;
    const samples = [
      'é',
      '€',
      '𝄞',
      'héllo wörld — ünïcödé ✓ 日本語テキスト 🎉🚀',
      '\u0000\u007f\u0080\u07ff\u0800\uffff',
      '\ud800\udc00\udbff\udfff', // U+10000 and U+10FFFF
      'ÅÄÖ€𝄞'.repeat(30000), // ~ 390 KiB, sequences straddle every read and scratch boundary
    ];
    for (const [i, text] of samples.entries()) {
      expect(p.client.sendText(text)).toBe(true);
      const m = await p.message(i);
      expect(m.isText).toBe(true);
      expect(m.data === text).toBe(true);
      const side = await peer.peer();
      expect(side.received[i].data.equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });
});

overTransports('client fragmentation and masking', () => {
  it('maxFragmentSize: the ws server receives each message whole', async () => {
    const peer = await wsServer();
    const p = probe({ ...BIG, maxFragmentSize: 1000 }).connect(peer.url);
    await p.opened;
    const text = 'ÅÄÖ€𝄞'.repeat(2000); // multibyte sequences split across fragments
    const bytes = pattern(MiB);
    expect(p.client.sendText(text)).toBe(true);
    expect(p.client.sendBinary(bytes)).toBe(true);
    expect(p.client.sendText('short')).toBe(true);
    await p.message(2, 20_000);
    const side = await peer.peer();
    expect(side.received[0].isBinary).toBe(false);
    expect(side.received[0].data.toString('utf8') === text).toBe(true);
    expect(side.received[1].isBinary).toBe(true);
    expect(side.received[1].data.equals(bytes)).toBe(true);
    expect(side.received[2].data.toString()).toBe('short');
    expect(p.messages[0].data === text).toBe(true);
    expect((p.messages[1].data as Buffer).equals(bytes)).toBe(true);
  });

  it('maxFragmentSize: on the wire, several masked frames per message, a fresh key for every frame', async () => {
    const raw = await rawServer({ after: 'record' });
    const p = probe({ ...BIG, maxFragmentSize: 4096 }).connect(raw.url);
    await p.opened;
    const text = '€'.repeat(5000); // 15000 bytes -> 4 frames
    const bytes = pattern(65536 + 1); // 17 frames
    expect(p.client.sendText(text)).toBe(true);
    expect(p.client.sendBinary(bytes)).toBe(true);
    expect(p.client.sendBinary(new Uint8Array(0))).toBe(true); // 1 empty frame
    expect(p.client.ping(Buffer.from('pp'))).toBe(true); // control frames are never fragmented
    expect(p.client.sendText('x'.repeat(4096))).toBe(true); // exactly one fragment's worth: 1 frame
    const conn = raw.connections[0];
    await waitFor(() => conn.frames.length >= 4 + 17 + 1 + 1 + 1, 10_000, 'all frames');
    const frames = conn.frames;
    expect(frames.length).toBe(24);
    const summary = frames.map((f) => `${f.opcode}${f.fin ? 'F' : ''}`);
    expect(summary).toEqual([
      '1', '0', '0', '0F',
      '2', ...Array(15).fill('0'), '0F',
      '2F',
      '9F',
      '1F',
    ]);
    for (const f of frames) {
      expect(f.masked).toBe(true);
      expect(f.rsv).toBe(0);
      expect(f.opcode < 8 ? f.payload.length <= 4096 : true).toBe(true);
    }
    const keys = new Set(frames.map((f) => f.mask!.toString('hex')));
    expect(keys.size).toBe(frames.length);
    const messages = conn.messages();
    expect(messages.map((m) => [m.opcode, m.frames])).toEqual([[1, 4], [2, 17], [2, 1], [1, 1]]);
    expect(messages[0].payload.toString('utf8') === text).toBe(true);
    expect(messages[1].payload.equals(bytes)).toBe(true);
    expect(frames[22].payload.toString()).toBe('pp');
  });

  it('without maxFragmentSize every message is one masked frame with its own key (also the close)', async () => {
    const raw = await rawServer({ after: 'record' });
    const p = probe(BIG).connect(raw.url);
    await p.opened;
    for (let i = 0; i < 20; i++) expect(p.client.sendText(`m${i}`)).toBe(true);
    expect(p.client.sendBinary(pattern(100_000))).toBe(true);
    p.client.close(1000, 'done');
    const conn = raw.connections[0];
    await waitFor(() => conn.frames.length >= 22, 10_000, 'frames');
    expect(conn.frames.map((f) => f.opcode)).toEqual([...Array(20).fill(1), 2, 8]);
    expect(conn.frames.every((f) => f.fin && f.masked)).toBe(true);
    expect(new Set(conn.frames.map((f) => f.mask!.toString('hex'))).size).toBe(22);
    expect(conn.frames[20].payload.equals(pattern(100_000))).toBe(true);
    expect(conn.frames[21].payload.readUInt16BE(0)).toBe(1000);
    expect(conn.frames[21].payload.subarray(2).toString()).toBe('done');
  });

  it('reassembles messages the server fragments (text with split UTF-8 sequences, binary, control frames between)', async () => {
    const euro = Buffer.from('€'); // e2 82 ac
    const bytes = pattern(200_000);
    const peer = await wsServer({}, (side) => {
      const ws = side.ws;
      // Text: "a€" split inside the euro sign, then "b€" split after its first byte.
      ws.send(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]), { binary: false, fin: false });
      ws.send(euro.subarray(1, 2), { binary: false, fin: false });
      ws.ping(Buffer.from('between'));
      ws.send(Buffer.concat([euro.subarray(2), Buffer.from('b')]), { binary: false, fin: true });
      // Binary in uneven pieces, some empty.
      const cuts = [0, 1, 1, 126, 65536, 65537, 150_000, 200_000];
      for (let i = 0; i + 1 < cuts.length; i++) {
        ws.send(bytes.subarray(cuts[i], cuts[i + 1]), { binary: true, fin: i + 2 === cuts.length });
      }
      ws.send('whole');
    });
    const p = probe(BIG).connect(peer.url);
    await p.opened;
    await p.message(2);
    expect(p.messages[0]).toEqual({ data: 'a€b', isText: true });
    expect(p.messages[1].isText).toBe(false);
    expect((p.messages[1].data as Buffer).equals(bytes)).toBe(true);
    expect(p.messages[2]).toEqual({ data: 'whole', isText: true });
    const side = await peer.peer();
    await waitFor(() => side.pongs.length === 1, 5000, 'pong');
    expect(side.pongs[0].toString()).toBe('between');
  });

  it('stream mode: a 1 MiB message arrives as chunks with correct first/last and all bytes', async () => {
    const bytes = pattern(MiB, 3);
    const text = asciiText(300_000) + '€𝄞';
    const peer = await wsServer({}, (side) => {
      side.ws.send(bytes);
      side.ws.send(bytes.subarray(0, 10), { fin: false });
      side.ws.send(bytes.subarray(10, 5000), { fin: true });
      side.ws.send(text);
      side.ws.send(Buffer.alloc(0));
    });
    const p = probe({ receiveMode: 'stream', chunkSize: 4096 }).connect(peer.url);
    await p.opened;
    await p.until(() => p.chunks.filter((c) => c.last).length === 4, 20_000, 'four messages');
    // Split the chunk list into messages by first/last.
    const messages: Array<typeof p.chunks> = [];
    for (const chunk of p.chunks) {
      if (chunk.first) messages.push([]);
      expect(messages.length).toBeGreaterThan(0);
      messages[messages.length - 1].push(chunk);
    }
    expect(messages.length).toBe(4);
    for (const m of messages) {
      expect(m[0].first).toBe(true);
      expect(m.slice(1).every((c) => !c.first)).toBe(true);
      expect(m[m.length - 1].last).toBe(true);
      expect(m.slice(0, -1).every((c) => !c.last)).toBe(true);
      expect(m.every((c) => c.data.length <= 4096)).toBe(true);
      expect(new Set(m.map((c) => c.isText)).size).toBe(1);
    }
    const whole = (m: typeof p.chunks): Buffer => Buffer.concat(m.map((c) => c.data));
    expect(messages[0].length).toBeGreaterThanOrEqual(MiB / 4096);
    expect(messages[0][0].isText).toBe(false);
    expect(whole(messages[0]).length).toBe(MiB);
    expect(whole(messages[0]).equals(bytes)).toBe(true);
    expect(whole(messages[1]).equals(bytes.subarray(0, 5000))).toBe(true);
    expect(messages[2][0].isText).toBe(true);
    expect(whole(messages[2]).toString('utf8') === text).toBe(true);
    expect(messages[3].length).toBe(1);
    expect(messages[3][0].data.length).toBe(0);
    expect(p.messages.length).toBe(0); // stream mode never emits 'message'
  });
});

describe('client ping/pong', () => {
  it('answers a server ping with a pong carrying the same payload', async () => {
    const payloads = [Buffer.from('hello-ping'), Buffer.alloc(0), pattern(125)];
    const peer = await wsServer({}, (side) => {
      for (const payload of payloads) side.ws.ping(payload);
    });
    const p = probe().connect(peer.url);
    await p.opened;
    const side = await peer.peer();
    await waitFor(() => side.pongs.length === 3, 5000, 'three pongs');
    expect(side.pongs.map((b) => b.toString('hex'))).toEqual(payloads.map((b) => b.toString('hex')));
    expect(p.client.state).toBe('open');
  });

  it('client ping: the server pongs and the client reports the payload', async () => {
    const peer = await wsServer();
    const p = probe().connect(peer.url);
    await p.opened;
    expect(p.client.ping(Buffer.from('abc'))).toBe(true);
    expect(p.client.ping()).toBe(true);
    await p.until(() => p.pongs.length === 2, 5000, 'pongs');
    expect(p.pongs[0].toString()).toBe('abc');
    expect(p.pongs[1].length).toBe(0);
  });
});

describe('close handshake', () => {
  it('client closes with a code and reason: the server sees them, the client reports the echo cleanly', async () => {
    const peer = await wsServer();
    const p = probe().connect(peer.url);
    await p.opened;
    p.client.close(4001, 'client bye ünï');
    expect(p.client.state).toBe('closing');
    const side = await peer.peer();
    expect(await side.closed).toEqual({ code: 4001, reason: 'client bye ünï' });
    const info = await p.closed;
    expect(info).toMatchObject({ code: 4001, reason: 'client bye ünï', wasClean: true, state: 'closed' });
    expect(p.errors).toEqual([]);
  });

  for (const [code, reason] of [
    [1000, ''],
    [1001, 'going away'],
    [1011, 'server error'],
    [4999, 'x'.repeat(123)],
  ] as const) {
    it(`server closes with ${code} ${reason ? `"${reason.slice(0, 12)}"` : '(no reason)'}: the client echoes and reports it`, async () => {
      const peer = await wsServer({}, (side) => side.ws.close(code, reason));
      const p = probe().connect(peer.url);
      await p.opened;
      const info = await p.closed;
      expect(info).toMatchObject({ code, reason, wasClean: true });
      const side = await peer.peer();
      expect((await side.closed).code).toBe(code); // the client echoed the server's code
      expect(p.errors).toEqual([]);
    });
  }

  it('server closes without a status code: the client reports 1005', async () => {
    const peer = await wsServer({}, (side) => side.ws.close());
    const p = probe().connect(peer.url);
    const info = await p.closed;
    expect(info).toMatchObject({ code: 1005, reason: '', wasClean: true });
    expect((await (await peer.peer()).closed).code).toBe(1005);
  });

  it('close() rejects codes that may not be sent and over-long reasons', async () => {
    const peer = await wsServer();
    const p = probe().connect(peer.url);
    await p.opened;
    expect(() => p.client.close(1005)).toThrow(RangeError);
    expect(() => p.client.close(1006)).toThrow(RangeError);
    expect(() => p.client.close(999)).toThrow(RangeError);
    expect(() => p.client.close(5000)).toThrow(RangeError);
    expect(() => p.client.close(1000, 'é'.repeat(62))).toThrow(RangeError); // 124 bytes
    expect(p.client.state).toBe('open');
    p.client.close(1000, 'é'.repeat(61) + 'x'); // 123 bytes
    expect((await p.closed).reason).toBe('é'.repeat(61) + 'x');
  });

  it('the server terminates the TCP connection: close 1006, wasClean false', async () => {
    const peer = await wsServer({}, (side) => setTimeout(() => side.ws.terminate(), 20));
    const p = probe().connect(peer.url);
    await p.opened;
    const info = await p.closed;
    expect(info).toMatchObject({ code: 1006, wasClean: false, state: 'closed' });
    expect(p.events.filter((e) => e.type === 'close').length).toBe(1);
  });

  it('close() and the server never answers: the client gives up after serverTimeout with 1006', async () => {
    const T = 400;
    const raw = await rawServer({ after: 'record' });
    const p = probe({ serverTimeout: T, keepAliveInterval: 0 }).connect(raw.url);
    await p.opened;
    const start = performance.now();
    p.client.close(1000, 'bye');
    expect(p.client.state).toBe('closing');
    expect(p.client.send('late')).toBe(false);
    const info = await p.closed;
    const elapsed = info.at - start;
    expect(info).toMatchObject({ code: 1006, wasClean: false, reason: 'close handshake timed out' }); // gave up...
    expect(elapsed).toBeGreaterThanOrEqual(T - 2); // ...after serverTimeout, not before
    const conn = raw.connections[0];
    expect(conn.frames.map((f) => f.opcode)).toEqual([8]);
    expect(conn.frames[0].payload.readUInt16BE(0)).toBe(1000);
    // The client ended TCP after giving up.
    await waitFor(() => conn.ended, 10_000, 'TCP end');
  });

  it('the server answers the close but keeps TCP open: clean close at once, the client drops TCP after serverTimeout', async () => {
    const T = 300;
    const raw = await rawServer({ after: 'echo', endOnClose: false });
    const p = probe({ serverTimeout: T }).connect(raw.url);
    await p.opened;
    p.client.close(4321, 'x');
    const info = await p.closed;
    expect(info).toMatchObject({ code: 4321, wasClean: true });
    // Reported at once, on the server's close frame: TCP is still open then, and the client
    // drops it only serverTimeout after the close was reported (not: reported when dropped).
    const conn = raw.connections[0];
    expect(conn.ended).toBe(false);
    let endedAt = 0;
    conn.socket.once('close', () => (endedAt = performance.now()));
    await waitFor(() => endedAt > 0, 10_000, 'TCP closed by the client');
    expect(endedAt - info.at).toBeGreaterThanOrEqual(T - 2);
  });

  it('the server closes but never ends TCP: the client echoes, reports a clean close, and drops TCP after serverTimeout', async () => {
    const T = 300;
    const raw = await rawServer({
      respond: (req) => Buffer.concat([Buffer.from(switchingProtocols(req)), encodeFrame(1, 'last words'), encodeFrame(8, closePayload(1001, 'bye')), encodeFrame(1, 'after close')]),
    });
    const p = probe({ serverTimeout: T }).connect(raw.url);
    const info = await p.closed;
    const closedAt = performance.now();
    expect(info).toMatchObject({ code: 1001, reason: 'bye', wasClean: true });
    expect(p.messages).toEqual([{ data: 'last words', isText: true }]); // nothing after the close frame
    const conn = raw.connections[0];
    await waitFor(() => conn.frames.length === 1, 3000, 'the echoed close');
    expect(conn.frames[0].opcode).toBe(8);
    expect(conn.frames[0].payload.readUInt16BE(0)).toBe(1001);
    expect(conn.ended).toBe(false);
    await waitFor(() => conn.ended, 10_000, 'TCP closed by the client');
    expect(performance.now() - closedAt).toBeGreaterThanOrEqual(T - 50);
  });

  it('ws://localhost:PORT connects to 127.0.0.1', async () => {
    const peer = await wsServer();
    const p = probe().connect(peer.url.replace('127.0.0.1', 'localhost') + '/');
    await p.opened;
    expect((await peer.peer()).req.headers.host).toBe(`localhost:${new URL(peer.url).port}`);
  });

  it('state transitions connecting → open → closing → closed, and the client can connect again', async () => {
    const peer = await wsServer();
    const p = probe();
    const states: string[] = [p.client.state];
    p.connect(peer.url);
    states.push(p.client.state);
    await p.opened;
    states.push((p.events[0] as { state: string }).state, p.client.state);
    p.client.close();
    states.push(p.client.state);
    const info = await p.closed;
    states.push(info.state, p.client.state);
    expect(states).toEqual(['closed', 'connecting', 'open', 'open', 'closing', 'closed', 'closed']);
    expect(p.client.protocol).toBe('');
    expect(p.client.bufferedAmount).toBe(0);
    // A second connect() with the same client works and reports its own close once.
    let opens = 0;
    const second = new Promise<number>((resolve) => {
      p.client.on('open', () => {
        opens++;
        p.client.close(4000);
      });
      p.client.on('close', (code) => resolve(code));
    });
    expect(() => p.client.connect(peer.url)).not.toThrow();
    expect(() => p.client.connect(peer.url)).toThrow(/already/);
    expect(await second).toBe(4000);
    expect(opens).toBe(1);
  });
});

describe('keep-alive and timeouts', () => {
  it('a dead server (handshake done, then silent): close 1006 by the keep-alive timeout, not before K+T', async () => {
    const K = 300;
    const T = 400;
    const raw = await rawServer({ after: 'record' });
    const p = probe({ keepAliveInterval: K, serverTimeout: T }).connect(raw.url);
    await p.opened;
    const info = await p.closed;
    const elapsed = info.at - p.openedAt;
    expect(info).toMatchObject({ code: 1006, wasClean: false, reason: 'keep-alive timed out: no answer from the peer' });
    expect(elapsed).toBeGreaterThanOrEqual(K + T - 2);
    // The keep-alive ping went out (masked) about K after open, and nothing else.
    const conn = raw.connections[0];
    expect(conn.frames.map((f) => f.opcode)).toEqual([9]);
    expect(conn.frames[0].masked).toBe(true);
    expect(p.errors).toEqual([]); // it had opened: a timeout is a close, not an 'error'
  });

  it('keep-alive: a live server answering pings keeps the connection open past K+T', async () => {
    const K = 100;
    const T = 150;
    const raw = await rawServer({ after: 'echo' });
    const p = probe({ keepAliveInterval: K, serverTimeout: T }).connect(raw.url);
    await p.opened;
    // The client pings again only after the server's bytes (the pong) re-armed it, and an
    // unanswered ping closes instead: a third ping means the first two were answered in
    // time, and it comes no sooner than 3 x K after open (past K + T).
    const ping = (): RawFrame[] => raw.connections[0].frames.filter((f) => f.opcode === 9);
    await waitFor(() => ping().length >= 3, 10_000, 'three keep-alive pings');
    expect(p.client.state).toBe('open');
    const pings = ping();
    expect(p.pongs.length).toBeGreaterThanOrEqual(pings.length - 1); // the last may be in flight
    // Each keep-alive ping carries a distinct payload.
    expect(new Set(pings.map((f) => f.payload.toString('hex'))).size).toBe(pings.length);
  });

  it('connectTimeout: TCP accepted but the upgrade never answered → error then close 1006 within connectTimeout', async () => {
    const C = 500;
    const raw = await rawServer({ respond: 'never' });
    const p = probe({ connectTimeout: C }).connect(raw.url);
    const f = await failure(p);
    const elapsed = f.at - p.connectedAt;
    expect(f).toMatchObject({ code: 1006, wasClean: false, opened: false });
    expect(f.errors.length).toBe(1);
    expect(f.errors[0]).toMatch(/timed out/); // by connectTimeout...
    expect(p.events.map((e) => e.type)).toEqual(['error', 'close']);
    expect(elapsed).toBeGreaterThanOrEqual(C - 2); // ...and not before it
    expect(raw.connections[0].request?.method).toBe('GET');
  });

  it('connection refused (nothing listens): error then close 1006, quickly', async () => {
    const port = await closedPort();
    const p = probe({ connectTimeout: 5000 }).connect(`ws://127.0.0.1:${port}/`);
    const f = await failure(p);
    expect(f).toMatchObject({ code: 1006, wasClean: false, opened: false });
    expect(f.errors.length).toBe(1);
    expect(p.events.map((e) => e.type)).toEqual(['error', 'close']);
    expect(f.errors[0]).not.toMatch(/timed out/); // the refusal itself, not connectTimeout (5 s) running out
  });

  it('close() while connecting: error then close 1006, never open', async () => {
    const raw = await rawServer({ respond: 'never' });
    const p = probe().connect(raw.url);
    expect(p.client.state).toBe('connecting');
    p.client.close();
    const f = await failure(p);
    expect(f).toMatchObject({ code: 1006, opened: false });
    expect(p.events.map((e) => e.type)).toEqual(['error', 'close']);
  });
});

describe('opening handshake', () => {
  async function refused(url: string, options: ClientOptions = {}, connect: Parameters<ClientProbe['connect']>[1] = {}) {
    const p = probe(options).connect(url, connect);
    const f = await failure(p);
    expect(f.opened).toBe(false);
    expect(f.code).toBe(1006);
    expect(f.wasClean).toBe(false);
    expect(p.events.map((e) => e.type)).toEqual(['error', 'close']);
    expect(f.errors.length).toBe(1);
    return f.errors[0];
  }

  for (const status of [401, 403]) {
    it(`ws verifyClient refuses with ${status}: error naming the status, close 1006, never open`, async () => {
      const peer = await wsServer({ verifyClient: (_info, done) => done(false, status, 'nope') });
      expect(await refused(`${peer.url}/private`)).toMatch(new RegExp(`\\b${status}\\b`));
      expect(peer.peers.length).toBe(0);
    });
  }

  it('a raw server answers 200 instead of 101', async () => {
    const raw = await rawServer({ respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi' });
    expect(await refused(raw.url)).toMatch(/101.*200|200/);
  });

  it('a wrong Sec-WebSocket-Accept', async () => {
    const raw = await rawServer({ respond: (req) => switchingProtocols(req, [], 'dGhlIHNhbXBsZSBub25jZQ==') });
    expect(await refused(raw.url)).toMatch(/Sec-WebSocket-Accept/i);
  });

  it('a missing Sec-WebSocket-Accept', async () => {
    const raw = await rawServer({
      respond: () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    });
    expect(await refused(raw.url)).toMatch(/Sec-WebSocket-Accept/i);
  });

  it('a subprotocol when none was offered (raw server)', async () => {
    const raw = await rawServer({ respond: (req) => switchingProtocols(req, ['Sec-WebSocket-Protocol: chat']) });
    expect(await refused(raw.url)).toMatch(/subprotocol/i);
  });

  it('a subprotocol other than those offered (ws handleProtocols)', async () => {
    const peer = await wsServer({ handleProtocols: () => 'evil' });
    expect(await refused(peer.url, {}, { subprotocols: ['v1', 'v2'] })).toMatch(/subprotocol.*evil|evil.*not offered/i);
  });

  it('an extension the client did not offer', async () => {
    const raw = await rawServer({ respond: (req) => switchingProtocols(req, ['Sec-WebSocket-Extensions: permessage-deflate']) });
    expect(await refused(raw.url)).toMatch(/Extensions/i);
  });

  it('a frame right behind a refused response is not delivered', async () => {
    const raw = await rawServer({
      respond: (req) => Buffer.concat([Buffer.from(switchingProtocols(req, [], 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')), encodeFrame(1, 'sneaky')]),
    });
    const p = probe().connect(raw.url);
    await p.closed;
    expect(p.messages).toEqual([]);
  });

  it('the first frame in the same TCP segment as the 101 is delivered', async () => {
    const raw = await rawServer({ respond: (req) => Buffer.concat([Buffer.from(switchingProtocols(req)), encodeFrame(1, 'early')]) });
    const p = probe().connect(raw.url);
    await p.opened;
    expect((await p.message(0)).data).toBe('early');
  });

  it('custom headers, Origin, Host and the path with its query arrive at the server', async () => {
    const peer = await wsServer();
    const p = probe().connect(`${peer.url}/chat/room?id=42&x=%20y`, {
      headers: { Authorization: 'Bearer abc.def', 'X-Device-Id': 'atom-lite-01', 'X-Empty': '' },
      origin: 'http://device.local',
    });
    await p.opened;
    const side = await peer.peer();
    const port = new URL(peer.url).port;
    expect(side.req.url).toBe('/chat/room?id=42&x=%20y');
    expect(side.req.headers.authorization).toBe('Bearer abc.def');
    expect(side.req.headers['x-device-id']).toBe('atom-lite-01');
    expect(side.req.headers['x-empty']).toBe('');
    expect(side.req.headers.origin).toBe('http://device.local');
    expect(side.req.headers.host).toBe(`127.0.0.1:${port}`);
    expect(side.req.headers['sec-websocket-version']).toBe('13');
    expect(side.req.headers['sec-websocket-extensions']).toBeUndefined();
    expect(side.req.headers['sec-websocket-protocol']).toBeUndefined();
  });

  it('bad connect options (handshake headers, injection, non-token names or subprotocols) throw from connect()', async () => {
    const raw = await rawServer({ after: 'record' });
    const bad: Array<[Parameters<ClientProbe['connect']>[1], RegExp]> = [
      [{ headers: { 'Sec-WebSocket-Key': 'x' } }, /Sec-WebSocket-Key.*cannot be overridden/],
      [{ headers: { upgrade: 'h2c' } }, /upgrade.*cannot be overridden/],
      [{ headers: { 'X-Bad': 'a\r\nInjected: 1' } }, /X-Bad.*control character/],
      [{ headers: { 'Bad Name': 'v' } }, /header name/],
      [{ origin: 'http://a\r\nInjected: 1' }, /origin/],
      [{ origin: 'http://a', headers: { Origin: 'http://b' } }, /Origin.*cannot be overridden/],
      [{ subprotocols: ['a b'] }, /subprotocol/],
      [{ subprotocols: ['v1', 'v1'] }, /duplicate subprotocol/],
    ];
    for (const [options, message] of bad) {
      const p = probe();
      expect(() => p.connect(raw.url, options)).toThrow(message);
      expect(p.client.state).toBe('closed');
    }
    await sleep(50);
    expect(raw.connections.length).toBe(0); // nothing even connected
  });

  it('subprotocol negotiation: the server picks one of the offered, the client reports it', async () => {
    const peer = await wsServer({ handleProtocols: (protocols) => (protocols.has('v2') ? 'v2' : false) });
    const a = probe().connect(peer.url, { subprotocols: ['v1', 'v2', 'v3'] });
    expect(await a.opened).toBe('v2');
    expect(a.client.protocol).toBe('v2');
    expect((await peer.peer(0)).req.headers['sec-websocket-protocol']).toBe('v1, v2, v3');
    expect((await peer.peer(0)).ws.protocol).toBe('v2');
    // None of ours is acceptable to the server: it answers without a protocol; we open with ''.
    const b = probe().connect(peer.url, { subprotocols: ['v9'] });
    expect(await b.opened).toBe('');
    expect(b.client.protocol).toBe('');
  });

  it('send while connecting returns false (before and after the TCP connect)', async () => {
    const raw = await rawServer({ respond: 'never' });
    const p = probe().connect(raw.url);
    expect(p.client.state).toBe('connecting');
    expect(p.client.send('early')).toBe(false);
    expect(p.client.send(new Uint8Array(3))).toBe(false);
    expect(p.client.ping()).toBe(false);
    await waitFor(() => raw.connections.length === 1 && raw.connections[0].request !== null, 5000, 'request');
    expect(p.client.state).toBe('connecting');
    expect(p.client.sendText('still early')).toBe(false);
    expect(p.client.sendFragment(new Uint8Array(1), false, true, true)).toBe(false);
    expect(p.client.bufferedAmount).toBe(0);
    // Now answer: it opens, and none of the early sends went out.
    const conn = raw.connections[0];
    conn.accept();
    await p.opened;
    expect(p.client.send('now')).toBe(true);
    await waitFor(() => conn.frames.length === 1, 5000, 'frame');
    expect(conn.frames[0].payload.toString()).toBe('now');
  });

  it('a URL it cannot use throws synchronously', () => {
    const p = probe();
    expect(() => p.client.connect('http://127.0.0.1:1/')).toThrow();
    expect(() => p.client.connect('wss://127.0.0.1/')).toThrow(/wss/);
    expect(() => p.client.connect('ws://127.0.0.1:99999/')).toThrow(/port/);
    expect(p.client.state).toBe('closed');
  });
});

describe('flow control and bounded memory', () => {
  it('bufferedAmount rises with a server that does not read; sends beyond the budget return false; all accepted data arrives later', async () => {
    const Q = 64 * 1024;
    const raw = await rawServer({ after: 'pause' });
    const p = probe({ sendQueueSize: Q }).connect(raw.url);
    await p.opened;
    const conn = raw.connections[0];
    const piece = pattern(8000);
    let accepted = 0;
    let refusedInARow = 0;
    let maxBuffered = 0;
    const end = performance.now() + 20_000;
    // Keep offering until the kernel's buffers and our queue are full: then every send is refused.
    while (refusedInARow < 50) {
      if (performance.now() > end) throw new Error(`never stalled: ${accepted} accepted`);
      if (p.client.sendBinary(piece)) {
        accepted++;
        refusedInARow = 0;
      } else {
        refusedInARow++;
        await sleep(2);
      }
      maxBuffered = Math.max(maxBuffered, p.client.bufferedAmount);
      expect(p.client.bufferedAmount).toBeLessThanOrEqual(Q);
      if (accepted % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(accepted).toBeGreaterThan(0);
    expect(p.client.bufferedAmount).toBeGreaterThan(0);
    expect(maxBuffered).toBeGreaterThan(Q / 2);
    expect(p.client.sendBinary(piece)).toBe(false);
    expect(p.client.state).toBe('open');
    // Control frames still fit in the reserve: a ping is queued, not refused.
    expect(p.client.ping(Buffer.from('k'))).toBe(true);
    // The server starts reading: everything accepted arrives intact and the queue drains.
    conn.socket.resume();
    await waitFor(() => conn.frames.filter((f) => f.opcode === 2).length === accepted, 20_000, 'all accepted messages');
    await waitFor(() => p.client.bufferedAmount === 0, 5000, 'queue drained');
    const data = conn.frames.filter((f) => f.opcode === 2);
    expect(data.every((f) => f.payload.equals(piece))).toBe(true);
    expect(conn.frames.filter((f) => f.opcode === 9).length).toBe(1);
    expect(p.client.sendBinary(piece)).toBe(true);
  });

  it('a frame larger than the socket can take at once, sent when idle, still goes out (no stall)', async () => {
    // With a 16 KiB encoder buffer a 9000-byte message is one 9008-byte piece, more than
    // the 8 KiB the (idle) socket takes: it must be written in part and the rest queued.
    const peer = await wsServer();
    const p = probe({ sendBufferSize: 16384, sendQueueSize: 65536, maxMessageSize: 65536 }).connect(peer.url);
    await p.opened;
    await sleep(50); // every write done: nothing in flight
    expect(p.client.sendBinary(pattern(9000))).toBe(true);
    const m = await p.message(0, 5000);
    expect((m.data as Buffer).equals(pattern(9000))).toBe(true);
    await sleep(50);
    expect(p.client.sendText(asciiText(30_000))).toBe(true);
    expect((await p.message(1, 5000)).data).toBe(asciiText(30_000));
  });

  it('a message admitted by the send budget never overflows the queue (writable + queue, not queue alone)', async () => {
    // Default 4 KiB queue, 8 KiB socket: 10000 bytes fit the budget, but not the queue alone.
    const peer = await wsServer();
    const p = probe({ sendBufferSize: 16384, maxMessageSize: 65536 }).connect(peer.url);
    await p.opened;
    await sleep(50);
    expect(p.client.sendBinary(pattern(10_000))).toBe(true);
    const m = await p.message(0, 5000);
    expect((m.data as Buffer).equals(pattern(10_000))).toBe(true);
    expect(p.client.state).toBe('open');
  });

  it('one synchronous burst: sends are refused as soon as the budget is used, never queued beyond it', async () => {
    const Q = 16 * 1024;
    const raw = await rawServer({ after: 'record' });
    const p = probe({ sendQueueSize: Q }).connect(raw.url);
    await p.opened;
    const results: boolean[] = [];
    for (let i = 0; i < 100; i++) results.push(p.client.sendBinary(pattern(1000, i)));
    const accepted = results.filter(Boolean).length;
    expect(results.indexOf(false)).toBe(accepted); // a prefix accepted, then refused
    expect(accepted).toBeLessThan(100);
    expect(p.client.bufferedAmount).toBeLessThanOrEqual(Q);
    const conn = raw.connections[0];
    await waitFor(() => conn.frames.length === accepted, 5000, 'frames');
    expect(conn.frames.map((f) => f.payload.equals(pattern(1000, conn.frames.indexOf(f)))).every(Boolean)).toBe(true);
    await waitFor(() => p.client.bufferedAmount === 0, 5000, 'drained');
  });
});

describe('protocol errors from the server', () => {
  it('invalid UTF-8 in a text message (split across fragments): the client fails with 1007 and tells the server', async () => {
    const peer = await wsServer({}, (side) => {
      side.ws.send(Buffer.from([0x61, 0xf0, 0x9f]), { binary: false, fin: false }); // valid so far
      side.ws.send(Buffer.from([0x28, 0x61]), { binary: false, fin: true }); // 0x28 cannot continue F0 9F
    });
    const p = probe().connect(peer.url);
    const info = await p.closed;
    expect(info).toMatchObject({ code: 1007, wasClean: false });
    expect(p.messages).toEqual([]);
    expect((await (await peer.peer()).closed).code).toBe(1007);
  });

  it('a message over maxMessageSize: 1009 to the server, nothing delivered', async () => {
    const peer = await wsServer({}, (side) => {
      side.ws.send(pattern(4096));
      side.ws.send(pattern(4097));
    });
    const p = probe({ maxMessageSize: 4096 }).connect(peer.url);
    const info = await p.closed;
    expect(info.code).toBe(1009);
    expect(p.messages.length).toBe(1);
    expect((p.messages[0].data as Buffer).equals(pattern(4096))).toBe(true);
    expect((await (await peer.peer()).closed).code).toBe(1009);
  });

  it('a masked frame from the server, or reserved bits: 1002', async () => {
    for (const frame of [encodeFrame(1, 'masked', true, Buffer.from([1, 2, 3, 4])), Buffer.from([0xc1, 0x00])]) {
      const raw = await rawServer({ respond: (req) => Buffer.concat([Buffer.from(switchingProtocols(req)), frame]) });
      const p = probe().connect(raw.url);
      const info = await p.closed;
      expect(info).toMatchObject({ code: 1002, wasClean: false });
      expect(p.messages).toEqual([]);
      const conn = raw.connections[0];
      await waitFor(() => conn.frames.length === 1, 5000, 'close frame');
      expect(conn.frames[0].opcode).toBe(8);
      expect(conn.frames[0].payload.readUInt16BE(0)).toBe(1002);
      await waitFor(() => conn.ended, 5000, 'TCP closed by the client');
    }
  });
});
