// The echo testee (test/testee/echo-server.ts) as a separate process on the sim host,
// driven by a `ws` client: started through hosts/sim/run.mjs with --port 0 (the
// printed URL carries the real port) and once through `npm run testee:server`.
// Stream mode (the default) echoes 16 MiB messages byte-identical in bounded memory;
// message mode echoes up to --max-message and refuses one byte more with 1009.

import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1 << 20;

interface Testee {
  child: ChildProcessWithoutNullStreams;
  url: string;
  port: number;
  /** The testee's own node process (for /proc/PID/status). */
  pid: number;
  output: () => string;
  /** Kill whatever we spawned, by PID (a process group we created when `group`). */
  kill: () => Promise<void>;
}

const running: Testee[] = [];
const clients: WebSocket[] = [];

async function startTestee(command: string, args: string[], options: { group?: boolean } = {}): Promise<Testee> {
  const child = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], detached: options.group ?? false, env: { ...process.env } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (options.group) process.kill(-child.pid!, 'SIGTERM');
      else child.kill('SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        if (options.group) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
  };
  const testee: Testee = { child, url: '', port: 0, pid: child.pid!, output: () => out, kill };
  running.push(testee);
  const deadline = Date.now() + 30_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /listening on (ws:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the testee did not start: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  testee.url = m[1];
  testee.port = Number(m[2]);
  return testee;
}

function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { maxPayload: 64 * MiB });
  clients.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function echo(ws: WebSocket, data: Buffer | string): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number): void => reject(new Error(`closed with ${code} before the echo`));
    ws.once('close', onClose);
    ws.once('message', (d: Buffer, isBinary: boolean) => {
      ws.off('close', onClose);
      resolve({ data: d, isBinary });
    });
    ws.send(data);
  });
}

function vmRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

/** Sample a process's RSS every few ms while `work` runs; returns the peak. */
async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number; samples: number }> {
  let peak = vmRss(pid);
  let samples = 1;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, vmRss(pid));
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  try {
    const result = await work();
    return { result, peak, samples };
  } finally {
    done = true;
    await sampler;
    peak = Math.max(peak, vmRss(pid));
  }
}

