// WebSocketServer example (TypeScript): a stand-alone echo server. Every message comes
// back to its sender as it was sent (text as text, binary as binary).
// Build: mcconfig -d -p lin port=8080, then connect any WebSocket client to ws://<ip>:8080/
import config from 'mc/config';
import { WebSocketServer } from 'websockets/server';
import { installModdablePlatform } from 'websockets/moddable-platform';

installModdablePlatform(); // clock and DNS for the WebSocket modules: once per app

const port = Number(config.port ?? 8080);
const server = new WebSocketServer({ port, maxClients: 2, keepAliveInterval: 30000 });

server.on('opened', (client, protocol) => trace(`server-echo: opened ${client} protocol="${protocol}"\n`));
server.on('message', (client, data, isText) => {
  // Binary data is a view into the receive buffer, valid during this call: sent (copied) at once.
  const sent = typeof data === 'string' ? server.sendText(client, data) : server.sendBinary(client, data);
  trace(`server-echo: ${isText ? 'text' : 'binary'} ${typeof data === 'string' ? data.length : data.byteLength} echoed=${sent}\n`);
});
server.on('closed', (client, code, reason, wasClean) =>
  trace(`server-echo: closed ${client} ${code} "${reason}" clean=${wasClean}\n`),
);
server.on('error', (error, client) => trace(`server-echo: error ${client ?? ''} ${error.message}\n`));
server.start();
trace(`server-echo: listening on port ${port}\n`);
