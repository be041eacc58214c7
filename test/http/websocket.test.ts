// HttpServer (sim host, real sockets on 127.0.0.1): the WebSocket upgrade hand-off to a
// WebSocketServer (isStandAlone: false) on the HTTP port, with `ws` and with raw sockets
// (the first frame in the same TCP write as the handshake: no byte may be lost).
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebSocketServer } from '../../src/net/server';
import { RawClient, destroyClients, get, sampleStore, sleep, startServer, stopServers, waitFor } from './helpers';
import { SAMPLE_ACCEPT, clientFrame, decodeFrames } from '../interop/peers/server-harness';

const sockets = new Set<WebSocket>();
const wsServers = new Set<WebSocketServer>();

afterEach(() => {
  for (const ws of sockets) ws.terminate();
  sockets.clear();
  for (const s of wsServers) s.stop();
  wsServers.clear();
  destroyClients();
  stopServers();
});

/** An HTTP server on an ephemeral port handing /ws upgrades to an echo WebSocketServer. */
function startBoth(extra: { maxClients?: number } = {}, httpOptions: { idleTimeout?: number; requestTimeout?: number } = {}) {
  const ws = new WebSocketServer({ isStandAlone: false, prefix: '/ws', ...extra });
  wsServers.add(ws);
  const opened: string[] = [];
  const wsErrors: Error[] = [];
  ws.on('opened', (client) => opened.push(client));
  ws.on('error', (error) => wsErrors.push(error));
  ws.on('message', (client, data, isText) => {
    if (isText) ws.sendText(client, data as string);
    else ws.sendBinary(client, data as Uint8Array);
  });
  const http = startServer({ store: sampleStore(), websocket: { path: '/ws', server: ws }, ...httpOptions });
  return { ...http, ws, opened, wsErrors };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    sockets.add(socket);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), 5000);
    socket.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      resolve({ data, isBinary });
    });
  });
}

/** Read from a raw client until `count` frames (after the 101 head) have arrived. */
async function framesAfterHead(client: RawClient, count: number): Promise<{ head: string; frames: ReturnType<typeof decodeFrames>['frames'] }> {
  await waitFor(() => {
    const data = client.pending;
    const end = data.indexOf('\r\n\r\n');
    return end >= 0 && decodeFrames(data.subarray(end + 4)).frames.length >= count;
  }, `${count} frames`);
  const data = client.pending;
  const end = data.indexOf('\r\n\r\n');
  return { head: data.subarray(0, end).toString('latin1'), frames: decodeFrames(data.subarray(end + 4)).frames };
}

