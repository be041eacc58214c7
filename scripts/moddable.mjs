// Shared helpers for the scripts that drive the Moddable SDK's own tools (mcconfig,
// make, mcsim): finding the SDK and ESP-IDF with clear messages, building an app for
// the simulator without mcconfig -m, and running mcsim (headless under Xvfb when
// there is no display) with its trace output on our stdout. Every process started
// here is tracked and stopped by its PID, never by name.
//
// Facts this relies on (Moddable SDK 8.x sources):
// - Host tools live in $MODDABLE/build/bin/<lin|mac|win>/release (Getting Started guide).
// - `mcconfig [manifest] -d -p <platform> -o <dir> key=value...` only writes the makefile
//   and tsconfigs under <dir>/tmp/<platform dirs>/<name>, <name> = the manifest's
//   directory name; `key=value` pairs override the manifest's "config" (mc/config).
// - Never `mcconfig -m` (or make's default "all" target) for lin: with -d the makefile
//   stops every running mcsim and serial2xsbug by name (tools/mcconfig/make.lin.mk). Its
//   "build" target only builds <dir>/bin/lin/mc/debug/<name>/mc.so.
// - mcsim copies the app to $XDG_CONFIG_HOME/tech.moddable.mcsim/mc.so and loads the
//   copy: each run gets its own config directory so parallel simulators do not race.
// - A debug (-d) app sends trace() output only to a connected debugger (XSBUG_HOST,
//   XSBUG_PORT) and waits after login until the debugger answers; the xsbug listener
//   answers and hands us the text.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startXsbugListener } from '../test/moddable/xsbug-listener.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where our scripts put Moddable build output (git-ignored): mcconfig -o. */
export const defaultOutputDir = join(root, 'build', 'moddable');
/** The ESP32 target of this project. */
export const DEVICE = 'esp32/m5atom_lite';

/** The Moddable platform of this computer's simulator: lin, mac or win (null elsewhere). */
export function hostPlatform() {
  return { linux: 'lin', darwin: 'mac', win32: 'win' }[process.platform] ?? null;
}

export class SetupError extends Error {}

/**
 * The Moddable SDK named by $MODDABLE, with its host tools on PATH:
 * { moddable, host, bin, env }. Throws a SetupError that says what is missing.
 */
export function findSdk() {
  const moddable = process.env.MODDABLE;
  const host = hostPlatform();
  const guide = 'Install it per its Getting Started guide (https://github.com/Moddable-OpenSource/moddable/blob/public/documentation/Moddable%20SDK%20-%20Getting%20Started.md) or with `xs-dev setup`, then set MODDABLE to its directory.';
  if (!moddable) throw new SetupError(`MODDABLE is not set: it must name the Moddable SDK's directory. ${guide}`);
  if (!existsSync(join(moddable, 'build', 'devices'))) throw new SetupError(`MODDABLE=${moddable} is not a Moddable SDK directory (no build/devices in it). ${guide}`);
  if (!host) throw new SetupError(`the Moddable SDK's host tools exist for Linux, macOS and Windows only, not ${process.platform}.`);
  const bin = join(moddable, 'build', 'bin', host, 'release');
  const exe = host === 'win' ? '.exe' : '';
  if (!existsSync(join(bin, `mcconfig${exe}`))) {
    throw new SetupError(`the Moddable SDK's host tools are not built: ${join(bin, `mcconfig${exe}`)} is missing. Build them: cd $MODDABLE/build/makefiles/${host} && make (Getting Started guide).`);
  }
  const sep = host === 'win' ? ';' : ':';
  const env = { ...process.env, MODDABLE: moddable, PATH: `${bin}${sep}${process.env.PATH ?? ''}` };
  return { moddable, host, bin, env };
}

/** The path of one of the SDK's host tools (mcconfig, mcsim...). */
export function tool(sdk, name) {
  return join(sdk.bin, sdk.host === 'win' ? `${name}.exe` : name);
}

/** The ESP-IDF version this SDK expects (build/devices/esp32/manifest.json), e.g. "v6.0". */
export function expectedIdfVersion(sdk) {
  try {
    const manifest = JSON.parse(readFileSync(join(sdk.moddable, 'build', 'devices', 'esp32', 'manifest.json'), 'utf8'));
    return manifest.build?.EXPECTED_ESP_IDF ?? null;
  } catch {
    return null;
  }
}

/** Throws a SetupError unless ESP-IDF is installed and named by $IDF_PATH. */
export function checkIdf(sdk) {
  const version = expectedIdfVersion(sdk) ?? 'the version named in $MODDABLE/build/devices/esp32/manifest.json';
  const guide = `Install ESP-IDF ${version} (on a machine with internet: \`xs-dev setup --device esp32\`, or $MODDABLE/documentation/devices/esp32.md), then set IDF_PATH to its directory (or source its export.sh).`;
  const idf = process.env.IDF_PATH;
  if (!idf) throw new SetupError(`ESP-IDF is missing: IDF_PATH is not set. ${guide}`);
  if (!existsSync(join(idf, 'tools', 'idf.py'))) throw new SetupError(`ESP-IDF is missing: IDF_PATH=${idf} has no tools/idf.py. ${guide}`);
}

/** The directory mcconfig names an app after (its manifest's directory). */
export function appName(manifestDir) {
  return basename(manifestDir);
}

/**
 * Runs a command; throws with the command line if it fails. quiet: its output is kept
 * and shown only if it fails (tsc reports type errors on stdout, xsl warnings on stderr).
 */
