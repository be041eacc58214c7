// The one module that builds, starts and stops Moddable apps for this project's scripts,
// tests, examples and benchmarks: finding the SDK, ESP-IDF and our npm packages with
// clear messages; mcconfig (never -m for a simulator) into our own output folders; Xvfb;
// mcsim with its trace output read through our xsbug listener; free ports for the apps.
// Every process started here is tracked and stopped by its PID, never by name.
//
// Facts this relies on (Moddable SDK 8.x sources):
// - Host tools live in $MODDABLE/build/bin/<lin|mac|win>/release (Getting Started guide).
// - `mcconfig [manifest] -d -p <platform> -o <dir> key=value...` writes the makefile and
//   tsconfigs under <dir>/tmp/<platform dirs>/<debug|release|instrument>/<name>, <name> = the
//   manifest's directory name; `key=value` pairs override the manifest's "config"
//   (mc/config). Without -o it writes into $MODDABLE/build; mcconfig stops with
//   "directory not found" when the -o folder does not exist.
// - Never `mcconfig -m` (or make's default "all" target) for lin: with -d the makefile
//   stops every running simulator and serial-to-debugger bridge by name
//   (tools/mcconfig/make.lin.mk). Its "build" target only builds mc.so.
// - mcsim copies the app to $XDG_CONFIG_HOME/tech.moddable.mcsim/mc.so and loads the
//   copy: each run gets its own config directory so parallel simulators do not race.
// - A debug (-d) app sends trace() output only to a connected debugger (XSBUG_HOST,
//   XSBUG_PORT) and waits after login until the debugger answers; the xsbug listener
//   answers and hands us the text.
// - The simulator's Listener binds every interface, so a free port is one that binds on
//   0.0.0.0.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startXsbugListener } from './xsbug-listener.mjs';

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

/** Throws a SetupError unless `npm ci` has run here (mcconfig compiles our .ts with its tsc). */
export function checkNpmPackages() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    throw new SetupError(`the project's npm packages are not installed (${relative(process.cwd(), tsc) || tsc} is missing): run \`npm ci\` in ${root} first.`);
  }
}

/**
 * The Moddable SDK named by $MODDABLE, with its host tools on PATH:
 * { moddable, host, bin, env }. Throws a SetupError that says what is missing (also when
 * `npm ci` has not run here, unless npm is false).
 */
export function findSdk({ npm = true } = {}) {
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
  if (npm) checkNpmPackages();
  const pathSep = host === 'win' ? ';' : ':';
  const env = { ...process.env, MODDABLE: moddable, PATH: `${bin}${pathSep}${process.env.PATH ?? ''}` };
  return { moddable: resolve(moddable), host, bin, env };
}

/**
 * findSdk() for runners that skip without the SDK: the SDK, or null after printing
 * "<tag>: SKIPPED: <why>" when $MODDABLE is not set. Any other set-up problem (a wrong
 * MODDABLE, tools not built, no `npm ci`) is printed as one sentence and exits 1.
 */
export function findSdkOrSkip(tag) {
  try {
    return findSdk();
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    if (!process.env.MODDABLE) {
      console.log(`${tag}: SKIPPED: ${error.message}`);
      return null;
    }
    console.error(`${tag}: ${error.message}`);
    process.exit(1);
  }
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
  return basename(resolve(manifestDir));
}

/** Config keys whose values are secrets: never printed. */
const SECRET_KEYS = /^(password|setupPassword|token)=/;

/** A command line for logs, with `password=...`, `setupPassword=...` and `token=...` values masked. */
export function shownCommand(command, args = []) {
  return [command, ...args].map((a) => (SECRET_KEYS.test(a) ? a.replace(/=.*/s, '=***') : a)).join(' ');
}

/**
 * Runs a command; throws with the (masked) command line if it fails. quiet: its output
 * is kept and shown only if it fails (tsc reports type errors on stdout, xsl warnings on
 * stderr). log: a file that gets the output as well.
 */
