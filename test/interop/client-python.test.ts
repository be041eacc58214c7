// Our WebSocketClient (sim host) against Python websockets 10.x (asyncio), run by
// /usr/bin/python3 from test/interop/peers/client_py_server.py: echo with a raised
// max_size, messages the server fragments through (async) iterators, server pings and
// keep-alive, and closes with specific codes in both directions. The message, size and
// fragmentation suites run twice: over ws:// and over wss:// (the sim host's TLS socket
// against Python's ssl module, with the test CA of test/interop/peers/tls-certs.ts and
// only the TLS the Moddable SDK speaks), so Python's TLS record framing, which cuts the
// stream where it likes, meets the same assertions as plain TCP.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installSimPlatform } from '../../hosts/sim/platform';
import type { ClientOptions } from '../../src/net/client';
import { ClientProbe, Cleanup, asciiText, pattern, waitFor } from './peers/client-probe';
import { clientOptions, overTransports, secure } from './peers/transports';
import { SDK_COMPATIBLE, testPki } from '../../scripts/tls-certs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.join(here, 'peers', 'client_py_server.py');
const MiB = 1 << 20;

interface PyEvent {
  event: string;
  path?: string;
  code?: number | null;
  reason?: string;
  text?: boolean;
  size?: number;
  main?: number;
  keepalive?: number;
  /** "ports": the wss:// port. "open": [TLS version, cipher] of the connection, or null over TCP. */
  tls?: number | [string, string] | null;
}

let py: ChildProcessWithoutNullStreams | null = null;
const pyEvents: PyEvent[] = [];
let pyStderr = '';
let base = '';
let keepaliveBase = '';
/** The Python server's wss:// listener (the test certificate names localhost and 127.0.0.1). */
let tlsBase = '';

beforeAll(async () => {
  installSimPlatform();
  const pki = testPki();
  const child = spawn('/usr/bin/python3', [SCRIPT, '--tls', pki.files.serverCert, pki.files.serverKey], { stdio: ['pipe', 'pipe', 'pipe'] });
  py = child;
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    buffered += text;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) pyEvents.push(JSON.parse(line) as PyEvent);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (pyStderr += text));
  await waitFor(() => pyEvents.some((e) => e.event === 'ports') || child.exitCode !== null, 15_000, 'python server ports');
  const ports = pyEvents.find((e) => e.event === 'ports');
  if (!ports) throw new Error(`python server did not start: ${pyStderr}`);
  base = `ws://127.0.0.1:${ports.main}`;
  keepaliveBase = `ws://127.0.0.1:${ports.keepalive}`;
  tlsBase = `wss://localhost:${ports.tls as number}`;
});

afterAll(async () => {
  const child = py;
  py = null;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.end(); // the script exits on stdin EOF...
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000); // ...or, failing that, by its PID
  child.kill('SIGTERM');
  await exited;
  clearTimeout(timer);
});

const cleanup = new Cleanup();
afterEach(async () => {
  await cleanup.run();
  // Nothing the server logged should be a traceback.
  expect(pyStderr).not.toMatch(/Traceback/);
});

/** The main server's URL for `route`: its ws:// port, or its wss:// one in a wss:// suite. */
function url(route: string): string {
  return (secure ? tlsBase : base) + route;
}

function probe(options: ClientOptions = {}): ClientProbe {
  const p = new ClientProbe(clientOptions(options));
  cleanup.add(() => p.dispose());
  return p;
}

let connectionId = 0;
/** A route made unique with ?id=N, so the server's events for this connection can be told apart. */
function unique(route: string): string {
  return `${route}?id=${++connectionId}`;
}

/** The server's "closed" event for the connection to `route` (a unique() path). */
async function serverClosed(route: string): Promise<PyEvent> {
  const find = (): PyEvent | undefined => pyEvents.find((e) => e.event === 'closed' && e.path === route);
  await waitFor(() => find() !== undefined, 10_000, `python close event for ${route}`);
  return find()!;
}

/** The server's "message" events for the connection to `route`. */
function serverMessages(route: string): PyEvent[] {
  return pyEvents.filter((e) => e.event === 'message' && e.path === route);
}

/**
 * Python saw the connection to `route` (a unique() path) arrive over the transport of the
 * suite: plain TCP, or TLS 1.2 with the one cipher it offers (what the SDK speaks).
 */
async function expectTransport(route: string): Promise<void> {
  const find = (): PyEvent | undefined => pyEvents.find((e) => e.event === 'open' && e.path === route);
  await waitFor(() => find() !== undefined, 10_000, `python open event for ${route}`);
  expect(find()!.tls).toEqual(secure ? [SDK_COMPATIBLE.maxVersion, SDK_COMPATIBLE.ciphers] : null);
}

