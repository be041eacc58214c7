// The client testee (test/testee/fuzzing-client.ts on the sim host, run as a child
// process exactly as `npm run testee:client` runs it) against a small fake of the
// Autobahn fuzzingserver built on `ws`: GET /getCaseCount, /runCase?case=N&agent=A
// (a few messages of different kinds per case, each expected back identically, then
// close 1000), /updateReports?agent=A.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { Cleanup, asciiText, pattern, waitFor } from './peers/client-probe';
import { serveFuzzingCases } from './peers/fuzzing-fake';
import type { FuzzingRecord, Outgoing } from './peers/fuzzing-fake';
import { MODDABLE, waitFor as transferWait } from '../moddable/mode';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1 << 20;

function cases(): Outgoing[][] {
  const euro = '€'.repeat(1000); // 3000 bytes: cuts at 1 and 3001-... fall inside sequences
  return [
    [{ data: 'Hello, testee' }],
    [{ data: pattern(125) }, { data: pattern(126) }, { data: Buffer.alloc(0) }, { data: '' }],
    [{ data: 'fragmented ' + euro, fragments: [1, 12, 13, 14, 2000] }],
    [{ data: pattern(70_000, 5), fragments: [0, 1, 65536, 65537] }],
    [{ data: pattern(MiB, 1) }],
    [{ data: asciiText(MiB - 7) + '€𝄞' }],
    [
      { data: 'mixed 1' },
      { data: pattern(3000), pingBefore: Buffer.from('ping in a case') },
      { data: 'ÅÄÖ 𝄞 — ✓'.repeat(3000), fragments: [2, 5, 9000] },
      { data: pattern(65535, 2) },
      { data: 'last' },
    ],
  ];
}

interface FakeFuzzingServer extends FuzzingRecord {
  server: WebSocketServer;
  url: string;
}

async function fakeFuzzingServer(plan: Outgoing[][]): Promise<FakeFuzzingServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 4 * MiB });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return Object.assign(serveFuzzingCases(server, plan), { server, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}` });
}

interface Testee {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * The testee exactly as `npm run testee:client` runs it: on the sim host, or under
 * npm run test:moddable in the Moddable simulator (--moddable: scripts/testee.mjs builds
 * and runs hosts/moddable/testee; its own progress lines start with "testee:client:").
 */
function spawnTestee(url: string, agent: string): Testee {
  const child = spawn(process.execPath, ['scripts/testee.mjs', 'client', '--url', url, '--agent', agent, ...(MODDABLE ? ['--moddable'] : [])], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const printed = (): string => stdout.split('\n').filter((line) => !line.startsWith('testee:client: ')).join('\n');
  return { child, stdout: printed, stderr: () => stderr, exited };
}

/** Bytes a plan moves each way. */
const planBytes = (plan: Outgoing[][]): number =>
  plan.flat().reduce((sum, m) => sum + (typeof m.data === 'string' ? Buffer.byteLength(m.data) : m.data.length), 0);

// In the simulator, build the testee app first (incremental), so that the tests' waits
// cover the run only.
beforeAll(() => {
  if (!MODDABLE) return;
  const built = spawnSync(process.execPath, ['scripts/testee.mjs', 'client', '--moddable', '--url', 'ws://127.0.0.1:1', '--build-only'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the testee failed:\n${built.stdout}${built.stderr}`);
}, 900_000);

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('client testee against a fake fuzzingserver', () => {
  it('fetches the case count, echoes every message of every case identically, updates the reports, exits 0', async () => {
    const plan = cases();
    const fake = await fakeFuzzingServer(plan);
    cleanup.add(
      () =>
        new Promise<void>((resolve) => {
          for (const client of fake.server.clients) client.terminate();
          fake.server.close(() => resolve());
        }),
    );
    const agent = 'moddable sim/agent ü';
    const testee = spawnTestee(fake.url, agent);
    cleanup.add(() => {
      if (testee.child.exitCode === null && testee.child.signalCode === null) testee.child.kill('SIGKILL');
    });
    const code = await Promise.race([
      testee.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          const runs = fake.runs.map((r) => `case ${r.n}: sent ${r.sent.length} got ${r.received.length} close ${r.closeCode}`);
          reject(new Error(`testee did not exit:\n${testee.stdout()}\n${testee.stderr()}\n${runs.join('\n')}`));
        }, 40_000 + transferWait(planBytes(plan))),
      ),
    ]);
    const output = `stdout:\n${testee.stdout()}\nstderr:\n${testee.stderr()}`;
    expect(code, output).toBe(0);
    expect(fake.unexpected, output).toEqual([]);
    expect(fake.caseCountRequests).toBe(1);

    // Every case was run once, in order, by our agent.
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

    // What the testee printed.
    const lines = testee.stdout().trim().split('\n');
    expect(lines).toEqual([
      `${plan.length} cases`,
      ...plan.map((_, i) => `case ${i + 1}: closed 1000`),
      'reports updated',
    ]);
    expect(testee.stderr()).toBe('');
  }, 50_000 + transferWait(planBytes(cases())));

  it('with zero cases it only asks for the count and exits 1, saying there is nothing to run', async () => {
    const fake = await fakeFuzzingServer([]);
    cleanup.add(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));
    const testee = spawnTestee(fake.url, 'empty');
    cleanup.add(() => {
      if (testee.child.exitCode === null && testee.child.signalCode === null) testee.child.kill('SIGKILL');
    });
    await waitFor(() => testee.child.exitCode !== null, 25_000 + transferWait(0), 'testee exit');
    expect(await testee.exited, testee.stderr()).toBe(1);
    expect(fake.runs).toEqual([]);
    expect(fake.caseCountRequests).toBe(1);
    expect(fake.reportAgents).toEqual([]);
    expect(testee.stdout()).toBe('');
    expect(testee.stderr().trim()).toBe('the fuzzing server has no cases to run (it answered /getCaseCount with "0")');
  });
});
