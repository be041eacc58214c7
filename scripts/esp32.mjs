// npm run build:esp32 / npm run flash — the LED app (manifest.json) for the M5Stack
// Atom Lite through the Moddable SDK's own mcconfig, with the Wi-Fi credentials in the
// build's config (mcconfig ... ssid=NAME password=SECRET, read by Moddable's
// setup/network before the app starts).
//
//   node scripts/esp32.mjs build [options]   mcconfig -d -m -t build -p esp32/m5atom_lite ...
//   node scripts/esp32.mjs flash [options]   mcconfig -d -m -p esp32/m5atom_lite ...
//                                            (build, flash, then serial2xsbug to xsbug)
// Options: --ssid NAME --password SECRET (default: $WIFI_SSID, $WIFI_PASSWORD),
//   --token SECRET (config token), --port /dev/ttyUSB0 (flash; default $UPLOAD_PORT),
//   --log (flash: xsbug-log in this terminal instead of the xsbug app: mcconfig -dl),
//   --release (no -d: no debugger and no serial output), --output DIR (mcconfig -o).
//
// Before ESP-IDF is needed, mcconfig writes the makefile (no -m); then the script
// checks MODDABLE and IDF_PATH and says exactly what is missing.
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEVICE,
  SetupError,
  buildPaths,
  buildWeb,
  checkIdf,
  defaultOutputDir,
  findSdk,
  mcconfig,
  root,
} from './moddable.mjs';

const action = process.argv[2];
if (action !== 'build' && action !== 'flash') {
  console.error('usage: node scripts/esp32.mjs build|flash [--ssid NAME] [--password SECRET] [--token SECRET] [--port SERIAL] [--log] [--release] [--output DIR]');
  process.exit(2);
}
const tag = action === 'build' ? 'build:esp32' : 'flash';
const { values: options } = parseArgs({
  args: process.argv.slice(3),
  options: {
    ssid: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    port: { type: 'string' },
    log: { type: 'boolean', default: false },
    release: { type: 'boolean', default: false },
    output: { type: 'string' },
  },
});
const say = (line) => console.log(`${tag}: ${line}`);
const fail = (line) => {
  console.error(`${tag}: ${line}`);
  process.exit(1);
};

let sdk;
try {
  sdk = findSdk();
} catch (error) {
  if (error instanceof SetupError) fail(error.message);
  throw error;
}

const ssid = options.ssid ?? process.env.WIFI_SSID;
const password = options.password ?? process.env.WIFI_PASSWORD;
if (!ssid) {
  fail('no Wi-Fi network: set WIFI_SSID (and WIFI_PASSWORD unless the network is open), e.g. WIFI_SSID=MyNet WIFI_PASSWORD=secret npm run ' + tag + ', or pass -- --ssid MyNet --password secret. The Atom Lite joins it at boot (2.4 GHz networks only).');
}
if (options.log && options.release) fail('--log needs a debug build: drop --release.');
if (options.log && !existsSync(join(sdk.moddable, 'tools', 'xsbug-log', 'node_modules'))) {
  fail(`--log uses the SDK's xsbug-log, whose dependencies are not installed: cd ${join(sdk.moddable, 'tools', 'xsbug-log')} && npm install`);
}

const outputDir = options.output ? resolve(options.output) : defaultOutputDir;
const release = options.release;
const config = { ssid, password: password || undefined, token: options.token };
// -dl instead of -d: the debug build's output goes to xsbug-log in this terminal.
const build = { manifestDir: root, platform: DEVICE, outputDir, release, config, debugFlag: options.log ? '-dl' : '-d' };

try {
  say('building web/dist');
  buildWeb();
  // Without -m, mcconfig only writes the makefile: this needs no ESP-IDF and checks the
  // manifests (includes, modules, resources) for the device.
  const { tmp } = mcconfig(sdk, { ...build, quiet: true });
  const makefile = join(tmp, 'makefile');
  say(`mcconfig wrote ${relative(process.cwd(), makefile) || makefile} (Wi-Fi "${ssid}")`);

  try {
    checkIdf(sdk);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    fail(`${error.message} mcconfig's part is done (the makefile above); compiling and linking the firmware needs ESP-IDF: rerun once it is installed.`);
  }

  const env = { ...sdk.env };
  if (options.port) env.UPLOAD_PORT = options.port;
  if (action === 'flash') {
    say(env.UPLOAD_PORT ? `serial port ${env.UPLOAD_PORT} (UPLOAD_PORT)` : 'UPLOAD_PORT is not set: the SDK looks for the serial port itself (set UPLOAD_PORT=/dev/ttyUSB0, or COM3 on Windows, if it cannot find it)');
  }
  // -t build: the ESP-IDF build only. Without -t ("all"): build, flash, then connect the
  // debugger (serial2xsbug to xsbug; -dl: xsbug-log here) to see trace output such as
  // the "IP address" line of Moddable's Wi-Fi set-up.
  const make = action === 'build' ? ['-m', '-t', 'build'] : ['-m'];
  mcconfig(sdk, { ...build, make, env, announce: say });
  if (action === 'build') say(`built into ${buildPaths(build).bin}; npm run flash writes it to the Atom Lite`);
} catch (error) {
  fail(error.message);
}
