// npm run testee:server / testee:client — the testees for WebSocket conformance harnesses
// (e.g. an Autobahn-style fuzzer), on the sim host (Node) or, with --moddable, in the
// Moddable simulator on the real XS runtime:
//
//   node scripts/testee.mjs server [--port P] [--max-message BYTES] [--message-mode] [--max-clients N] [--moddable]
//   node scripts/testee.mjs client --url ws://127.0.0.1:P [--agent NAME] [--max-message BYTES]
//                                  [--case-timeout MS] [--deadline MS] [--moddable]
//   node scripts/testee.mjs client --url wss://HOST:P [--ca FILE] [...]
//
// A wss:// URL runs the client over TLS on the sim host (its TLS socket,
// embedded:io/socket/tcp/tls = hosts/sim/tls.ts), trusting the CA certificates of the PEM
// file --ca names, or without --ca what Node trusts. The Moddable simulator's testee has
// no TLS socket: --moddable with a wss:// URL or --ca is refused (exit 2).
//
// The client cuts each step (/getCaseCount, each /runCase, /updateReports) that has not
// closed after --case-timeout ms (default 60000) and stops the run after --deadline ms
// (default 1800000, 30 minutes). It exits 0 only when every case ran to its close and the
// reports were updated; 1, with one sentence on stderr, when the case count is missing,
// not a whole number or 0, the fuzzing server cannot be reached, a step timed out or the
// deadline passed; 2 for bad options.
//
// --moddable also takes --output DIR (the build folder) and --build-only (build, then exit).
// Without --moddable this process becomes the sim-host testee (hosts/sim/run.mjs with
// test/testee/echo-server.ts or fuzzing-client.ts). With --moddable it builds
// hosts/moddable/testee with these settings as its config (through scripts/moddable.mjs:
// mcconfig -d into build/moddable, never -m), runs it in mcsim (under Xvfb when there is
// no display), prints its trace output, and stops mcsim by PID: the client when it
// reports its exit status, the server on Ctrl-C or SIGTERM.
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const role = process.argv[2];
if (role !== 'server' && role !== 'client') {
  console.error(
    'usage: node scripts/testee.mjs server [--port P] [--max-message BYTES] [--message-mode] [--max-clients N] [--moddable]\n' +
      '       node scripts/testee.mjs client --url ws://HOST:P|wss://HOST:P [--ca FILE] [--agent NAME] [--max-message BYTES] [--case-timeout MS] [--deadline MS] [--moddable]',
  );
  process.exit(2);
}
const args = process.argv.slice(3);

if (!args.includes('--moddable')) {
  const root = join(import.meta.dirname, '..');
  const app = join(root, 'test', 'testee', role === 'server' ? 'echo-server.ts' : 'fuzzing-client.ts');
  process.argv = [process.argv[0], join(root, 'hosts', 'sim', 'run.mjs'), app, ...args];
  await import('../hosts/sim/run.mjs');
} else {
  await runInSimulator();
}

async function runInSimulator() {
  const tag = `testee:${role}`;
  const { values: options } = parseArgs({
    args,
    options: {
      moddable: { type: 'boolean' },
      port: { type: 'string' },
      'max-message': { type: 'string', default: String(64 * 1024 * 1024) },
      'message-mode': { type: 'boolean', default: false },
      'max-clients': { type: 'string', default: '64' },
      url: { type: 'string' },
      ca: { type: 'string' },
      agent: { type: 'string', default: 'moddable-websockets-xs' },
      'case-timeout': { type: 'string', default: '60000' },
      deadline: { type: 'string', default: String(30 * 60 * 1000) },
      output: { type: 'string' },
      'build-only': { type: 'boolean', default: false },
    },
  });
  // hosts/moddable/testee includes no TLS socket: say so, before looking for the SDK or
  // building, rather than report a URL the run cannot reach.
  if (role === 'client' && ((options.url && /^wss:\/\//i.test(options.url)) || options.ca !== undefined)) {
    console.error(`${tag}: --moddable runs the client over ws:// only (the Moddable simulator's testee has no TLS socket); run wss:// and --ca on the sim host, without --moddable`);
    process.exit(2);
  }
  // The client's bounds, checked as test/testee/fuzzing.ts checks them (the app repeats
  // the check), before looking for the SDK or building.
  for (const name of role === 'client' ? ['case-timeout', 'deadline'] : []) {
    const value = options[name];
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 2147483647) {
      console.error(`--${name} ${value}: not a whole number of milliseconds from 1 to 2147483647`);
      process.exit(2);
    }
  }
  const moddable = await import('./moddable.mjs');
  const fail = (line) => {
    console.error(`${tag}: ${line}`);
    process.exit(1);
  };
  let sdk;
  try {
    sdk = moddable.findSdk();
  } catch (error) {
    if (error instanceof moddable.SetupError) fail(error.message);
    throw error;
  }
  moddable.installExitHandlers();

  let config;
  if (role === 'server') {
    // The simulator's listener cannot report a port the system chose for it (port 0), so
    // without --port we pick a free one and print it in the banner.
    const port = options.port === undefined ? (await moddable.reservePorts(1)).base : Number(options.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port ${options.port}: not a port number from 1 to 65535`);
    if (!(await moddable.portIsFree(port))) fail(`port ${port} is in use by another process: pass --port N`);
    config = { role, port, maxMessage: Number(options['max-message']), messageMode: options['message-mode'], maxClients: Number(options['max-clients']) };
  } else {
    if (!options.url || !/^ws:\/\/[^/]+/.test(options.url)) fail('--url ws://HOST:PORT (the fuzzing server) is required');
    config = {
      role,
      url: options.url.replace(/\/+$/, ''),
      agent: options.agent,
      maxMessage: Number(options['max-message']),
      caseTimeout: Number(options['case-timeout']),
      deadline: Number(options.deadline),
    };
  }
  const outputDir = options.output ?? join(moddable.root, 'build', 'moddable', 'testee');
  console.log(`${tag}: building hosts/moddable/testee for the ${sdk.host} simulator (${Object.entries(config).map(([k, v]) => `${k}=${v}`).join(' ')})`);
  let build;
  try {
    build = moddable.buildSimulatorApp(sdk, { manifestDir: join(moddable.root, 'hosts', 'moddable', 'testee'), outputDir, config, quiet: true });
  } catch (error) {
    fail(error.message);
  }
  if (options['build-only']) {
    console.log(`${tag}: built ${build.app}`);
    process.exit(0);
  }
  let display = process.env.DISPLAY;
  if (sdk.host === 'lin' && !display) display = await moddable.startXvfb();

  let exitStatus = null;
  let reportExit;
  const reported = new Promise((resolve) => (reportExit = resolve));
  const sim = await moddable.startSimulator(sdk, {
    app: build.app,
    display,
    onLine(line) {
      const exit = /^testee: exit (\d+)$/.exec(line);
      if (exit) {
        exitStatus = Number(exit[1]);
        reportExit();
      } else if (line.startsWith('error: ')) console.error(line.slice(7));
      else console.log(line);
    },
  });
  console.log(`${tag}: mcsim pid ${sim.pid}${role === 'server' ? '; Ctrl-C stops it' : ''}`);
  const how = await Promise.race([sim.exited.then((h) => `mcsim exited (${h})`), reported.then(() => null)]);
  await sim.stop();
  moddable.stopAll();
  if (how) fail(how);
  process.exit(exitStatus ?? 1);
}
