// Echo server app for the Moddable simulator (mcsim on lin/mac/win): the same
// src/ modules as on the device and on Node, on Moddable's own ECMA-419 sockets.
// The interop tests run against it (npm run test:moddable).
import { startEchoServer } from 'websockets/echo-app';
import { installModdablePlatform } from 'websockets/moddable-platform';

installModdablePlatform();


const server = startEchoServer({
  port: 9101,
  maxClients: 8,
  receiveMode: 'stream',
  maxMessageSize: 64 * 1024 * 1024,
  chunkSize: 1024,
  readBufferSize: 1024,
  sendQueueSize: 8192,
  keepAliveInterval: 0,
  log: (line) => trace(line + '\n'),
});
trace(`echo server listening on port ${server.port}\n`);
