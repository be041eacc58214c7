// hosts/sim/run.mjs: bundles a device app with the simulator's modules and runs it.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('node hosts/sim/run.mjs app.ts [args...]', () => {
  it('runs an app on the simulator: platform installed first, args passed, exits when all is closed', async () => {
    const child = spawn(process.execPath, ['hosts/sim/run.mjs', 'test/sim/fixtures/echo-app.ts', 'hello'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const end = Date.now() + 20_000;
      while (!/listening \d+/.test(stdout)) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no listening line: ${stdout} ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const [, port, installed] = /listening (\d+) (\w+)/.exec(stdout)!;
      expect(installed).toBe('true');
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: Number(port) }, () => socket.write('ping'));
        socket.on('error', reject);
        socket.on('data', (chunk: Buffer) => {
          resolve(chunk.toString());
          socket.end();
        });
      });
      expect(reply).toBe('hello:ping');
      expect(await exited).toBe(0);
      expect(stdout).toBe(`listening ${port} true\nbye\n`);
      expect(stderr).toBe('');
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });
});
