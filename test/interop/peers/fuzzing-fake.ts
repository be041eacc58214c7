// What the client-testee suites share (client-fuzzingserver, -exit and -tls): the case
// protocol of a small fake of the Autobahn fuzzingserver, served on any `ws` server (plain
// or over https): GET /getCaseCount, /runCase?case=N&agent=A (the plan's messages for
// case N, whole or in fragments, each expected back identically; the fake closes 1000
// once all came back), /updateReports?agent=A; and the testee run as a child process,
// exactly as `npm run testee:client` runs it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Cleanup } from './client-probe';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** One message the fake server sends: whole, or cut at the given byte offsets into fragments. */
export interface Outgoing {
  data: string | Buffer;
  fragments?: number[]; // cut points inside the UTF-8 / binary bytes
  pingBefore?: Buffer;
}

export interface CaseRun {
  n: number;
  agent: string;
  sent: Outgoing[];
  received: Array<{ data: Buffer; isBinary: boolean }>;
  closeCode: number | null;
}

/** What the fake saw, filled in as the testee runs. */
export interface FuzzingRecord {
  caseCountRequests: number;
  runs: CaseRun[];
  reportAgents: string[];
  /** Requests outside the protocol and socket errors (must stay empty). */
  unexpected: string[];
}

/** Answer the fuzzingserver's protocol from `plan` on `server`; returns the record it keeps. */
export function serveFuzzingCases(server: WebSocketServer, plan: Outgoing[][]): FuzzingRecord {
  const record: FuzzingRecord = { caseCountRequests: 0, runs: [], reportAgents: [], unexpected: [] };
  server.on('connection', (ws: WebSocket, req) => {
    ws.on('error', (error) => record.unexpected.push(`socket error: ${error.message}`));
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/getCaseCount') {
      record.caseCountRequests++;
      ws.send(String(plan.length));
      ws.close(1000);
      return;
    }
    if (url.pathname === '/updateReports') {
      record.reportAgents.push(url.searchParams.get('agent') ?? '');
      ws.close(1000);
      return;
    }
    if (url.pathname !== '/runCase') {
      record.unexpected.push(`unexpected request ${req.url}`);
      ws.close(1008);
      return;
    }
    const n = Number(url.searchParams.get('case'));
    const sent = plan[n - 1];
    const run: CaseRun = { n, agent: url.searchParams.get('agent') ?? '', sent: sent ?? [], received: [], closeCode: null };
    record.runs.push(run);
    if (!sent) {
      record.unexpected.push(`no case ${n}`);
      ws.close(1008);
      return;
    }
    ws.on('close', (code) => (run.closeCode = code));
    ws.on('message', (data, isBinary) => {
      run.received.push({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary });
      if (run.received.length === sent.length) ws.close(1000);
    });
    for (const message of sent) {
      if (message.pingBefore) ws.ping(message.pingBefore);
      const binary = typeof message.data !== 'string';
      const bytes = typeof message.data === 'string' ? Buffer.from(message.data, 'utf8') : message.data;
      if (!message.fragments) {
        ws.send(message.data);
        continue;
      }
      const cuts = [...message.fragments, bytes.length];
      let at = 0;
      for (const [i, cut] of cuts.entries()) {
        ws.send(bytes.subarray(at, cut), { binary, fin: i === cuts.length - 1 });
        at = cut;
      }
    }
  });
  return record;
}

export interface TesteeExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node scripts/testee.mjs client --url URL ...args` on the sim host, until it exits;
 * killed after `wait` ms (a bound on the wait, never asserted as a speed). `env` is added
 * to this process's environment.
 */
export function runTestee(url: string, args: string[], options: { wait: number; cleanup: Cleanup; env?: NodeJS.ProcessEnv }): Promise<TesteeExit> {
  const child = spawn(process.execPath, ['scripts/testee.mjs', 'client', '--url', url, ...args], {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.cleanup.add(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise<TesteeExit>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the testee did not exit within ${options.wait} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.wait);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
