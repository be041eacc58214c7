// The echo server used as a testee (Autobahn-style harnesses) and in the Moddable
// simulator: echoes every text and binary message as received. Stream mode echoes
// each chunk as a fragment as it arrives, so messages far larger than the buffers
// (16 MiB and more) pass through a fixed amount of memory.

import { WebSocketServer } from '../net/server';
import type { ServerOptions } from '../net/server';

export interface EchoOptions extends ServerOptions {
  /** Report each event on the console-like `log` (default: silent). */
  log?: (line: string) => void;
}

export function startEchoServer(options: EchoOptions): WebSocketServer {
  const server = new WebSocketServer(options);
  const log = options.log;
  const stream = options.receiveMode === 'stream';
  if (stream) {
    server.on('chunk', (client, data, isText, first, last) => {
      // The link stops reading while its send queue is half full, so a chunk always fits.
      if (!server.sendFragment(client, data, isText, first, last)) {
        server.disconnectClient(client, 1011, 'echo could not keep up');
      }
    });
  } else {
    server.on('message', (client, data, isText) => {
      const sent = isText ? server.sendText(client, data as string) : server.sendBinary(client, data as Uint8Array);
      if (!sent) server.disconnectClient(client, 1011, 'echo could not keep up');
    });
  }
  if (log) {
    server.on('opened', (client, protocol) => log(`opened ${client}${protocol ? ' ' + protocol : ''}`));
    server.on('closed', (client, code, reason, wasClean) => log(`closed ${client} ${code} ${reason} ${wasClean ? 'clean' : 'not clean'}`));
  }
  server.on('error', (error, client) => log?.(`error ${client ?? ''} ${error.message}`));
  server.start();
  return server;
}
