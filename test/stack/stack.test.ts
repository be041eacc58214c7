// The JavaScript stack our call chains take inside XS (test/stack/run.mjs over
// test/stack/entry.ts). A device has little: `creation.stack` is 384 slots in Moddable's
// simulator and 512 on the Atom Lite, and an overflow aborts the XS machine (the ESP32
// reboots; in the simulator the app's listeners die). The deepest chains are a socket
// callback that delivers a message whose handler sends (the echo, the LED broadcast).
// Also checks that a write failing inside a handler's send() reports the close later,
// from the timer: run on top of that handler's chain, the close handlers overflowed the
// simulator's stack (found by npm run soak against the Moddable simulator).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let child: ChildProcess | null = null;

afterEach(() => {
  if (child && child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  child = null;
});

/**
 * The budget, in xsnap's slots. xsnap counts a little more than a device would: the fake
 * socket's own frames (about 2 frames, ~25 slots) sit under every callback, where a
 * device's native code calls it on an empty stack. Measured: 485 slots when a failed
 * write still reported the close inside the send; 427 once it came from the timer; 404
 * once the link became its connection's handler and the server's client entry a link.
 */
const BUDGET = 415;

describe('stack depth under XS', () => {
  it('the deepest callback chain stays within budget; a failed write closes from the timer', async () => {
    const proc = spawn(process.execPath, ['test/stack/run.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { passed: number; failures: string[]; slots: number; pad: number; padEmpty: number };
    expect(report.failures).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(30);
    expect(report.pad).toBeLessThan(report.padEmpty); // the measurement saw the chains at all
    expect(report.slots).toBeLessThanOrEqual(BUDGET);
  }, 120_000);
});
