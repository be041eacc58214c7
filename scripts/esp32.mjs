// npm run build:esp32 / npm run flash — the LED app (manifest.json) for the M5Stack
// Atom Lite through the Moddable SDK's own mcconfig. Wi-Fi credentials are optional: with
// --ssid/--password (or $WIFI_SSID/$WIFI_PASSWORD) they go into the build's config
// (mcconfig ... ssid=NAME password=SECRET), where the app's Wi-Fi set-up
// (src/device/wifi-setup.ts, started by hosts/moddable/led-main.ts) takes them as the
// network to join while none is stored on the device; without them, and whenever the
// device cannot join, it opens its set-up access point "<name>-setup" (WPA2 password
// "ledsetup" unless --setup-password gives another) and serves the set-up page
// at http://192.168.4.1/setup.html. The SDK's own setup/network, which would join
// config.ssid before the app starts (and wait for it), is left out of the build
// (hosts/esp32/manifest.json), so nothing joins behind the app's back.
//
//   node scripts/esp32.mjs build [options]   mcconfig -d -m -t build -p esp32/m5atom_lite ...
//   node scripts/esp32.mjs flash [options]   mcconfig -d -m -p esp32/m5atom_lite ...
//                                            (build, flash, then serial2xsbug to xsbug)
// Options: --ssid NAME --password SECRET (default: $WIFI_SSID, $WIFI_PASSWORD; optional),
//   --token SECRET (config token), --name NAME (config name: <name>.local and the set-up
//   network "<name>-setup"; default atom-led-<end of the MAC>), --setup-password SECRET
//   (config setupPassword: the set-up network's WPA2 password, 8 to 63 characters),
//   --port /dev/ttyUSB0 (flash; default $UPLOAD_PORT),
//   --log (flash: xsbug-log in this terminal instead of the xsbug app: mcconfig -dl),
//   --release (no -d: no debugger and no serial output), --output DIR (mcconfig -o).
//
// Before ESP-IDF is needed, mcconfig writes the makefile (no -m); then the script
// checks MODDABLE and IDF_PATH and says exactly what is missing. Logged command lines
// show password=, setupPassword= and token= as ***.
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
  console.error('usage: node scripts/esp32.mjs build|flash [--ssid NAME] [--password SECRET] [--token SECRET] [--name NAME] [--setup-password SECRET] [--port SERIAL] [--log] [--release] [--output DIR]');
  process.exit(2);
}
const tag = action === 'build' ? 'build:esp32' : 'flash';
const { values: options } = parseArgs({
  args: process.argv.slice(3),
  options: {
    ssid: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    name: { type: 'string' },
    'setup-password': { type: 'string' },
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
if (!ssid && password) fail('--password (or WIFI_PASSWORD) without --ssid (or WIFI_SSID): name the network too, or give neither.');
const name = options.name;
// what src/device/device-name.ts accepts (a lowercase DNS label); the device would
// silently use its default name instead of any other
if (name !== undefined && !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
  fail(`--name ${JSON.stringify(name)}: use 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen (it becomes <name>.local and the set-up network "<name>-setup").`);
}
const setupPassword = options['setup-password'];
if (setupPassword !== undefined && !/^[\x20-\x7e]{8,63}$/.test(setupPassword)) {
  fail('--setup-password: a WPA2 password is 8 to 63 printable ASCII characters.');
}
if (options.log && options.release) fail('--log needs a debug build: drop --release.');
if (options.log && !existsSync(join(sdk.moddable, 'tools', 'xsbug-log', 'node_modules'))) {
  fail(`--log uses the SDK's xsbug-log, whose dependencies are not installed: cd ${join(sdk.moddable, 'tools', 'xsbug-log')} && npm install`);
}

const outputDir = options.output ? resolve(options.output) : defaultOutputDir;
const release = options.release;
const config = { ssid: ssid || undefined, password: (ssid && password) || undefined, token: options.token, name, setupPassword };
// -dl instead of -d: the debug build's output goes to xsbug-log in this terminal.
const build = { manifestDir: root, platform: DEVICE, outputDir, release, config, debugFlag: options.log ? '-dl' : '-d' };

try {
  say('building web/dist');
  buildWeb();
  // Without -m, mcconfig only writes the makefile: this needs no ESP-IDF and checks the
  // manifests (includes, modules, resources) for the device.
  const { tmp } = mcconfig(sdk, { ...build, quiet: true });
  const makefile = join(tmp, 'makefile');
  say(`mcconfig wrote ${relative(process.cwd(), makefile) || makefile}`);
  say(
    ssid
      ? `Wi-Fi: the device joins "${ssid}" (2.4 GHz only) while it has no network stored; if it cannot, it opens its set-up access point`
      : `Wi-Fi: none in the build (no --ssid / WIFI_SSID): at first boot the device opens its set-up access point "${name ?? '<name>'}-setup" (password ${setupPassword === undefined ? 'ledsetup' : 'as given'}) with the set-up page at http://192.168.4.1/setup.html`,
  );

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
  // debugger (serial2xsbug to xsbug; -dl: xsbug-log here) to see the app's trace output:
  // its "Set-up: join Wi-Fi ..." or "Device: http://<name>.local/ (<address>)" line.
  const make = action === 'build' ? ['-m', '-t', 'build'] : ['-m'];
  mcconfig(sdk, { ...build, make, env, announce: say });
  if (action === 'build') say(`built into ${buildPaths(build).bin}; npm run flash writes it to the Atom Lite`);
} catch (error) {
  fail(error.message);
}
