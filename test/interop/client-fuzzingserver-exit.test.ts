// The client testee's exit status when the fuzzing server misbehaves: run exactly as
// `npm run testee:client` runs it (scripts/testee.mjs client, sim host), against small
// local servers on 127.0.0.1 (ports from the OS) that go silent, answer the case count
// with nonsense, or stop talking in the middle of a case. The testee must then exit
// non-zero with one sentence on stderr that says why, within the bounds it was given
// (--case-timeout, --deadline), instead of printing "0 cases" and exiting 0 or waiting
// forever. The successful run is test/interop/client-fuzzingserver.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { Cleanup } from './peers/client-probe';
import { runTestee as runFuzzingTestee } from './peers/fuzzing-fake';
import type { TesteeExit } from './peers/fuzzing-fake';

/**
 * How long a test waits for the testee to exit: its configured bounds (all small here)
 * plus bundling and starting the sim host. Only a bound on the wait, never asserted as
 * a speed.
 */
const EXIT_WAIT = 20_000;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The testee (agent exit-test) with `args`, until it exits (killed after EXIT_WAIT). */
function runTestee(url: string, args: string[]): Promise<TesteeExit> {
  return runFuzzingTestee(url, ['--agent', 'exit-test', ...args], { wait: EXIT_WAIT, cleanup });
}

/** A TCP server that accepts connections and never sends a byte. */
async function silentTcpServer(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** A port on 127.0.0.1 that nothing listens on (the OS chose it, then we let it go). */
async function closedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `ws://127.0.0.1:${port}`;
}

interface FakeOptions {
  /** What /getCaseCount sends before closing 1000 (null: nothing). */
  count: string | null;
  /** /runCase: complete the handshake, then say nothing (true), or close 1000 at once. */
  silentCases?: boolean;
}

interface Fake {
  url: string;
  requests: string[];
}

/** An Autobahn-style fuzzing server on `ws` whose answers the test chooses. */
async function fakeFuzzingServer(options: FakeOptions): Promise<Fake> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  const fake: Fake = { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests: [] };
  server.on('connection', (ws: WebSocket, req) => {
    ws.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://x');
    fake.requests.push(url.pathname);
    if (url.pathname === '/getCaseCount') {
      if (options.count !== null) ws.send(options.count);
      ws.close(1000);
    } else if (url.pathname === '/runCase') {
      if (!options.silentCases) ws.close(1000);
    } else {
      ws.close(1000);
    }
  });
  return fake;
}

describe('client testee exit status', () => {
  it('exits non-zero, saying so, when the server accepts TCP and never answers (--case-timeout)', async () => {
    const url = await silentTcpServer();
    const exit = await runTestee(url, ['--case-timeout', '500']);
    expect(exit.code, exit.stderr).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr.trim()).toBe('the fuzzing server sent no case count: GET /getCaseCount got no answer within 500 ms (--case-timeout)');
    expect(exit.stdout).not.toMatch(/cases/);
  });

  it('exits non-zero when nothing listens at the URL', async () => {
    const url = await closedPort();
    const exit = await runTestee(url, ['--case-timeout', '5000']);
    expect(exit.code, exit.stderr).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr).toMatch(/^cannot reach the fuzzing server at ws:\/\/127\.0\.0\.1:\d+: .+\n$/);
  });

  it.each([
    ['0', 'the fuzzing server has no cases to run (it answered /getCaseCount with "0")'],
    ['abc', 'the fuzzing server answered /getCaseCount with "abc", not a whole number of cases'],
    ['2.5', 'the fuzzing server answered /getCaseCount with "2.5", not a whole number of cases'],
    ['', 'the fuzzing server answered /getCaseCount with "", not a whole number of cases'],
  ])('exits non-zero when the case count is %j', async (count, sentence) => {
    const fake = await fakeFuzzingServer({ count });
    const exit = await runTestee(fake.url, ['--case-timeout', '5000']);
    expect(exit.code, exit.stderr).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr.trim()).toBe(sentence);
    expect(fake.requests).toEqual(['/getCaseCount']);
  });

  it('exits non-zero when /getCaseCount closes without sending a count', async () => {
    const fake = await fakeFuzzingServer({ count: null });
    const exit = await runTestee(fake.url, ['--case-timeout', '5000']);
    expect(exit.code, exit.stderr).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr.trim()).toBe('the fuzzing server closed /getCaseCount (1000) without sending a case count');
    expect(fake.requests).toEqual(['/getCaseCount']);
  });

  it('exits non-zero after --case-timeout when a case completes the handshake and then says nothing', async () => {
    const fake = await fakeFuzzingServer({ count: '1', silentCases: true });
    const exit = await runTestee(fake.url, ['--case-timeout', '500']);
    expect(exit.code, exit.stderr).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stdout).toContain('case 1: no close within 500 ms (--case-timeout), aborted');
    expect(exit.stderr.trim()).toBe('1 of 1 cases did not run to their close: case 1 got no close within 500 ms (--case-timeout)');
    // The cases that did run still get their reports.
    expect(fake.requests).toEqual(['/getCaseCount', '/runCase', '/updateReports']);
  });

  it('exits non-zero when the whole run exceeds --deadline', async () => {
    const fake = await fakeFuzzingServer({ count: '3', silentCases: true });
    const exit = await runTestee(fake.url, ['--case-timeout', '60000', '--deadline', '1000']);
    expect(exit.code, exit.stderr).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr.trim()).toBe('the run did not finish within its deadline of 1000 ms (--deadline): stopped in case 1 of 3');
  });

  it('refuses a --case-timeout or --deadline that is not a whole number of ms', async () => {
    const fake = await fakeFuzzingServer({ count: '1' });
    for (const args of [['--case-timeout', 'soon'], ['--deadline', '0'], ['--case-timeout', '-5']]) {
      const exit = await runTestee(fake.url, args);
      expect(exit.code, `${args.join(' ')}: ${exit.stderr}`).toBe(2);
      expect(exit.stderr.trim()).toBe(`${args[0]} ${args[1]}: not a whole number of milliseconds from 1 to 2147483647`);
    }
    expect(fake.requests).toEqual([]);
  });

  it('exits 0 when every case ran to its close, also a case the server ended without a close handshake', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())));
    server.on('connection', (ws: WebSocket, req) => {
      ws.on('error', () => {});
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/getCaseCount') ws.send('2');
      // Case 2 drops the TCP connection: the fuzzer judges that, the testee ran it.
      if (url.pathname === '/runCase' && url.searchParams.get('case') === '2') ws.terminate();
      else ws.close(1000);
    });
    const exit = await runTestee(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, ['--case-timeout', '5000', '--deadline', '15000']);
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toBe('2 cases\ncase 1: closed 1000\ncase 2: closed 1006\nreports updated\n');
    expect(exit.stderr).toBe('');
  });
});