export function run(command, args, { quiet = false, log, ...options } = {}) {
  const capture = quiet || log;
  const result = spawnSync(command, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${basename(command)}: ${result.error.message}`);
  const output = capture ? `${result.stdout ?? ''}${result.stderr ?? ''}` : '';
  if (log) {
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, output);
  }
  if (capture && !quiet) process.stdout.write(output);
  if (result.status !== 0) {
    if (quiet) process.stderr.write(output.split('\n').slice(-60).join('\n'));
    throw new Error(`${shownCommand(command, args)} failed (${result.status ?? result.signal})${log ? `; log: ${log}` : ''}`);
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

/** The folders mcconfig uses under -o for a platform ('lin' or 'esp32/m5atom_lite'). */
function platformDirs(platform) {
  return platform.includes('/') ? platform.split('/') : [platform, 'mc'];
}

/**
 * Where mcconfig puts an app's makefile (tmp) and its binaries (bin) under outputDir.
 * `name` is appName(manifestDir): never a fixed name, so any clone's folder works.
 * release: mcconfig without -d; with instrument, -i (an instrumented release build).
 */
export function buildPaths({ outputDir, platform, manifestDir, release = false, instrument = false }) {
  const name = appName(manifestDir);
  const kind = release ? (instrument ? 'instrument' : 'release') : 'debug';
  const dirs = platformDirs(platform);
  return { name, tmp: join(outputDir, 'tmp', ...dirs, kind, name), bin: join(outputDir, 'bin', ...dirs, kind, name) };
}

/**
 * mcconfig for one manifest into outputDir (created first; never inside $MODDABLE):
 * without `make`, it only writes the makefile; `make` is mcconfig's own -m/-t flags (for
 * the device only). Secrets in `config` never reach a log line: `announce` gets the
 * command line with them masked.
 */
export function mcconfig(sdk, { manifestDir = root, platform, outputDir = defaultOutputDir, release = false, instrument = false, debugFlag = '-d', typecheck = false, config = {}, make = [], env = sdk.env, quiet = false, log, announce } = {}) {
  const out = resolve(outputDir);
  const inside = relative(sdk.moddable, out);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new SetupError(`output folder ${out} is inside $MODDABLE: our builds never write into the SDK; choose another --output.`);
  }
  mkdirSync(out, { recursive: true });
  const kind = release ? (instrument ? ['-i'] : []) : [debugFlag];
  const args = [join(manifestDir, 'manifest.json'), ...make, ...kind, ...(typecheck ? ['-tc'] : []), '-p', platform, '-o', out, ...configArgs(config)];
  announce?.(shownCommand('mcconfig', args));
  run(tool(sdk, 'mcconfig'), args, { cwd: manifestDir, env, quiet, log });
  return { ...buildPaths({ outputDir: out, platform, manifestDir, release, instrument }), args };
}

/**
 * Builds an app for this computer's simulator without mcconfig -m: mcconfig writes the
 * makefile, then make runs its "build" target only. Returns the paths of the build.
 * typecheck: mcconfig -tc (JavaScript apps checked against their typings). release: no
 * -d (optimized C, no debugger: trace() goes to mcsim's stdout; start it with
 * startSimulator's `console`); with instrument, -i: a release build whose XS heap
 * counters the `instrumentation` module reads (in its own folder). env: variables the
 * manifest names as $(NAME) (e.g. a resource's path), added to the SDK's.
 */
export function buildSimulatorApp(sdk, { manifestDir = root, outputDir = defaultOutputDir, config = {}, quiet = false, typecheck = false, release = false, instrument = false, log, env = {} } = {}) {
  const platform = sdk.host;
  const paths = mcconfig(sdk, { manifestDir, platform, outputDir, config, quiet, typecheck, release, instrument, env: { ...sdk.env, ...env }, log: log && `${log}-mcconfig.log` });
  const makeLog = log && `${log}-make.log`;
  if (platform === 'win') run('nmake', ['/nologo', '/f', join(paths.tmp, 'makefile'), 'build'], { cwd: paths.tmp, env: sdk.env, quiet, log: makeLog });
  else run('make', ['-C', paths.tmp, '-f', 'makefile', 'build'], { env: sdk.env, quiet, log: makeLog });
  const app = join(paths.bin, platform === 'win' ? 'mc.dll' : 'mc.so');
  if (!existsSync(app)) throw new Error(`the build did not produce ${app}`);
  return { ...paths, app };
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

const running = (child) => child.exitCode === null && child.signalCode === null;

/** Stops every tracked process (SIGTERM to its PID) and runs the clean-ups. */
export function stopAll() {
  for (const child of started.splice(0).reverse()) {
    if (running(child)) {
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
 * Starts Xvfb and resolves to its display (":n"). Without `display`, Xvfb picks a free
 * display itself and reports it (-displayfd), so parallel runs never race for one.
 * Linux only. Stopped by PID on exit.
 */
export async function startXvfb({ display } = {}) {
  const screen = ['-screen', '0', '800x600x24', '-nolisten', 'tcp'];
  const fixed = display === undefined ? null : `:${String(display).replace(/^:/, '')}`;
  const args = fixed ? [fixed, ...screen] : ['-displayfd', '3', ...screen];
  const xvfb = track(spawn('Xvfb', args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] }));
  const failed = new Promise((_, reject) => {
    xvfb.once('error', (e) => reject(new Error(`Xvfb: ${e.message} (install it: apt-get install xvfb)`)));
    xvfb.once('exit', (code) => reject(new Error(`Xvfb ${fixed ?? ''} exited (${code})${fixed ? `: is display ${fixed} in use?` : ''}`)));
  });
  const ready = fixed
    ? (async () => {
        const n = fixed.slice(1);
        for (let i = 0; i < 200 && !existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
        return fixed;
      })()
    : new Promise((resolve) => {
        let text = '';
        xvfb.stdio[3].setEncoding('utf8');
        xvfb.stdio[3].on('data', (chunk) => {
          text += chunk;
          if (text.includes('\n')) resolve(`:${text.trim()}`);
        });
      });
  const timeout = sleep(20_000).then(() => {
    throw new Error('Xvfb did not report a display within 20 s');
  });
  return Promise.race([ready, failed, timeout]);
}

/** An onText that hands `onLine` whole lines (a trace may hold several lines or part of one). */
function linesOf(onLine) {
  let partial = '';
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop();
    for (const line of lines) onLine(line);
  };
}

/** Whether coreutils' stdbuf is on PATH (to make a program's piped stdout line-buffered). */
function haveStdbuf() {
  return spawnSync('stdbuf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts mcsim on a built app with our xsbug listener on 127.0.0.1 (any free port).
 * onText gets the app's trace output as it comes (a trace may hold several lines or part
 * of one); onLine, instead, whole lines.
 * xsbug false: the app talks to a real xsbug on localhost:5002 instead. xsbugPort: our
 * listener's port (0, the default: any free one).
 * cwd: mcsim's working directory: where an app whose manifest sets the lin file root to
 * "./" keeps its files (the LED app's Preference records). Default on lin: the run's own
 * config directory (removed when it stops), so that runs never share records.
 * console true: for a release build (no debugger connection; trace() is printf'd): no
 * listener, onText gets mcsim's stdout, made line-buffered with stdbuf where it exists
 * (stdio buffers a pipe in 4 KiB blocks). mcsim is then still the process of `pid`
 * (stdbuf execs it). Resolves once the simulator is started (not the app) to an
 * instance that stops it by PID.
 */
export async function startSimulator(sdk, { app, display, onText = () => {}, onLine, xsbug = true, xsbugPort = 0, console: fromStdout = false, cwd }) {
  if (onLine) onText = linesOf(onLine);
  if (fromStdout) xsbug = false;
  let listener = null;
  const connections = new Set();
  let port = 5002; // the debugger address the app was built with (mcconfig -x default)
  if (xsbug) {
    listener = await startXsbugListener(xsbugPort, onText);
    listener.on('connection', (socket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });
    port = listener.address().port;
  }
  const env = { ...sdk.env, XSBUG_HOST: '127.0.0.1', XSBUG_PORT: String(port) };
  if (!xsbug) {
    delete env.XSBUG_HOST;
    delete env.XSBUG_PORT;
  }
  let command;
  let config = null;
  if (sdk.host === 'lin') {
    config = mkdtempSync(join(tmpdir(), 'mcsim-'));
    mkdirSync(join(config, 'tech.moddable.mcsim')); // mcsim copies the app here: a private copy per run
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
  const removeConfig = () => config && rmSync(config, { recursive: true, force: true });
  if (!existsSync(command)) {
    listener?.close();
    removeConfig();
    throw new SetupError(`the simulator is not built: ${command} is missing (build the host tools).`);
  }
  let args = [app];
  if (fromStdout && sdk.host !== 'win' && haveStdbuf()) {
    args = ['-oL', command, app];
    command = 'stdbuf';
  }
  const child = track(spawn(command, args, { env, cwd: cwd ?? config ?? undefined, stdio: fromStdout ? ['ignore', 'pipe', 'ignore'] : 'ignore' }));
  if (fromStdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => onText(text));
  }
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', (e) => resolve(e.message));
  });
  const closeListener = () => {
    for (const socket of connections) socket.destroy();
    return listener ? new Promise((resolve) => listener.close(() => resolve())) : Promise.resolve();
  };
  let stopping = null;
  const instance = {
    child,
    pid: child.pid,
    xsbugPort: port,
    exited,
    get running() {
      return running(child);
    },
    /** SIGTERM by PID (mcsim takes 1-2 s), SIGKILL after 5 s; then the listener and the config copy go. */
    stop() {
      stopping ??= (async () => {
        if (running(child)) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => running(child) && child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await closeListener();
        removeConfig();
      })();
      return stopping;
    },
    /** For 'exit' handlers: no waiting. */
    kill() {
      if (running(child)) child.kill('SIGKILL');
      for (const socket of connections) socket.destroy();
      listener?.close();
      removeConfig();
    },
  };
  onCleanup(() => instance.kill());
  return instance;
}

// ---- records: where an app's files live between runs ---------------------------------

/** The user's config directory: $XDG_CONFIG_HOME, else %APPDATA% on Windows, else ~/.config. */
export function userConfigDir() {
  return process.env.XDG_CONFIG_HOME || (process.platform === 'win32' ? process.env.APPDATA : undefined) || join(homedir(), '.config');
}

/** Where sim:moddable runs mcsim (the LED app's Preference file) unless told: <config dir>/moddable-websockets/sim-moddable. */
export function defaultSimRecordsDir() {
  return join(userConfigDir(), 'moddable-websockets', 'sim-moddable');
}

/**
 * Creates `dir` and takes it for this process (a lock file in it holding our PID, removed
 * on exit; a dead holder's lock is taken over), so that two runs never keep their
 * records in one directory by accident. Returns its release function, or null while
 * another live process holds it (its PID is then in the lock file).
 */
export function takeRecordsDir(dir) {
  mkdirSync(dir, { recursive: true });
  return takeLock(join(dir, '.in-use'));
}

/** The PID in a records directory's lock (takeRecordsDir), or null. */
export function recordsDirHolder(dir) {
  try {
    return Number(readFileSync(join(dir, '.in-use'), 'utf8')) || null;
  } catch {
    return null;
  }
}

// ---- ports -----------------------------------------------------------------------------

/** Port blocks handed out on this machine: below Linux's ephemeral range (32768-60999). */
const PORT_FIRST = 20000;
const PORT_BLOCK = 100;
const PORT_BLOCKS = 120;
const portLocks = join(tmpdir(), 'moddable-websockets-ports');

/** Whether `port` binds on every interface (as the simulator's Listener binds) right now. */
export function portIsFree(port, host = '0.0.0.0') {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Whether a process with this PID exists. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Takes a lock file for this process (it holds our PID; a dead holder's lock is taken
 * over). Returns its release function, or null while another live process holds it.
 */
export function takeLock(file) {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        // only our own: once released, another run may hold this file
        if (existsSync(file) && Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
      };
      onCleanup(release);
      return release;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (holder && alive(holder)) return null;
      try {
        unlinkSync(file); // its holder is gone
      } catch {
        // another run took it over first
      }
    }
  }
  return null;
}

/**
 * `count` consecutive ports (at most 100) that are free now and that no other run of
 * these scripts on this machine holds: a block is locked for this process (a file
 * holding its PID under the temp folder) until `release()` or exit. Resolves to
 * { base, ports, release }.
 */
export async function reservePorts(count) {
  if (count > PORT_BLOCK) throw new RangeError(`at most ${PORT_BLOCK} ports per reservation`);
  const offset = Math.floor(Math.random() * PORT_BLOCKS);
  for (let k = 0; k < PORT_BLOCKS; k++) {
    const base = PORT_FIRST + ((offset + k) % PORT_BLOCKS) * PORT_BLOCK;
    const unlock = takeLock(join(portLocks, `${base}.lock`));
    if (!unlock) continue;
    const ports = Array.from({ length: count }, (_, i) => base + i);
    let free = true;
    for (const port of ports) if (!(await portIsFree(port))) free = false;
    if (!free) {
      unlock();
      continue;
    }
    return { base, ports, release: unlock };
  }
  throw new Error(`no block of ${count} free ports in ${PORT_FIRST}-${PORT_FIRST + PORT_BLOCK * PORT_BLOCKS - 1}`);
}