function upgrade(path: string, extra = '', version = 'HTTP/1.1'): string {
  return (
    `GET ${path} ${version}\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

describe('WebSocket hand-off', () => {
  it('a ws client on ws://127.0.0.1:P/ws gets a working echo (text and binary); the HTTP server forgets the socket', async () => {
    const { port, server, ws, requests } = startBoth({}, { idleTimeout: 200, requestTimeout: 200 });
    const socket = await open(`ws://127.0.0.1:${port}/ws`);
    await waitFor(() => ws.clientsCount === 1, 'WebSocket client open');
    expect(server.connectionsCount).toBe(0);
    socket.send('hello é');
    const text = await nextMessage(socket);
    expect(text.isBinary).toBe(false);
    expect(text.data.toString('utf8')).toBe('hello é');
    const bytes = Buffer.from(Array.from({ length: 700 }, (_, i) => i & 0xff));
    socket.send(bytes);
    const binary = await nextMessage(socket);
    expect(binary.isBinary).toBe(true);
    expect(Buffer.compare(binary.data, bytes)).toBe(0);
    expect(requests).toEqual([{ method: 'GET', path: '/ws', status: 101 }]);
    // Long after the HTTP idle and request timeouts would have fired, it still works.
    await sleep(600);
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.send('still here');
    expect((await nextMessage(socket)).data.toString()).toBe('still here');
    socket.close(1000, 'bye');
    await waitFor(() => ws.clientsCount === 0, 'closed');
  });

  it('the first frame in the same TCP write as the handshake is not lost (raw socket)', async () => {
    const { port, ws } = startBoth();
    const client = await RawClient.connect(port);
    client.write(Buffer.concat([Buffer.from(upgrade('/ws'), 'latin1'), clientFrame(1, Buffer.from('first')), clientFrame(2, Buffer.from([9, 8, 7]))]));
    const { head, frames } = await framesAfterHead(client, 2);
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toContain(`Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}`);
    expect(frames[0]!.opcode).toBe(1);
    expect(frames[0]!.payload.toString()).toBe('first');
    expect(frames[1]!.opcode).toBe(2);
    expect([...frames[1]!.payload]).toEqual([9, 8, 7]);
    expect(ws.clientsCount).toBe(1);
  });

  it('after keep-alive requests, and pipelined behind one in the same write', async () => {
    const { port, ws, server } = startBoth();
    const client = await RawClient.connect(port);
    expect((await client.request(get('/style.css'))).status).toBe(200);
    client.write(Buffer.concat([Buffer.from(get('/app.js') + upgrade('/ws?token=1'), 'latin1'), clientFrame(1, Buffer.from('piped'))]));
    const first = await client.response();
    expect(first.body.toString()).toBe('console.log("plain");\n');
    const { head, frames } = await framesAfterHead(client, 1);
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(frames[0]!.payload.toString()).toBe('piped');
    expect(ws.clientsCount).toBe(1);
    expect(server.connectionsCount).toBe(0);
  });

  it('a first frame larger than the HTTP read buffer, partly still in the socket at the hand-off', async () => {
    const { port } = startBoth();
    const client = await RawClient.connect(port);
    const payload = Buffer.alloc(900, 0x61); // the WebSocketServer's default maxMessageSize is 1024
    client.write(Buffer.concat([Buffer.from(upgrade('/ws'), 'latin1'), clientFrame(1, payload)]));
    const { frames } = await framesAfterHead(client, 1);
    expect(frames[0]!.payload.equals(payload)).toBe(true);
  });

  it('Upgrade: websocket on another path -> 404 and close; without a websocket option -> 404', async () => {
    const { port, ws } = startBoth();
    const client = await RawClient.connect(port);
    const r = await client.request(upgrade('/'));
    expect(r.status).toBe(404);
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(3000);
    expect(ws.clientsCount).toBe(0);

    const plain = startServer({ store: sampleStore() });
    const other = await RawClient.connect(plain.port);
    expect((await other.request(upgrade('/ws'))).status).toBe(404);
  });

  it('an HTTP/1.0 upgrade -> 400; a bad handshake at the path is answered by the WebSocketServer', async () => {
    const { port, ws, wsErrors, requests } = startBoth();
    const old = await RawClient.connect(port);
    expect((await old.request(upgrade('/ws', '', 'HTTP/1.0'))).status).toBe(400);
    const bad = await RawClient.connect(port);
    bad.write(upgrade('/ws').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'));
    await bad.waitClosed(3000);
    expect(bad.pending.toString('latin1')).toMatch(/^HTTP\/1\.1 426 /);
    expect(ws.clientsCount).toBe(0);
    expect(wsErrors.length).toBeGreaterThan(0);
    expect(requests.at(-1)).toEqual({ method: 'GET', path: '/ws', status: 0 });
  });

  it('Upgrade tokens other than websocket are ignored (plain response)', async () => {
    const { port } = startBoth();
    const client = await RawClient.connect(port);
    const r = await client.request(get('/style.css', 'Upgrade: h2c\r\nConnection: Upgrade\r\n'));
    expect(r.status).toBe(200);
  });

  it('the WebSocketServer cap applies to hand-offs (503 from it)', async () => {
    const { port, ws } = startBoth({ maxClients: 1 });
    await open(`ws://127.0.0.1:${port}/ws`);
    await waitFor(() => ws.clientsCount === 1, 'first open');
    const client = await RawClient.connect(port);
    client.write(upgrade('/ws'));
    await client.waitClosed(4000);
    expect(client.pending.toString('latin1')).toMatch(/^HTTP\/1\.1 503 /);
  });
});
