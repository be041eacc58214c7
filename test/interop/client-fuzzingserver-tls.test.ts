// The client testee over TLS: `node scripts/testee.mjs client --url wss://... --ca FILE`
// (sim host, run as a child process exactly as `npm run testee:client` runs it), so a
// conformance fuzzer served over TLS can drive our client. Its peer is a small fake of
// the Autobahn fuzzingserver on `ws` over an https server with the throwaway test
// certificates (scripts/tls-certs.mjs) in the settings the Moddable SDK's TLS
// speaks (SDK_COMPATIBLE), on 127.0.0.1 and a port the OS chose. The run must echo every
// message of every case identically with every connection on TLS; with no CA, or a CA
// that did not sign the server's certificate, it must stop at once with exit 1 and the
// certificate error, never hang or fall back to ws://. The ws:// runs are
// client-fuzzingserver.test.ts and client-fuzzingserver-exit.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import https from 'node:https';
import path from 'node:path';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { Cleanup, asciiText, pattern } from './peers/client-probe';
import { runTestee as runFuzzingTestee, serveFuzzingCases } from './peers/fuzzing-fake';
import type { FuzzingRecord, Outgoing, TesteeExit } from './peers/fuzzing-fake';
import { SDK_COMPATIBLE, testPki } from '../../scripts/tls-certs.mjs';

const MiB = 1 << 20;

/**
 * How long a test waits for the testee to exit: bundling and starting the sim host, a few
 * TLS handshakes and a few MiB echoed. Only a bound on the wait, never asserted as a speed.
 */
const EXIT_WAIT = 30_000;

function cases(): Outgoing[][] {
  return [
    [{ data: 'Hello over TLS' }],
    [{ data: pattern(125) }, { data: pattern(126) }, { data: Buffer.alloc(0) }, { data: '' }],
    // Cuts inside UTF-8 sequences and across the 16 KiB TLS records.
    [{ data: 'fragmented ' + '€'.repeat(10_000), fragments: [1, 12, 13, 14, 16_385, 20_000] }],
    [{ data: pattern(70_000, 5), fragments: [0, 1, 65536, 65537] }],
    [{ data: pattern(MiB, 1) }, { data: asciiText(MiB - 7) + '€𝄞' }],
  ];
}

interface Connection {
  path: string;
  /** The TLS version and cipher the connection runs over (null: not TLS). */
  tls: { protocol: string | null; cipher: string } | null;
}

interface FakeFuzzingServer extends FuzzingRecord {
  url: string;
  /** Every WebSocket connection, in order: its path and TLS. */
  connections: Connection[];
  /** TLS handshakes the server completed. */
  handshakes: number;
  /** HTTP requests the server received, upgrades or not. */
  requests: number;
  /** TLS errors the server saw (the client refusing the certificate ends the handshake). */
  tlsErrors: string[];
}

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The fake fuzzing server over TLS, with the test server certificate (localhost, 127.0.0.1). */
async function fakeFuzzingServer(plan: Outgoing[][]): Promise<FakeFuzzingServer> {
  const httpsServer = https.createServer({ ...testPki().server, ...SDK_COMPATIBLE });
  await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', () => resolve()));
  const server = new WebSocketServer({ server: httpsServer, maxPayload: 4 * MiB });
  const sockets = new Set<net.Socket>();
  httpsServer.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        for (const socket of sockets) socket.destroy();
        server.close(() => httpsServer.close(() => resolve()));
      }),
  );
  const fake: FakeFuzzingServer = Object.assign(serveFuzzingCases(server, plan), {
    url: `wss://localhost:${(httpsServer.address() as net.AddressInfo).port}`,
    connections: [],
    handshakes: 0,
    requests: 0,
    tlsErrors: [],
  });
  httpsServer.on('secureConnection', () => fake.handshakes++);
  httpsServer.on('upgrade', () => fake.requests++);
  httpsServer.on('request', () => fake.requests++);
  httpsServer.on('tlsClientError', (error: Error) => fake.tlsErrors.push(error.message));
  server.on('connection', (_ws, req) => {
    const socket = req.socket as TLSSocket;
    fake.connections.push({
      path: (req.url ?? '/').split('?')[0],
      tls: socket.encrypted ? { protocol: socket.getProtocol(), cipher: socket.getCipher().name } : null,
    });
  });
  return fake;
}

