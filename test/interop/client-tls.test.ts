// wss:// beyond the message suites (those run over TLS in client-ws and client-python):
// our client over the host's TLS socket against Node TLS servers on 127.0.0.1 with
// certificates made at test time (peers/tls-certs.ts), in the settings the Moddable SDK's
// TLS speaks. Every handshake failure must reach the application as 'error' (an Error
// named TLSError, with the reason) then 'close' 1015, within connectTimeout, never open.
// Under `npm test` the client runs here on the sim host (hosts/sim/tls.ts); under
// `npm run test:moddable` the same tests drive our client inside the Moddable simulator
// over our TLS socket on the SDK's TLS (hosts/moddable/tls-socket.ts), through the
// tls-client app (peers/tls-driver.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { IncomingMessage } from 'node:http';
import { Cleanup } from './peers/client-probe';
import { SDK_COMPATIBLE, testPki } from '../../scripts/tls-certs.mjs';
import type { ServerIdentity } from '../../scripts/tls-certs.mjs';
import { expected, startTlsDriver } from './peers/tls-driver';
import type { DrivenClient, TlsDriver, TlsTestOptions } from './peers/tls-driver';
import { onModdable, waitFor as waitForBytes } from '../moddable/mode';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

let driver: TlsDriver;
beforeAll(async () => {
  driver = await startTlsDriver();
}, 120_000);
afterAll(() => driver?.stop());

/** connectTimeout for the failure tests: long enough for a TLS handshake in the simulator (RSA in XS). */
const CONNECT_TIMEOUT = onModdable ? 15_000 : 3000;

interface TlsPeer {
  port: number;
  /** Requests that reached the WebSocket layer (the TLS handshake succeeded). */
  requests: IncomingMessage[];
  /** Client certificates the server saw (CN), one per TLS connection that sent one. */
  clientNames: string[];
  /** TLS connections that failed on the server's side, with the reason. */
  tlsErrors: string[];
  /** Version and cipher of each TLS connection. */
  negotiated: string[];
}

