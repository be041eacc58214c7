// npm run test:moddable — builds the echo app with the Moddable SDK (mcconfig -d -p lin,
// never -m: its makefile kills every mcsim on the machine), runs it in the real Moddable
// simulator (mcsim, headless under Xvfb when there is no display), and runs the interop
// and probe tests in test/moddable against it. Every process is started and stopped by PID.
// Without $MODDABLE it says so and skips: CI has no SDK.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startXsbugListener } from './xsbug-listener.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODDABLE = process.env.MODDABLE;
if (!MODDABLE || !existsSync(join(MODDABLE, 'build', 'bin', 'lin', 'release', 'mcconfig'))) {
  console.log('test:moddable: SKIPPED: $MODDABLE is not set to a Moddable SDK with its Linux tools built.');
  console.log('  (Build it per its Getting Started guide, then: MODDABLE=/path/to/moddable npm run test:moddable)');
  process.exit(0);
}
const bin = join(MODDABLE, 'build', 'bin', 'lin', 'release');
const env = { ...process.env, PATH: `${process.env.PATH}:${bin}` };
const app = join(root, 'hosts', 'moddable', 'echo');
const started = [];
const stopAll = () => {
  for (const child of started.reverse()) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
};
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', env, ...options });
  if (result.status !== 0) {
    console.error(`test:moddable: ${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
    process.exit(1);
  }
}

console.log('test:moddable: building hosts/moddable/echo with mcconfig -d -p lin');
run(join(bin, 'mcconfig'), ['-d', '-p', 'lin'], { cwd: app });
const tmp = join(MODDABLE, 'build', 'tmp', 'lin', 'mc', 'debug', 'echo');
run('make', ['-C', tmp, '-f', 'makefile', 'build']); // the "build" target only: the default one stops every simulator
const so = join(MODDABLE, 'build', 'bin', 'lin', 'mc', 'debug', 'echo', 'mc.so');

let display = process.env.DISPLAY;
if (!display) {
  display = ':' + (90 + Math.floor(Math.random() * 9));
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '800x600x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  started.push(xvfb);
  await new Promise((r) => setTimeout(r, 1000));
}

const xsbugPort = 5800 + Math.floor(Math.random() * 100);
let traces = '';
const listening = new Promise((resolve) => {
  startXsbugListener(xsbugPort, (text) => {
    process.stdout.write(`[mcsim] ${text}`);
    traces += text;
    if (/listening on port/.test(traces)) resolve();
  });
});
const config = mkdtempSync(join(tmpdir(), 'mcsim-'));
mkdirSync(join(config, 'tech.moddable.mcsim')); // mcsim copies mc.so here: a private copy per run
const mcsim = spawn(join(bin, 'mcsim'), [so], {
  env: { ...env, DISPLAY: display, XDG_CONFIG_HOME: config, XSBUG_HOST: '127.0.0.1', XSBUG_PORT: String(xsbugPort) },
  stdio: 'ignore',
});
started.push(mcsim);
const timeout = setTimeout(() => {
  console.error('test:moddable: the echo app did not start within 30 s');
  process.exit(1);
}, 30000);
await listening;
clearTimeout(timeout);

// Asynchronously: this process must keep reading the debugger socket, or the
// simulated machine blocks on its trace output.
const vitest = spawn('npx', ['vitest', 'run', '--config', 'vitest.moddable.config.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...env, MODDABLE_ECHO_URL: 'ws://127.0.0.1:9101/' },
});
const status = await new Promise((resolve) => vitest.on('exit', (code) => resolve(code ?? 1)));
stopAll();
rmSync(config, { recursive: true, force: true });
process.exit(status);