overTransports('our client ↔ Python websockets server: messages, sizes, fragments', () => {
  it('echo: text and binary of 0, 125, 126, 65535, 65536 and 1 MiB bytes, and multibyte text', async () => {
    const route = unique('/echo');
    const p = probe({ maxMessageSize: 2 * MiB, sendQueueSize: 2 * MiB }).connect(url(route));
    await p.opened;
    await expectTransport(route);
    const sent: Array<string | Buffer> = [];
    for (const [i, size] of [0, 125, 126, 65535, 65536, MiB].entries()) {
      sent.push(asciiText(size, i), pattern(size, i));
    }
    sent.push('héllo wörld — ✓ 日本語 🎉', 'ÅÄÖ€𝄞'.repeat(20000));
    for (const [i, message] of sent.entries()) {
      expect(p.client.send(message)).toBe(true);
      const m = await p.message(i);
      expect(m.isText).toBe(typeof message === 'string');
      if (typeof message === 'string') expect(m.data === message).toBe(true);
      else expect((m.data as Buffer).equals(message)).toBe(true);
    }
    expect(serverMessages(route).map((e) => [e.text, e.size])).toEqual(
      sent.map((m) => [typeof m === 'string', typeof m === 'string' ? Buffer.byteLength(m) : m.length]),
    );
    p.client.close(4001, 'client says bye — ✓');
    expect(await p.closed).toMatchObject({ code: 4001, reason: 'client says bye — ✓', wasClean: true });
    expect(await serverClosed(route)).toMatchObject({ code: 4001, reason: 'client says bye — ✓' });
  });

  it('the client fragments (maxFragmentSize): Python reassembles and echoes whole messages', async () => {
    const route = unique('/echo');
    const p = probe({ maxMessageSize: 2 * MiB, sendQueueSize: 2 * MiB, maxFragmentSize: 777 }).connect(url(route));
    await p.opened;
    await expectTransport(route);
    const text = '€𝄞é'.repeat(10000);
    const bytes = pattern(MiB, 9);
    expect(p.client.sendText(text)).toBe(true);
    expect(p.client.sendBinary(bytes)).toBe(true);
    expect((await p.message(0)).data === text).toBe(true);
    expect(((await p.message(1)).data as Buffer).equals(bytes)).toBe(true);
    p.client.close();
    expect((await p.closed).code).toBe(1000);
  });

  it('messages Python fragments with async and sync iterators are reassembled', async () => {
    const route = unique('/fragments');
    const p = probe({ maxMessageSize: 2 * MiB }).connect(url(route));
    await p.opened;
    await expectTransport(route);
    await p.message(3);
    expect(p.messages[0]).toEqual({ data: 'Hello wörld €𝄞', isText: true });
    expect(p.messages[1].isText).toBe(false);
    expect((p.messages[1].data as Buffer).equals(pattern(MiB, 3))).toBe(true);
    expect(p.messages[2].isText).toBe(false);
    expect((p.messages[2].data as Buffer).toString()).toBe('abc');
    expect(p.messages[3]).toEqual({ data: 'only one fragment', isText: true });
    // The connection is still healthy afterwards.
    expect(p.client.sendText('after')).toBe(true);
    expect((await p.message(4)).data).toBe('after');
    p.client.close(1000, 'ok');
    expect(await p.closed).toMatchObject({ code: 1000, reason: 'ok', wasClean: true });
  });

  it('stream mode: fragmented messages arrive as chunks with correct first/last flags', async () => {
    const route = unique('/fragments');
    const p = probe({ receiveMode: 'stream', chunkSize: 1000 }).connect(url(route));
    await p.opened;
    await expectTransport(route);
    await p.until(() => p.chunks.filter((c) => c.last).length === 4, 10_000, 'four streamed messages');
    const messages: Array<typeof p.chunks> = [];
    for (const c of p.chunks) {
      if (c.first) messages.push([]);
      messages[messages.length - 1].push(c);
    }
    expect(messages.length).toBe(4);
    for (const m of messages) {
      expect(m.filter((c) => c.first).length).toBe(1);
      expect(m.filter((c) => c.last).length).toBe(1);
      expect(m[m.length - 1].last).toBe(true);
      expect(m.every((c) => c.data.length <= 1000)).toBe(true);
    }
    const whole = (m: typeof p.chunks): Buffer => Buffer.concat(m.map((c) => c.data));
    expect(whole(messages[0]).toString('utf8')).toBe('Hello wörld €𝄞');
    expect(messages[0].every((c) => c.isText)).toBe(true);
    expect(whole(messages[1]).equals(pattern(MiB, 3))).toBe(true);
    expect(messages[1].every((c) => !c.isText)).toBe(true);
    expect(whole(messages[2]).toString()).toBe('abc');
    expect(whole(messages[3]).toString()).toBe('only one fragment');
  });

  it('a message over the client maxMessageSize: the client closes 1009 and Python sees 1009', async () => {
    const route = unique('/big/5000');
    const p = probe({ maxMessageSize: 4096 }).connect(url(route));
    const info = await p.closed;
    await expectTransport(route);
    expect(info).toMatchObject({ code: 1009, wasClean: false });
    expect(p.messages).toEqual([]);
    expect((await serverClosed(route)).code).toBe(1009);
  });

  it('a message of exactly maxMessageSize is delivered', async () => {
    const route = unique('/big/5000');
    const p = probe({ maxMessageSize: 5000 }).connect(url(route));
    const m = await p.message(0);
    await expectTransport(route);
    expect((m.data as Buffer).equals(pattern(5000))).toBe(true);
    p.client.close();
    await p.closed;
  });

  it('the client default send budget refuses a 1 MiB message; Python receives nothing of it', async () => {
    const route = unique('/echo');
    const p = probe({ maxMessageSize: 2 * MiB }).connect(url(route));
    await p.opened;
    await expectTransport(route);
    expect(p.client.sendBinary(pattern(MiB))).toBe(false);
    expect(p.client.sendText('small')).toBe(true);
    expect((await p.message(0)).data).toBe('small');
    expect(serverMessages(route).map((e) => e.size)).toEqual([5]);
  });
});