/** A `ws` echo server over https on 127.0.0.1 with `identity`, in the SDK's TLS settings (or Node's defaults). */
async function tlsEchoServer(identity: ServerIdentity, extra: tls.TlsOptions = {}, settings: tls.TlsOptions = SDK_COMPATIBLE): Promise<TlsPeer> {
  const server = https.createServer({ ...identity, ...settings, ...extra });
  const peer: TlsPeer = { port: 0, requests: [], clientNames: [], tlsErrors: [], negotiated: [] };
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    peer.negotiated.push(`${socket.getProtocol()} ${socket.getCipher().name}`);
    const cert = socket.getPeerCertificate();
    if (cert && cert.subject) peer.clientNames.push(String(cert.subject.CN));
  });
  server.on('tlsClientError', (error) => peer.tlsErrors.push(error.message));
  const wss = new WebSocketServer({ server, maxPayload: 4 << 20 });
  wss.on('connection', (ws, request) => {
    peer.requests.push(request);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  peer.port = (server.address() as net.AddressInfo).port;
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return peer;
}

/** A TCP server that accepts and reads but never answers: a TLS handshake that stalls at its start. */
async function silentServer(): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanup.add(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return (server.address() as net.AddressInfo).port;
}

/**
 * A proxy in front of `port` that passes the client's bytes on but only the first `limit`
 * bytes of the server's: the server's first flight is cut short and nothing more comes,
 * so the handshake stalls in its middle (after ServerHello began to arrive).
 */
async function stallingProxy(port: number, limit: number): Promise<{ port: number; forwarded: () => number }> {
  let forwarded = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.pipe(upstream);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      const take = Math.max(0, Math.min(chunk.length, limit - sent));
      if (take > 0) client.write(chunk.subarray(0, take));
      sent += take;
      forwarded += take;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanup.add(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { port: (server.address() as net.AddressInfo).port, forwarded: () => forwarded };
}

function pemWithBadBase64(): string {
  return '-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n';
}

function client(options: TlsTestOptions = {}): DrivenClient {
  const c = driver.client({ connectTimeout: CONNECT_TIMEOUT, ...options });
  cleanup.add(() => c.dispose());
  return c;
}

/** A failed connection: never open, one TLSError naming the reason, close 1015, all within connectTimeout. */
async function expectTlsFailure(c: DrivenClient, reason: RegExp): Promise<{ reason: string; elapsed: number }> {
  const closed = await c.closed;
  const elapsed = closed.at - c.connectedAt;
  expect(c.opened).toBe(false);
  expect(closed.code).toBe(1015);
  expect(closed.wasClean).toBe(false);
  expect(closed.reason).toMatch(reason);
  expect(c.errors).toHaveLength(1);
  expect(c.errors[0].name).toBe('TLSError');
  expect(c.errors[0].message).toBe(closed.reason);
  expect(elapsed).toBeLessThan(CONNECT_TIMEOUT + 2000);
  return { reason: closed.reason, elapsed };
}

describe('wss:// handshakes that succeed', () => {
  it('echoes text and binary of 0, 125, 126, 16383, 16384, 65536 and 200,000 bytes (messages across TLS records)', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const sizes = [0, 125, 126, 16383, 16384, 65536, 200_000];
    const c = client({ ca: pki.ca, maxMessageSize: 256 * 1024, sendQueueSize: 512 * 1024 });
    c.connect(`wss://localhost:${peer.port}/tls-echo`);
    await c.open();
    let n = 0;
    for (const [i, size] of sizes.entries()) {
      const text = { ascii: size, seed: i, suffix: size > 0 ? '€' : '' };
      const bytes = { pattern: size, seed: i };
      expect(await c.send(text)).toBe(true);
      expect(await c.received(n++, waitForBytes(size))).toEqual(expected(text));
      expect(await c.send(bytes)).toBe(true);
      expect(await c.received(n++, waitForBytes(size))).toEqual(expected(bytes));
    }
    expect(peer.requests).toHaveLength(1);
    expect(peer.requests[0].url).toBe('/tls-echo');
    expect(peer.requests[0].headers.host).toBe(`localhost:${peer.port}`);
    await c.close(1000, 'done');
    const closed = await c.closed;
    expect(closed.code).toBe(1000);
    expect(closed.wasClean).toBe(true);
  });

  it("a server with Node's default TLS settings: TLS 1.3 on the sim host, 1.2 (the most the SDK speaks) in the simulator", async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server, {}, {});
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${peer.port}/`);
    await c.open();
    expect(await c.send({ text: 'defaults' })).toBe(true);
    expect(await c.received(0)).toEqual(expected({ text: 'defaults' }));
    expect(peer.negotiated).toHaveLength(1);
    // The cipher follows the client's preference there: any the SDK offers, at TLS 1.2.
    expect(peer.negotiated[0]).toMatch(onModdable ? /^TLSv1\.2 / : /^TLSv1\.3 TLS_AES_256_GCM_SHA384$/);
  });

  it('the SDK-compatible settings are what was negotiated', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${peer.port}/`);
    await c.open();
    expect(peer.negotiated).toEqual(['TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256']);
  });

  it('the client fragments (maxFragmentSize 1000): the server receives whole messages over TLS', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({ ca: pki.ca, maxFragmentSize: 1000, maxMessageSize: 64 * 1024, sendQueueSize: 128 * 1024 });
    c.connect(`wss://localhost:${peer.port}/`);
    await c.open();
    const text = { text: 'ÅÄÖ€𝄞'.repeat(1500) }; // multibyte sequences split across fragments
    const bytes = { pattern: 50_000, seed: 3 };
    expect(await c.send(text)).toBe(true);
    expect(await c.received(0, waitForBytes(20_000))).toEqual(expected(text));
    expect(await c.send(bytes)).toBe(true);
    expect(await c.received(1, waitForBytes(50_000))).toEqual(expected(bytes));
  });

  it('an IP address URL is checked against the certificate\'s IP address (no SNI for an address)', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({ ca: pki.ca });
    c.connect(`wss://127.0.0.1:${peer.port}/`);
    await c.open();
    expect(await c.send({ text: 'by address' })).toBe(true);
    expect(await c.received(0)).toEqual(expected({ text: 'by address' }));
  });

  it('serverName overrides the name checked: wss://127.0.0.1 with serverName localhost', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({ ca: pki.ca, serverName: 'localhost' });
    c.connect(`wss://127.0.0.1:${peer.port}/`);
    await c.open();
    expect(peer.requests).toHaveLength(1);
  });

  it('a client certificate: the server that requires one sees it', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server, { requestCert: true, rejectUnauthorized: true, ca: pki.ca });
    const c = client({ ca: pki.ca, certificate: pki.client.cert, key: pki.client.key });
    c.connect(`wss://localhost:${peer.port}/`);
    await c.open();
    expect(await c.send({ text: 'with a certificate' })).toBe(true);
    expect(await c.received(0)).toEqual(expected({ text: 'with a certificate' }));
    expect(peer.clientNames).toEqual(['client']);
  });

  it('insecureSkipVerify connects to a server nobody vouches for', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.unknownCa);
    const c = client({ insecureSkipVerify: true });
    c.connect(`wss://localhost:${peer.port}/`);
    await c.open();
    expect(await c.send({ text: 'unverified' })).toBe(true);
    expect(await c.received(0)).toEqual(expected({ text: 'unverified' }));
  });
});

