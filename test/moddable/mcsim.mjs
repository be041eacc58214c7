// Start one app (a debug mc.so) in the Moddable simulator, headless, and stop it by PID.
// Used by test/moddable/run.mjs (the echo app) and by test/app/helpers.ts (the LED app,
// started and stopped by the tests themselves). Each instance gets:
// - its own XDG_CONFIG_HOME: mcsim copies the .so into $XDG_CONFIG_HOME/tech.moddable.mcsim/
//   and dlopens the copy, so two instances sharing it race (one runs the other's app);
// - its own xsbug listener on the first free port of a range: a debug build blocks after
//   login until a debugger answers, and its trace() output goes only there.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXsbugListener } from './xsbug-listener.mjs';

/** Listen on the first free port of [first, last], from a random start (parallel callers). */
async function listenInRange([first, last], onText) {
  const count = last - first + 1;
  const start = Math.floor(Math.random() * count);
  for (let k = 0; k < count; k++) {
    const port = first + ((start + k) % count);
    try {
      const server = await startXsbugListener(port, onText);
      return { server, port };
    } catch (error) {
      if (error.code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error(`no free xsbug port in ${first}-${last}`);
}

/**
 * Run `so` in mcsim on `display`; `onText(text)` gets every trace (a trace may hold
 * several lines or part of one). Resolves once the simulator is started (not the app).
 */
export async function startMcsim({ mcsim, so, display, xsbugPorts, onText }) {
  const { server, port } = await listenInRange(xsbugPorts, onText);
  const connections = new Set();
  server.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const config = mkdtempSync(join(tmpdir(), 'mcsim-'));
  mkdirSync(join(config, 'tech.moddable.mcsim')); // mcsim creates only one level
  const child = spawn(mcsim, [so], {
    env: { ...process.env, DISPLAY: display, XDG_CONFIG_HOME: config, XSBUG_HOST: '127.0.0.1', XSBUG_PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.once('error', () => {});
  let stopping = null;
  return {
    pid: child.pid,
    xsbugPort: port,
    exited,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** SIGTERM by PID (mcsim takes 1-2 s), SIGKILL after 5 s; then the listener and the config copy go. */
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        for (const socket of connections) socket.destroy();
        await new Promise((resolve) => server.close(() => resolve()));
        rmSync(config, { recursive: true, force: true });
      })();
      return stopping;
    },
    /** For process 'exit' handlers: no waiting. */
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(config, { recursive: true, force: true });
    },
  };
}