/** The testee with `args` (and `env`), until it exits (killed after EXIT_WAIT). */
function runTestee(url: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TesteeExit> {
  return runFuzzingTestee(url, args, { wait: EXIT_WAIT, cleanup, env });
}

describe('client testee over TLS (wss://, --ca)', () => {
  it('with --ca the test CA: runs every case over TLS 1.2, echoes every message identically, updates the reports, exits 0', async () => {
    const plan = cases();
    const fake = await fakeFuzzingServer(plan);
    const agent = 'tls agent ü';
    const exit = await runTestee(fake.url, ['--ca', testPki().files.ca, '--agent', agent, '--case-timeout', '15000']);
    const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
    expect(exit.code, output).toBe(0);
    expect(fake.unexpected, output).toEqual([]);
    expect(fake.tlsErrors).toEqual([]);

    // Every step was its own WebSocket connection, each on a TLS handshake the server
    // completed, in the one version and cipher it offers (what the SDK speaks).
    expect(fake.connections.map((c) => c.path)).toEqual(['/getCaseCount', ...plan.map(() => '/runCase'), '/updateReports']);
    expect(fake.handshakes).toBe(fake.connections.length);
    expect(fake.requests).toBe(fake.connections.length);
    for (const connection of fake.connections) {
      expect(connection.tls, connection.path).toEqual({ protocol: SDK_COMPATIBLE.maxVersion, cipher: SDK_COMPATIBLE.ciphers });
    }

    // Every case was run once, in order, by our agent, and every message came back identically.
    expect(fake.runs.map((r) => r.n)).toEqual(plan.map((_, i) => i + 1));
    for (const run of fake.runs) {
      expect(run.agent).toBe(agent);
      expect(run.closeCode, `case ${run.n}`).toBe(1000);
      expect(run.received.length, `case ${run.n}`).toBe(run.sent.length);
      for (const [i, sent] of run.sent.entries()) {
        const got = run.received[i];
        const isText = typeof sent.data === 'string';
        expect(got.isBinary, `case ${run.n} message ${i}`).toBe(!isText);
        const expected = isText ? Buffer.from(sent.data as string, 'utf8') : (sent.data as Buffer);
        expect(got.data.length, `case ${run.n} message ${i}`).toBe(expected.length);
        expect(got.data.equals(expected), `case ${run.n} message ${i}`).toBe(true);
      }
    }
    expect(fake.reportAgents).toEqual([agent]);
    expect(exit.stdout.trim().split('\n')).toEqual([`${plan.length} cases`, ...plan.map((_, i) => `case ${i + 1}: closed 1000`), 'reports updated']);
    expect(exit.stderr).toBe('');
  });

  it('without --ca it trusts what the host trusts: Node\'s CA list, here with the test CA added by NODE_EXTRA_CA_CERTS', async () => {
    const plan = [[{ data: 'trusted by default' }, { data: pattern(20_000, 2) }]];
    const fake = await fakeFuzzingServer(plan);
    const exit = await runTestee(fake.url, ['--agent', 'default-trust', '--case-timeout', '10000'], { NODE_EXTRA_CA_CERTS: testPki().files.ca });
    expect(exit.code, `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`).toBe(0);
    expect(exit.stdout).toBe('1 cases\ncase 1: closed 1000\nreports updated\n');
    expect(fake.connections.map((c) => c.tls)).toEqual(Array(3).fill({ protocol: SDK_COMPATIBLE.maxVersion, cipher: SDK_COMPATIBLE.ciphers }));
    expect(fake.runs[0].received.map((m) => m.data.length)).toEqual([18, 20_000]);
  });

  // The test CA is in no system list: without --ca the host's default trust (Node's CA
  // list) must refuse it; with --ca another CA, that CA did not sign it.
  for (const [name, args] of [
    ['without --ca (the host default trust)', () => []],
    ['with --ca a CA that did not sign the certificate', () => ['--ca', path.join(testPki().folder, 'unknown-ca.pem')]],
  ] as const) {
    it(`${name}: exits 1 at /getCaseCount with the certificate error, runs no case`, async () => {
      const fake = await fakeFuzzingServer([[{ data: 'never sent' }]]);
      const exit = await runTestee(fake.url, [...args(), '--agent', 'untrusted', '--case-timeout', '10000']);
      expect(exit.code, exit.stderr).toBe(1);
      expect(exit.stderr).toMatch(
        /^cannot reach the fuzzing server at wss:\/\/localhost:\d+: TLS handshake failed: certificate not trusted: no trusted CA signed it \([A-Z_]+\)\n$/,
      );
      expect(exit.stdout).toBe('');
      // Not one byte of HTTP got through: the client checks the certificate when the
      // handshake ends and closes instead of sending its upgrade request (Node's server
      // may still count the TLS 1.2 handshake as completed: its Finished goes out first).
      expect(fake.requests).toBe(0);
      expect(fake.connections).toEqual([]);
    });
  }

  it('refuses --ca with a ws:// URL, a --ca file that cannot be read or holds no certificate, and --moddable with wss:// (exit 2, before connecting)', async () => {
    const fake = await fakeFuzzingServer([[{ data: 'never sent' }]]);
    const ws = fake.url.replace(/^wss:/, 'ws:');
    const missing = path.join(testPki().folder, 'no-such-ca.pem');
    const key = testPki().files.serverKey;
    const refusals: Array<[string, string[], RegExp]> = [
      [ws, ['--ca', testPki().files.ca], /^--ca \S+: only for a wss:\/\/ URL \(the URL is ws:\/\/localhost:\d+\)\n$/],
      [fake.url, ['--ca', missing], /^--ca \S+no-such-ca\.pem: cannot read it \(ENOENT\)\n$/],
      [fake.url, ['--ca', key], /^--ca \S+: no "-----BEGIN CERTIFICATE-----" block \(a PEM file of CA certificates is expected\)\n$/],
      [fake.url, ['--moddable'], /^testee:client: --moddable runs the client over ws:\/\/ only .*without --moddable\n$/],
      [ws, ['--moddable', '--ca', testPki().files.ca], /^testee:client: --moddable runs the client over ws:\/\/ only /],
    ];
    for (const [url, args, stderr] of refusals) {
      const exit = await runTestee(url, args);
      expect(exit.code, `${args.join(' ')}: ${exit.stderr}`).toBe(2);
      expect(exit.stderr, args.join(' ')).toMatch(stderr);
      expect(exit.stdout, args.join(' ')).toBe('');
    }
    expect(fake.handshakes).toBe(0);
    expect(fake.requests).toBe(0);
  });
});