export function run(command, args, { quiet = false, ...options } = {}) {
  const result = spawnSync(command, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error(`${[command, ...args].join(' ')} failed (${result.status ?? result.signal})`);
  }
}

/** `key=value` arguments for mcconfig from an object (undefined and null left out). */
export function configArgs(config) {
  return Object.entries(config)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${value}`);
}

/** Builds web/dist (the page the LED app serves from its resources). */
export function buildWeb() {
  run(process.execPath, [join(root, 'scripts', 'build-web.mjs')], { quiet: true });
}

/**
 * Builds an app for this computer's simulator without mcconfig -m: mcconfig writes the
 * makefile, then make runs its "build" target only. Returns the paths of the build.
 */
export function buildSimulatorApp(sdk, { manifestDir = root, outputDir = defaultOutputDir, config = {}, quiet = false } = {}) {
  mkdirSync(outputDir, { recursive: true });
  const name = appName(manifestDir);
  const platform = sdk.host;
  run(tool(sdk, 'mcconfig'), [join(manifestDir, 'manifest.json'), '-d', '-p', platform, '-o', outputDir, ...configArgs(config)], {
    cwd: manifestDir,
    env: sdk.env,
    quiet,
  });
  const tmp = join(outputDir, 'tmp', platform, 'mc', 'debug', name);
  const bin = join(outputDir, 'bin', platform, 'mc', 'debug', name);
  if (platform === 'win') run('nmake', ['/nologo', '/f', join(tmp, 'makefile'), 'build'], { cwd: tmp, env: sdk.env, quiet });
  else run('make', ['-C', tmp, '-f', 'makefile', 'build'], { env: sdk.env, quiet });
  const app = join(bin, platform === 'win' ? 'mc.dll' : 'mc.so');
  if (!existsSync(app)) throw new Error(`the build did not produce ${app}`);
  return { name, tmp, bin, app };
}

// ---- processes we start, stopped by PID ------------------------------------------

const started = [];
const cleanups = [];

/** Remembers a child process to stop by PID on exit. */
export function track(child) {
  started.push(child);
  return child;
}

/** Runs fn on exit (after the tracked processes are stopped). */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** Stops every tracked process (SIGTERM to its PID) and runs the clean-ups. */
export function stopAll() {
  for (const child of started.splice(0).reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

let handlersInstalled = false;
/** Stop everything on exit, Ctrl-C and SIGTERM. */
export function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', stopAll);
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  process.on('SIGHUP', () => process.exit(129));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts Xvfb on display :n (the first free one from `from` when n is undefined) and
 * resolves to ":n" once its socket exists. Linux only.
 */
export async function startXvfb({ display, from = 85, to = 99 } = {}) {
  const free = (n) => !existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`);
  let n = display === undefined ? undefined : Number(String(display).replace(/^:/, ''));
  if (n === undefined) {
    for (let i = from; i <= to && n === undefined; i++) if (free(i)) n = i;
    if (n === undefined) throw new Error(`no free X display between :${from} and :${to}`);
  } else if (!free(n)) {
    throw new Error(`X display :${n} is in use (/tmp/.X${n}-lock exists)`);
  }
  const xvfb = track(spawn('Xvfb', [`:${n}`, '-screen', '0', '800x600x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
  const failed = new Promise((_, reject) => {
    xvfb.once('error', (e) => reject(new Error(`Xvfb: ${e.message} (install it: apt-get install xvfb)`)));
    xvfb.once('exit', (code) => reject(new Error(`Xvfb :${n} exited (${code})`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 100 && !existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
  })();
  await Promise.race([ready, failed]);
  return `:${n}`;
}

/**
 * Starts mcsim on a built app with our xsbug listener on 127.0.0.1:xsbugPort (0: any
 * free port). onText gets the app's trace output. Resolves to { child, xsbugPort, exited }.
 */
export async function startSimulator(sdk, { app, display, xsbugPort = 0, onText, xsbug = true }) {
  let port = 5002; // the debugger address the app was built with (mcconfig -x default)
  if (xsbug) {
    const server = await startXsbugListener(xsbugPort, onText);
    onCleanup(() => server.close());
    port = server.address().port;
  }
  const env = { ...sdk.env, XSBUG_HOST: '127.0.0.1', XSBUG_PORT: String(port) };
  if (!xsbug) {
    delete env.XSBUG_HOST; // the real xsbug on localhost:5002
    delete env.XSBUG_PORT;
  }
  let command;
  if (sdk.host === 'lin') {
    const config = mkdtempSync(join(tmpdir(), 'mcsim-'));
    mkdirSync(join(config, 'tech.moddable.mcsim')); // mcsim copies the app here: a private copy per run
    onCleanup(() => rmSync(config, { recursive: true, force: true }));
    env.XDG_CONFIG_HOME = config;
    if (display) env.DISPLAY = display;
    command = tool(sdk, 'mcsim');
  } else if (sdk.host === 'mac') {
    // The executable inside the bundle, so that the process is ours to stop (the SDK's
    // makefile uses `open -a mcsim.app`, whose process is not).
    command = join(sdk.bin, 'mcsim.app', 'Contents', 'MacOS', 'mcsim');
  } else {
    command = tool(sdk, 'mcsim');
  }
  if (!existsSync(command)) throw new SetupError(`the simulator is not built: ${command} is missing (build the host tools).`);
  const child = track(spawn(command, [app], { env, stdio: 'ignore' }));
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', (e) => resolve(e.message));
  });
  return { child, xsbugPort: port, exited };
}
