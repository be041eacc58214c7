// Runs one of the XS runner scripts (test/http/xs/run.mjs, test/stack/run.mjs) in a child
// process, as @agoric/xsnap locks down the process that loads it, and returns the JSON
// report it prints as its last line. The test fails if the script exits non-zero; a
// child still running when the test ends is killed (killRunningChild in afterEach).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let child: ChildProcess | null = null;

export async function runXsReport<Report>(script: string): Promise<Report> {
  const proc = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Report;
}

export function killRunningChild(): void {
  if (child && child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  child = null;
}
