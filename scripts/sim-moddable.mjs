// npm run sim:moddable — the LED app (manifest.json) in Moddable's own simulator:
// builds it for this computer's simulator platform (lin, mac or win) with
// `mcconfig -d -p <platform> -o build/moddable` and make's "build" target (never
// mcconfig -m: on lin its makefile kills every mcsim on the machine), starts mcsim on
// the built app (under Xvfb when there is no display), prints the app's trace output
// (`LED #rrggbb` on every change) and stops mcsim by its PID on Ctrl-C.
//
//   npm run sim:moddable -- [--port 8080] [--token SECRET] [--headless] [--display :85]
//                           [--xsbug-port 0] [--xsbug] [--output build/moddable]
//                           [--records DIR]
//
// mcsim runs in a directory kept between runs, where the app's Preference (the LED state,
// the Wi-Fi settings) is its file modpreferences.json (the manifest sets the lin file root
// to "./"): by default <config dir>/moddable-websockets/sim-moddable ($XDG_CONFIG_HOME,
// else ~/.config), --records DIR for another. A run holds its directory (a lock file with
// its PID) until it stops: a second run on the same directory is refused, not mixed in.
//
// --port / --token go into the build's config (mc/config), like `mcconfig ... port=N`.
// --headless runs mcsim under Xvfb even with a display (--display picks Xvfb's number).
// --xsbug leaves the app to a real xsbug on localhost:5002 instead of printing traces.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import {
  SetupError,
  buildSimulatorApp,
  buildWeb,
  defaultOutputDir,
  defaultSimRecordsDir,
  findSdk,
  installExitHandlers,
  portIsFree,
  recordsDirHolder,
  startSimulator,
  takeRecordsDir,
  startXvfb,
} from './moddable.mjs';

const { values: options } = parseArgs({
  options: {
    port: { type: 'string' },
    token: { type: 'string' },
    headless: { type: 'boolean', default: false },
    display: { type: 'string' },
    'xsbug-port': { type: 'string', default: '0' },
    xsbug: { type: 'boolean', default: false },
    output: { type: 'string' },
    records: { type: 'string' },
  },
});
const say = (line) => console.log(`sim:moddable: ${line}`);

installExitHandlers();
let sdk;
try {
  sdk = findSdk();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`sim:moddable: ${error.message}`);
  process.exit(1);
}
if (options.port !== undefined && !(/^\d+$/.test(options.port) && Number(options.port) >= 1 && Number(options.port) <= 65535)) {
  console.error(`sim:moddable: --port ${options.port}: not a port number from 1 to 65535 (the simulator's listener cannot report a port chosen for it)`);
  process.exit(1);
}

const port = Number(options.port ?? 8080); // manifest.json's simulator config
if (!(await portIsFree(port))) {
  console.error(`sim:moddable: port ${port} is in use by another process: stop it, or pass -- --port N`);
  process.exit(1);
}

const records = options.records ? resolve(options.records) : defaultSimRecordsDir();
if (!takeRecordsDir(records)) {
  console.error(`sim:moddable: ${records} is in use by another run (pid ${recordsDirHolder(records) ?? '?'}): stop it, or pass -- --records DIR`);
  process.exit(1);
}

try {
  say('building web/dist');
  buildWeb();
  const outputDir = options.output ? resolve(options.output) : defaultOutputDir;
  say(`building manifest.json for the ${sdk.host} simulator (mcconfig -d -p ${sdk.host} -o ${outputDir}, then make build; the first build also compiles XS)`);
  const build = buildSimulatorApp(sdk, { outputDir, config: { port: options.port, token: options.token }, quiet: true });
  say(`built ${build.app}`);

  let display = process.env.DISPLAY;
  if (sdk.host === 'lin' && (options.headless || !display)) {
    display = await startXvfb({ display: options.display });
    say(`mcsim runs headless on Xvfb ${display}`);
  }

  let traced = '';
  let announced = false;
  say(
    sdk.host === 'lin'
      ? `records (LED state, Wi-Fi settings): ${records}/modpreferences.json (mcsim runs in ${records})`
      : `mcsim runs in ${records}; the SDK's Preference on ${sdk.host} keeps the records in the system's own store`,
  );
  const sim = await startSimulator(sdk, {
    app: build.app,
    display,
    cwd: records,
    xsbug: !options.xsbug,
    xsbugPort: Number(options['xsbug-port']),
    onText(text) {
      process.stdout.write(text);
      if (announced) return;
      traced += text;
      const up = /LED app: http:\/\/<device>:(\d+)\/(\?token=<token>)?/.exec(traced);
      if (up) {
        announced = true;
        traced = '';
        const query = options.token ? `?token=${encodeURIComponent(options.token)}` : '';
        say(`open http://127.0.0.1:${up[1]}/${query} (the simulator listens on every interface); Ctrl-C stops it`);
      }
    },
  });
  say(`mcsim started (pid ${sim.child.pid}${options.xsbug ? ', debugger: xsbug on localhost:5002' : `, traces via 127.0.0.1:${sim.xsbugPort}`})`);
  const how = await sim.exited;
  say(`mcsim exited (${how})`);
  process.exit(1);
} catch (error) {
  console.error(`sim:moddable: ${error.message}`);
  process.exit(1);
}