/** 16 MiB of text mixing 1-, 2-, 3- and 4-byte UTF-8 so sequences straddle every chunk boundary. */
function bigText(bytes: number): string {
  const unit = 'ascii é € 😀 ';
  const unitBytes = Buffer.byteLength(unit);
  return unit.repeat(Math.floor(bytes / unitBytes)) + 'x'.repeat(bytes % unitBytes);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

afterEach(() => {
  for (const ws of clients.splice(0)) ws.terminate();
});

afterAll(async () => {
  for (const t of running.splice(0)) await t.kill();
});

describe('echo testee on the sim host (separate process)', () => {
  describe('stream mode (default), --port 0', () => {
    let testee: Testee;

    it('starts and prints its real URL', async () => {
      // V8's young generation grows under allocation pressure by steps of its semi-space
      // (up to 16 MiB each on 64-bit Node), whatever our stack holds: in CI a 48 MiB echo
      // once grew RSS by 9.7 MiB that way. A 1 MiB semi-space takes that noise out of the
      // RSS bound below, which is about what the stack keeps, not what the GC sizes.
      testee = await startTestee(process.execPath, ['--max-semi-space-size=1', 'hosts/sim/run.mjs', 'test/testee/echo-server.ts', '--port', '0']);
      expect(testee.port).toBeGreaterThan(0);
      expect(testee.output()).toMatch(/^echo testee listening on ws:\/\/127\.0\.0\.1:\d+\/ \(stream mode, max message 67108864 bytes\)\n$/);
    });

    it('echoes text and binary', async () => {
      const ws = await connect(testee.url);
      const text = await echo(ws, 'hello, ünïcödé 😀');
      expect(text.isBinary).toBe(false);
      expect(text.data.toString('utf8')).toBe('hello, ünïcödé 😀');
      const bytes = randomBytes(70000);
      const bin = await echo(ws, bytes);
      expect(bin.isBinary).toBe(true);
      expect(bin.data.equals(bytes)).toBe(true);
      const empty = await echo(ws, Buffer.alloc(0));
      expect(empty.data.length).toBe(0);
      const code = await new Promise<number>((resolve) => {
        ws.once('close', (c) => resolve(c));
        ws.close(1000, 'done');
      });
      expect(code).toBe(1000);
    });

    it('echoes a 16 MiB binary and a 16 MiB text message byte-identical, with bounded testee memory', async () => {
      const ws = await connect(testee.url);
      const cold = vmRss(testee.pid);
      // Warm-up. The sim host's Node plumbing allocates garbage per read and per write
      // (socket Buffers, the copy node:net needs), and V8 grows its young generation once
      // under that traffic: a one-time step of some MiB, whatever the message sizes (it
      // shows as much with 64 KiB messages). So the baseline is taken once the heap is at
      // its steady state: 32 MiB of 64 KiB messages, then one 16 MiB message. A stack that
      // held whole messages would still grow with the 16 MiB and 48 MiB echoes below
      // (and a buffer kept from the warm-up message would have to grow for 48 MiB).
      const small = randomBytes(64 * 1024);
      await new Promise<void>((resolve, reject) => {
        let n = 0;
        const onMessage = (d: Buffer): void => {
          if (!d.equals(small)) reject(new Error('bad echo'));
          if (++n === 512) {
            ws.off('message', onMessage);
            resolve();
          }
        };
        ws.on('message', onMessage);
        for (let i = 0; i < 512; i++) ws.send(small);
      });
      const warm = await peakRssDuring(testee.pid, () => echo(ws, randomBytes(16 * MiB)));
      expect(warm.result.data.length).toBe(16 * MiB);
      const baseline = vmRss(testee.pid);

      const binary = randomBytes(16 * MiB);
      const bin = await peakRssDuring(testee.pid, () => echo(ws, binary));
      expect(bin.result.isBinary).toBe(true);
      expect(bin.result.data.length).toBe(binary.length);
      expect(bin.result.data.equals(binary)).toBe(true);

      const text = bigText(16 * MiB);
      const textBytes = Buffer.from(text, 'utf8');
      expect(textBytes.length).toBe(16 * MiB);
      const txt = await peakRssDuring(testee.pid, () => echo(ws, text));
      expect(txt.result.isBinary).toBe(false);
      expect(txt.result.data.equals(textBytes)).toBe(true);

      const huge = randomBytes(48 * MiB);
      const big = await peakRssDuring(testee.pid, () => echo(ws, huge));
      expect(big.result.data.equals(huge)).toBe(true);

      const mib = (n: number): string => (n / MiB).toFixed(1);
      console.log(
        `testee RSS (MiB): cold ${mib(cold)}, peak during the warm-up 16 MiB echo ${mib(warm.peak)}; steady baseline ${mib(baseline)}, ` +
          `peak during 16 MiB binary ${mib(bin.peak)} (${bin.samples} samples), 16 MiB text ${mib(txt.peak)} (${txt.samples}), ` +
          `48 MiB binary ${mib(big.peak)} (${big.samples})`,
      );
      expect(bin.samples).toBeGreaterThanOrEqual(3); // the sampler ran during the echo (2 samples are taken before it starts)
      expect(bin.peak - baseline).toBeLessThan(8 * MiB);
      expect(txt.peak - baseline).toBeLessThan(8 * MiB);
      expect(big.peak - baseline).toBeLessThan(8 * MiB);
      ws.close();
    }, 60_000);

    it('stops on SIGTERM', async () => {
      await testee.kill();
      expect(testee.child.exitCode).toBe(0);
    });
  });

  describe('message mode: --message-mode --max-message 1048576', () => {
    let testee: Testee;

    it('starts', async () => {
      testee = await startTestee(process.execPath, ['hosts/sim/run.mjs', 'test/testee/echo-server.ts', '--port', '0', '--message-mode', '--max-message', String(MiB)]);
      expect(testee.output()).toContain('(message mode, max message 1048576 bytes)');
    });

    it('echoes exactly 1 MiB (binary and text)', async () => {
      const ws = await connect(testee.url);
      const bytes = randomBytes(MiB);
      expect((await echo(ws, bytes)).data.equals(bytes)).toBe(true);
      const text = bigText(MiB);
      const back = await echo(ws, text);
      expect(back.isBinary).toBe(false);
      expect(back.data.toString('utf8')).toBe(text);
    });

    it('refuses 1 MiB + 1 with 1009', async () => {
      const ws = await connect(testee.url);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      ws.on('error', () => {}); // the server may reset the rest of our upload
      ws.on('message', () => expect.fail('nothing may be echoed'));
      ws.send(randomBytes(MiB + 1));
      expect(await closed).toEqual({ code: 1009, reason: 'frame too big' });
    });

    it('refuses a fragmented message growing past 1 MiB with 1009', async () => {
      const ws = await connect(testee.url);
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.on('error', () => {});
      ws.send(randomBytes(MiB / 2), { fin: false, binary: true });
      ws.send(randomBytes(MiB / 2), { fin: false, binary: true });
      ws.send(Buffer.from([1]), { fin: true, binary: true });
      expect(await closed).toBe(1009);
    });

    it('is killed by PID', async () => {
      await testee.kill();
      expect(testee.child.exitCode === 0 || testee.child.signalCode !== null).toBe(true);
    });
  });

  it('npm run testee:server -- --port P works', async () => {
    const port = await freePort();
    const testee = await startTestee('npm', ['run', 'testee:server', '--', '--port', String(port)], { group: true });
    expect(testee.port).toBe(port);
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    expect((await echo(ws, 'via npm')).data.toString()).toBe('via npm');
    ws.close();
    await testee.kill();
  }, 40_000);
});