describe('our client ↔ Python websockets server: pings, keep-alive, closes', () => {
  it('Python pings the client: the pongs carry the same payload (websockets checks it)', async () => {
    const p = probe().connect(`${base}/ping`);
    await p.opened;
    expect((await p.message(0)).data).toBe(`pong ${Buffer.from('py-ping').toString('hex')}`);
    expect((await p.message(1)).data).toBe('pong random');
    expect(p.client.state).toBe('open');
  });

  it('the client pings Python: the client reports the pong with its payload', async () => {
    const p = probe().connect(`${base}/echo`);
    await p.opened;
    expect(p.client.ping(Buffer.from('from-client'))).toBe(true);
    await p.until(() => p.pongs.length === 1, 5000, 'pong');
    expect(p.pongs[0].toString()).toBe('from-client');
  });

  it('Python keep-alive pings (every 0.2 s, 0.5 s timeout) are answered: the connection stays open', async () => {
    const p = probe({ keepAliveInterval: 0 }).connect(`${keepaliveBase}/echo`);
    await p.opened;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(p.client.state).toBe('open');
    expect(p.client.sendText('still here')).toBe(true);
    expect((await p.message(0)).data).toBe('still here');
  });

  it('our keep-alive against Python: pings answered, no spurious timeout', async () => {
    const K = 100;
    const T = 1000;
    const p = probe({ keepAliveInterval: K, serverTimeout: T }).connect(`${base}/echo`);
    await p.opened;
    // The client pings again only after Python's bytes (the pong) re-armed it; the 12th pong
    // comes no sooner than 12 x K after open, past K + T: a timeout that ignored the pongs
    // would have closed the connection by then.
    await p.until(() => p.pongs.length >= 12 || p.client.state !== 'open', 20_000, 'twelve pongs');
    expect(p.client.state).toBe('open');
    expect(p.pongs.length).toBeGreaterThanOrEqual(12);
  });

  for (const [code, reason] of [
    [1000, ''],
    [1001, 'going away'],
    [1008, 'policy'],
    [1011, 'internal error'],
    [3000, 'registered'],
    [4000, 'custom — ünïcødé ✓'],
  ] as const) {
    it(`Python closes with ${code}${reason ? ` "${reason}"` : ''}: the client reports it cleanly and echoes the code`, async () => {
      const route = unique(`/close/${code}${reason ? '/' + encodeURIComponent(reason) : ''}`);
      const p = probe().connect(base + route);
      await p.opened;
      const info = await p.closed;
      expect(info).toMatchObject({ code, reason, wasClean: true, state: 'closed' });
      expect(p.errors).toEqual([]);
      // websockets records the code of the close frame it received: our echo.
      expect((await serverClosed(route)).code).toBe(code);
    });
  }

  it('Python sends a close frame with no status code: the client reports 1005 and answers with an empty close', async () => {
    const route = unique('/close-empty');
    const p = probe().connect(base + route);
    const info = await p.closed;
    expect(info).toMatchObject({ code: 1005, reason: '', wasClean: true });
    expect((await serverClosed(route)).code).toBe(1005);
  });

  for (const [code, reason] of [
    [1000, 'normal'],
    [1001, ''],
    [4999, 'x'.repeat(123)],
  ] as const) {
    it(`the client closes with ${code}: Python receives the code and reason`, async () => {
      const route = unique('/echo');
      const p = probe().connect(base + route);
      await p.opened;
      p.client.close(code, reason);
      expect(await p.closed).toMatchObject({ code, reason, wasClean: true });
      expect(await serverClosed(route)).toMatchObject({ code, reason });
    });
  }

  it('an unknown route: Python closes 4404 with its reason', async () => {
    const p = probe().connect(base + unique('/nowhere'));
    expect(await p.closed).toMatchObject({ code: 4404, reason: 'no such route', wasClean: true });
  });
});
