// npm run testee:client -- --url ws://127.0.0.1:P --agent NAME [--max-message BYTES]
//   [--case-timeout MS] [--deadline MS] [--moddable]
// Speaks the Autobahn fuzzingserver protocol with our WebSocketClient on the sim host
// (test/testee/fuzzing.ts); with --moddable, scripts/testee.mjs runs the same logic in
// the Moddable simulator instead. Exit status: 0 when every case ran to its close and the
// reports were updated; 1 otherwise (one sentence on stderr says why); 2 for bad options.
import { WebSocketClient } from '../../src/net/client';
import { DEFAULT_CASE_TIMEOUT, DEFAULT_DEADLINE, checkMilliseconds, runFuzzingClient } from './fuzzing';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? '') : undefined;
}

const caseTimeout = arg('--case-timeout') ?? String(DEFAULT_CASE_TIMEOUT);
const deadline = arg('--deadline') ?? String(DEFAULT_DEADLINE);
const bad = checkMilliseconds('--case-timeout', caseTimeout) || checkMilliseconds('--deadline', deadline);
if (bad) {
  console.error(bad);
  process.exit(2);
}

runFuzzingClient({
  url: arg('--url') ?? 'ws://127.0.0.1:9001',
  createClient: (options) => new WebSocketClient(options),
  agent: arg('--agent') ?? 'moddable-websockets',
  maxMessage: Number(arg('--max-message') ?? 64 * 1024 * 1024),
  caseTimeout: Number(caseTimeout),
  deadline: Number(deadline),
  log: (line) => console.log(line),
  error: (line) => console.error(line),
}).then(
  (status) => process.exit(status),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
