// npm run testee:client -- --url ws://127.0.0.1:P --agent NAME [--max-message BYTES] [--moddable]
// Speaks the Autobahn fuzzingserver protocol with our WebSocketClient on the sim host
// (test/testee/testees.ts); with --moddable, scripts/testee.mjs runs the same logic in
// the Moddable simulator instead.
import { WebSocketClient } from '../../src/net/client';
import { runFuzzingClient } from './testees';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

runFuzzingClient({
  url: arg('--url') ?? 'ws://127.0.0.1:9001',
  createClient: (options) => new WebSocketClient(options),
  agent: arg('--agent') ?? 'moddable-websockets',
  maxMessage: Number(arg('--max-message') ?? 64 * 1024 * 1024),
  log: (line) => console.log(line),
  error: (line) => console.error(line),
}).then(
  (status) => process.exit(status),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
