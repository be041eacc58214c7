// npm run testee:server -- --port P [--max-message BYTES] [--message-mode] [--max-clients N]
// Echo server on 127.0.0.1:P on the sim host, for Autobahn-style harnesses and interop.
import { startEchoServer } from '../../src/echo-app';
import type { EchoOptions } from '../../src/echo-app';


function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const port = Number(arg('--port') ?? 9001);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: npm run testee:server -- --port P [--max-message BYTES] [--message-mode]');
  process.exit(2);
}
const maxMessage = Number(arg('--max-message') ?? 64 * 1024 * 1024);
const messageMode = process.argv.includes('--message-mode');
const options: EchoOptions = {
  port,
  address: arg('--address') ?? '127.0.0.1',
  maxClients: Number(arg('--max-clients') ?? 64),
  receiveMode: messageMode ? 'message' : 'stream',
  maxMessageSize: maxMessage,
  chunkSize: 16384,
  readBufferSize: 16384,
  sendQueueSize: messageMode ? maxMessage * 2 + 65536 : 65536,
  sendBufferSize: 16384,
  maxHeaderSize: 8192,
  keepAliveInterval: 0,
  log: process.argv.includes('--verbose') ? (line) => console.log(line) : undefined,
};
if (messageMode) options.maxMessageSize = maxMessage;
const server = startEchoServer(options);
console.log(`echo testee listening on ws://127.0.0.1:${server.port}/ (${options.receiveMode} mode, max message ${maxMessage} bytes)`);
process.on('SIGTERM', () => {
  server.stop();
  process.exit(0);
});
