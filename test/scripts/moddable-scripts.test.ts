// The scripts that drive the Moddable SDK, checked without the SDK (CI has none):
// - every runner goes through scripts/moddable.mjs: none of them spawns the SDK's tools,
//   Xvfb or make itself, nor builds a build path from a fixed app name (a clone whose
//   folder is not named "main" broke the runners that did);
// - on a fresh clone, `npm run build:esp32` creates its output folder and never prints
//   the Wi-Fi password, also when mcconfig fails; builds never write into $MODDABLE; a
//   missing `npm ci` is one clear sentence.
// A stand-in SDK plays mcconfig the way the real one behaves where it matters here (it
// refuses an -o folder that does not exist, "directory not found!"; it lays the makefile
// out under <o>/tmp/<platform>/<debug|release|instrument>/<manifest's folder name>).

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'moddable-scripts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FAKE_MCCONFIG = `#!/usr/bin/env node
// Stand-in for the SDK's mcconfig: records its arguments, refuses a missing -o folder as
// the real one does, writes a makefile whose "build" target makes mc.so.
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_MCCONFIG_LOG, JSON.stringify(args) + '\\n');
if (process.env.FAKE_MCCONFIG_FAIL) { console.error('# mcconfig: stand-in failure'); process.exit(2); }
const out = args[args.indexOf('-o') + 1];
if (!fs.existsSync(out)) { console.error("# mcconfig error: -o '" + out + "': directory not found!"); process.exit(1); }
const platform = args[args.indexOf('-p') + 1];
const dirs = platform.includes('/') ? platform.split('/') : [platform, 'mc'];
const kind = args.includes('-d') || args.includes('-dl') ? 'debug' : args.includes('-i') ? 'instrument' : 'release';
const name = path.basename(path.dirname(path.resolve(args[0])));
const tmp = path.join(out, 'tmp', ...dirs, kind, name);
const bin = path.join(out, 'bin', ...dirs, kind, name);
fs.mkdirSync(tmp, { recursive: true });
fs.writeFileSync(path.join(tmp, 'makefile'), 'build:\\n\\tmkdir -p ' + bin + ' && touch ' + path.join(bin, 'mc.so') + '\\n');
`;

/** A directory that looks like a Moddable SDK with its Linux tools built. */
function fakeSdk(): string {
  const sdk = join(work, 'fake-sdk');
  if (existsSync(sdk)) return sdk;
  mkdirSync(join(sdk, 'build', 'devices', 'esp32'), { recursive: true });
  writeFileSync(join(sdk, 'build', 'devices', 'esp32', 'manifest.json'), JSON.stringify({ build: { EXPECTED_ESP_IDF: 'v6.0' } }));
  const bin = join(sdk, 'build', 'bin', 'lin', 'release');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'mcconfig'), FAKE_MCCONFIG);
  chmodSync(join(bin, 'mcconfig'), 0o755);
  return sdk;
}

function runScript(script: string, args: string[], env: Record<string, string>): { status: number | null; output: string } {
  const clean = { ...process.env };
  for (const key of ['IDF_PATH', 'WIFI_SSID', 'WIFI_PASSWORD', 'UPLOAD_PORT', 'MODDABLE']) delete clean[key];
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...clean, ...env }, timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.runIf(process.platform === 'linux')('npm run build:esp32 on a fresh clone (stand-in SDK, no ESP-IDF)', () => {
  const SECRET = 'hunter2-wifi-secret';

  it('creates its output folder, gets as far as the missing ESP-IDF and says so, printing no password', () => {
    const log = join(work, 'mcconfig-ok.log');
    const output = join(work, 'fresh', 'build', 'moddable'); // does not exist yet
    const r = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', output], {
      MODDABLE: fakeSdk(),
      WIFI_SSID: 'MyNet',
      WIFI_PASSWORD: SECRET,
      FAKE_MCCONFIG_LOG: log,
    });
    expect(r.output).not.toContain(SECRET);
    expect(r.output).toMatch(/ESP-IDF is missing: IDF_PATH is not set\. Install ESP-IDF v6\.0/);
    expect(r.status).toBe(1);
    expect(existsSync(output)).toBe(true);
    // mcconfig itself got the credentials, for the device's config
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain(`password=${SECRET}`);
    expect(calls[0]).toContain('ssid=MyNet');
    expect(calls[0]!.slice(calls[0]!.indexOf('-p'), calls[0]!.indexOf('-p') + 2)).toEqual(['-p', 'esp32/m5atom_lite']);
  });

  it('a failing mcconfig is reported with the password masked', () => {
    const r = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', join(work, 'fail-out'), '--token', 'tok-secret-1'], {
      MODDABLE: fakeSdk(),
      WIFI_SSID: 'MyNet',
      WIFI_PASSWORD: SECRET,
      FAKE_MCCONFIG_LOG: join(work, 'mcconfig-fail.log'),
      FAKE_MCCONFIG_FAIL: '1',
    });
    expect(r.status).toBe(1);
    expect(r.output).toContain('stand-in failure');
    expect(r.output).toMatch(/mcconfig .*password=\*\*\* token=\*\*\* failed \(2\)/);
    expect(r.output).not.toContain(SECRET);
    expect(r.output).not.toContain('tok-secret-1');
  });

  it('refuses an output folder inside $MODDABLE', () => {
    const sdk = fakeSdk();
    const r = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', join(sdk, 'build')], {
      MODDABLE: sdk,
      WIFI_SSID: 'MyNet',
      FAKE_MCCONFIG_LOG: join(work, 'mcconfig-inside.log'),
    });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/is inside \$MODDABLE: our builds never write into the SDK/);
    expect(existsSync(join(work, 'mcconfig-inside.log'))).toBe(false);
  });

  it('without WIFI_SSID builds with no Wi-Fi in the config and says the device opens its set-up access point', () => {
    const log = join(work, 'x.log');
    const r = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', join(work, 'no-wifi-out')], { MODDABLE: fakeSdk(), FAKE_MCCONFIG_LOG: log });
    expect(r.output).toMatch(/Wi-Fi: none in the build .*set-up access point/);
    expect(r.output).toMatch(/ESP-IDF is missing/);
    expect(r.status).toBe(1);
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.filter((a) => /^(ssid|password)=/.test(a))).toEqual([]);
  });

  it('--name and --setup-password reach the config, the set-up password masked; invalid ones are refused before mcconfig', () => {
    const log = join(work, 'name-setup.log');
    const r = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', join(work, 'name-out'), '--name', 'desk-led', '--setup-password', 'setup-secret-9'], {
      MODDABLE: fakeSdk(),
      FAKE_MCCONFIG_LOG: log,
      FAKE_MCCONFIG_FAIL: '1',
    });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/mcconfig .*name=desk-led setupPassword=\*\*\* failed/);
    expect(r.output).not.toContain('setup-secret-9');
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
    expect(calls[0]).toContain('name=desk-led');
    expect(calls[0]).toContain('setupPassword=setup-secret-9');
    for (const args of [['--name', 'Desk LED'], ['--name', 'led-'], ['--setup-password', 'short']]) {
      const refusedLog = join(work, 'refused.log');
      const refused = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', join(work, 'refused-out'), ...args], { MODDABLE: fakeSdk(), FAKE_MCCONFIG_LOG: refusedLog });
      expect(refused.status, args.join(' ')).toBe(1);
      expect(refused.output, args.join(' ')).toMatch(args[0] === '--name' ? /lowercase letters, digits and hyphens/ : /8 to 63 printable ASCII/);
      expect(existsSync(refusedLog)).toBe(false);
    }
  });

  it('a password without an SSID is refused before mcconfig runs', () => {
    const log = join(work, 'pw-only.log');
    const r = runScript(join(ROOT, 'scripts', 'esp32.mjs'), ['build', '--output', join(work, 'pw-only-out')], { MODDABLE: fakeSdk(), WIFI_PASSWORD: SECRET, FAKE_MCCONFIG_LOG: log });
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/without --ssid/);
    expect(r.output).not.toContain(SECRET);
    expect(existsSync(log)).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('scripts/moddable.mjs builds (stand-in SDK)', () => {
  it('finds the app of a manifest in a folder with any name (a clone not called "main")', async () => {
    process.env.FAKE_MCCONFIG_LOG = join(work, 'mcconfig-build.log');
    const moddable = await import('../../scripts/moddable.mjs');
    const clone = join(work, 'moddable-websockets-clone');
    mkdirSync(clone, { recursive: true });
    writeFileSync(join(clone, 'manifest.json'), '{}');
    const sdk = { moddable: fakeSdk(), host: 'lin' as const, bin: join(fakeSdk(), 'build', 'bin', 'lin', 'release'), env: { ...process.env } };
    const build = (moddable as unknown as { buildSimulatorApp: (sdk: unknown, o: object) => { name: string; app: string } }).buildSimulatorApp(sdk, {
      manifestDir: clone,
      outputDir: join(work, 'clone-out', 'nested'),
      quiet: true,
    });
    expect(build.name).toBe('moddable-websockets-clone');
    expect(existsSync(build.app)).toBe(true);
    expect(relative(join(work, 'clone-out', 'nested'), build.app)).toBe(join('bin', 'lin', 'mc', 'debug', 'moddable-websockets-clone', 'mc.so'));
  });

  it('builds release (no -d) and instrumented release (-i) apps where mcconfig puts them', async () => {
    process.env.FAKE_MCCONFIG_LOG = join(work, 'mcconfig-release.log');
    const moddable = await import('../../scripts/moddable.mjs');
    const app = join(work, 'cpu-app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'manifest.json'), '{}');
    const sdk = { moddable: fakeSdk(), host: 'lin' as const, bin: join(fakeSdk(), 'build', 'bin', 'lin', 'release'), env: { ...process.env } };
    const buildSimulatorApp = (moddable as unknown as { buildSimulatorApp: (sdk: unknown, o: object) => { app: string } }).buildSimulatorApp;
    const out = join(work, 'release-out');
    const release = buildSimulatorApp(sdk, { manifestDir: app, outputDir: out, release: true, quiet: true });
    const instrumented = buildSimulatorApp(sdk, { manifestDir: app, outputDir: out, release: true, instrument: true, quiet: true });
    expect(relative(out, release.app)).toBe(join('bin', 'lin', 'mc', 'release', 'cpu-app', 'mc.so'));
    expect(relative(out, instrumented.app)).toBe(join('bin', 'lin', 'mc', 'instrument', 'cpu-app', 'mc.so'));
    const calls = readFileSync(join(work, 'mcconfig-release.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
    expect(calls.map((args) => args.filter((a) => /^-(d|dl|i)$/.test(a)))).toEqual([[], ['-i']]);
  });

  it('a clone without `npm ci` gets one sentence saying to run it, not a failure deep inside make', () => {
    const clone = join(work, 'no-npm-clone');
    cpSync(join(ROOT, 'scripts'), join(clone, 'scripts'), { recursive: true });
    const r = runScript(join(clone, 'scripts', 'sim-moddable.mjs'), [], { MODDABLE: fakeSdk(), FAKE_MCCONFIG_LOG: join(work, 'y.log') });
    expect(r.status).toBe(1);
    expect(r.output.trim().split('\n')).toHaveLength(1);
    expect(r.output).toMatch(/npm packages are not installed .*run `npm ci` in .*no-npm-clone first\./);
  });

  it('without $MODDABLE the SDK runners print SKIPPED and exit 0', () => {
    for (const script of ['test/moddable/run.mjs', 'examples/run.mjs', 'bench/moddable-memory.mjs', 'bench/moddable-cpu.mjs', 'scripts/typecheck-moddable.mjs']) {
      const r = runScript(join(ROOT, script), [], {});
      expect(r.status, `${script}: ${r.output}`).toBe(0);
      expect(r.output, script).toMatch(/SKIPPED: MODDABLE is not set/);
    }
  });
});

/** Every file that builds, starts or stops Moddable apps, except the one module that does it. */
function runners(): string[] {
  const files = [
    ...['scripts', 'test/moddable', 'examples', 'bench'].flatMap((dir) =>
      readdirSync(join(ROOT, dir)).filter((f) => /\.(mjs|ts|mts)$/.test(f)).map((f) => join(dir, f)),
    ),
    'test/app/helpers.ts',
  ];
  // the module itself, its types and its xsbug-protocol listener
  const module = ['scripts/moddable.mjs', 'scripts/moddable.d.mts', 'scripts/xsbug-listener.mjs'];
  return files.filter((f) => !module.includes(f));
}

/** Code without comments, so that the rules read what runs. */
function code(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/\s\/\/.*$/gm, '');
}

describe('sim:moddable records (scripts/moddable.mjs)', () => {
  it('defaults under the user config directory ($XDG_CONFIG_HOME) and is held by one run at a time', async () => {
    const moddable = (await import('../../scripts/moddable.mjs')) as unknown as {
      defaultSimRecordsDir: () => string;
      takeRecordsDir: (dir: string) => (() => void) | null;
      recordsDirHolder: (dir: string) => number | null;
    };
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = join(work, 'config-home');
    try {
      expect(moddable.defaultSimRecordsDir()).toBe(join(work, 'config-home', 'moddable-websockets', 'sim-moddable'));
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
    const dir = join(work, 'records', 'nested');
    const release = moddable.takeRecordsDir(dir);
    expect(release).not.toBeNull();
    expect(existsSync(dir)).toBe(true);
    expect(moddable.recordsDirHolder(dir)).toBe(process.pid);
    expect(moddable.takeRecordsDir(dir)).toBeNull(); // held by a live process (this one)
    release!();
    expect(moddable.recordsDirHolder(dir)).toBeNull();
    const again = moddable.takeRecordsDir(dir);
    expect(again).not.toBeNull();
    again!();
  });
});

describe('one place builds and runs Moddable apps (scripts/moddable.mjs)', () => {
  const RULES: [RegExp, string][] = [
    [/spawn(Sync)?\(\s*['"`](Xvfb|make|nmake)['"`]/, 'starts Xvfb or make itself'],
    [/\b(tool\(\s*sdk\s*,\s*['"`](mcconfig|mcsim)|join\([^)]*['"`](mcconfig|mcsim)['"`])/, 'names an SDK tool itself'],
    [/['"`](debug|release)['"`]\s*,\s*(name|build|['"`]\w+['"`])\s*[,)]/, 'builds a build path by hand'],
    [/name:\s*['"`]main['"`]/, 'names the app "main"'],
    [/startXsbugListener|XDG_CONFIG_HOME/, 'runs its own debugger listener or mcsim set-up'],
    [/\b(9[01]\d\d|6[23]\d\d)\b/, 'uses a fixed port that another run could hold'],
  ];

  it('lists the runners it checks', () => {
    const list = runners();
    for (const expected of ['test/moddable/run.mjs', 'examples/run.mjs', 'bench/moddable-memory.mjs', 'bench/moddable-cpu.mjs', 'scripts/sim-moddable.mjs', 'scripts/esp32.mjs', 'scripts/typecheck-moddable.mjs', 'test/app/helpers.ts']) {
      expect(list).toContain(expected);
    }
  });

  for (const [rule, what] of RULES) {
    it(`no runner ${what}`, () => {
      const offenders = runners().filter((file) => rule.test(code(file)));
      expect(offenders).toEqual([]);
    });
  }

  it('the rules catch the old hand-built path (a self-check)', () => {
    const old = `run('make', ['-C', join(dir, 'tmp', 'lin', 'mc', 'debug', name), '-f', 'makefile', 'build']);`;
    expect(RULES.filter(([rule]) => rule.test(old)).map(([, what]) => what)).toEqual(['builds a build path by hand']);
    expect(RULES.some(([rule]) => rule.test(`LED.default.so = build('led', { cwd: root, name: 'main' });`))).toBe(true);
  });
});
