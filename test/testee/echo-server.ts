// npm run testee:server -- --port P [--max-message BYTES] [--message-mode] [--max-clients N] [--moddable]
// Echo server on 127.0.0.1:P on the sim host, for Autobahn-style harnesses and interop
// (test/testee/testees.ts); with --moddable, scripts/testee.mjs runs the same server in
// the Moddable simulator instead.
import { startEchoServer } from '../../src/apps/echo-app';
import { testeeServerBanner, testeeServerOptions } from './testees';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const port = Number(arg('--port') ?? 9001);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: npm run testee:server -- --port P [--max-message BYTES] [--message-mode]');
  process.exit(2);
}
const settings = {
  port,
  maxMessage: Number(arg('--max-message') ?? 64 * 1024 * 1024),
  messageMode: process.argv.includes('--message-mode'),
  maxClients: Number(arg('--max-clients') ?? 64),
};
const server = startEchoServer({
  ...testeeServerOptions(settings),
  address: arg('--address') ?? '127.0.0.1',
  log: process.argv.includes('--verbose') ? (line) => console.log(line) : undefined,
});
console.log(testeeServerBanner(server.port!, settings));
process.on('SIGTERM', () => {
  server.stop();
  process.exit(0);
});