describe('wss:// handshakes that fail: error (TLSError) then close 1015 with the reason', () => {
  it('a certificate from a CA the client does not trust', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.unknownCa);
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${peer.port}/`);
    await expectTlsFailure(c, /not trusted/);
    expect(peer.requests).toHaveLength(0);
  });

  it('no CA given at all: the test CA is not among the host\'s own', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({});
    c.connect(`wss://localhost:${peer.port}/`);
    await expectTlsFailure(c, /not trusted/);
  });

  it('a certificate for another name', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.wrongName);
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${peer.port}/`);
    await expectTlsFailure(c, /name mismatch.*localhost/);
    expect(peer.requests).toHaveLength(0);
  });

  it('serverName that the certificate does not hold', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({ ca: pki.ca, serverName: 'wrong.example' });
    c.connect(`wss://127.0.0.1:${peer.port}/`);
    await expectTlsFailure(c, /name mismatch.*wrong\.example/);
  });

  it('an expired certificate', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.expired);
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${peer.port}/`);
    await expectTlsFailure(c, /expired/);
  });

  it('a server that requires a client certificate: its alert', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server, { requestCert: true, rejectUnauthorized: true, ca: pki.ca });
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${peer.port}/`);
    await expectTlsFailure(c, /alert|closed the connection/);
    expect(peer.requests).toHaveLength(0);
  });

  it('a server that never answers the ClientHello: "TLS handshake timed out" at connectTimeout', async () => {
    const port = await silentServer();
    const c = client({});
    c.connect(`wss://localhost:${port}/`);
    const { elapsed } = await expectTlsFailure(c, /^TLS handshake timed out$/);
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 50);
  });

  it('a server that stalls in the middle of its first flight: "TLS handshake timed out" at connectTimeout', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const proxy = await stallingProxy(peer.port, 100);
    const c = client({ ca: pki.ca });
    c.connect(`wss://localhost:${proxy.port}/`);
    const { elapsed } = await expectTlsFailure(c, /^TLS handshake timed out$/);
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 50);
    expect(proxy.forwarded()).toBe(100); // the server did answer; the client got part of it
    expect(peer.requests).toHaveLength(0);
  });

  it('nothing listens: a TCP failure, close 1006 (not a TLS one)', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const c = client({});
    c.connect(`wss://localhost:${port}/`);
    const closed = await c.closed;
    expect(c.opened).toBe(false);
    expect(closed.code).toBe(1006);
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0].name).not.toBe('TLSError');
  });

  it('a plain ws:// server behind a wss:// URL: the handshake fails, 1015', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    cleanup.add(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const c = client({});
    c.connect(`wss://localhost:${(wss.address() as net.AddressInfo).port}/`);
    await expectTlsFailure(c, /does not speak TLS/);
  });
});

describe('wss:// options', () => {
  it('minVersion TLSv1.3 against a TLS 1.2 server fails with the reason', async () => {
    const pki = testPki();
    const peer = await tlsEchoServer(pki.server);
    const c = client({ ca: pki.ca, minVersion: 'TLSv1.3' });
    c.connect(`wss://localhost:${peer.port}/`);
    // Node: the server's protocol_version alert; the Moddable SDK's TLS speaks 1.2 only.
    await expectTlsFailure(c, onModdable ? /TLS 1\.2 only/ : /alert.*protocol version|version/);
  });

  it('bad options throw from connect(): no TLS socket, a PEM without a certificate, a PKCS#1 key, a key without a certificate', async () => {
    const url = 'wss://localhost:1/';
    expect(await driver.connectError(url, { noSocket: true })).toMatch(/wss:\/\/ needs a TLS socket/);
    expect(await driver.connectError(url, { ca: 'not a certificate' })).toMatch(/tls\.ca: no "-----BEGIN CERTIFICATE-----" block/);
    const pkcs1 = '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n';
    expect(await driver.connectError(url, { certificate: testPki().client.cert, key: pkcs1 })).toMatch(/PKCS#1/);
    expect(await driver.connectError(url, { key: testPki().client.key })).toMatch(/go together/);
    expect(await driver.connectError(url, { minVersion: 'TLSv1.1' as 'TLSv1.2' })).toMatch(/minVersion/);
    expect(await driver.connectError(url, { ca: pemWithBadBase64() })).toMatch(/not valid base64/);
  });
});
