// The wss:// client suite's stand-in in the Moddable simulator: our WebSocketClient over
// our TLS socket on the SDK's TLS (modules/tls/manifest.json), driven by
// test/interop/client-tls.test.ts through test/interop/peers/tls-driver-moddable.ts.
// A control WebSocket server on the build's config controlPort takes JSON text commands
// and reports each client's events:
//   {id, op: 'connect', c, url, options}  -> a new client c (options: the test's
//                                            TlsTestOptions, certificates as PEM);
//                                            connect(url): true, or err: what it threw
//   {id, op: 'send', c, p}                -> send(the Payload p made here): its result
//   {id, op: 'close', c, code, reason}    -> close(code, reason): true
//   {id, op: 'dispose', c}                -> abort() unless closed, then forget c: true
//   replies {t: 're', id, v} or {t: 're', id, err}; events {t: 'ev', c, e: 'open' |
//   'message' (d: its digest) | 'error' (name, message) | 'close' (code, reason, wasClean)}.
import config from 'mc/config';
import TLS from 'embedded:io/socket/tcp/tls';
import { WebSocketServer } from 'websockets/server';
import { WebSocketClient } from 'websockets/client';
import { encodeUtf8 } from 'websockets/bytes/utf8';
import { installModdablePlatform } from 'websockets/moddable-platform';
import { clientOptions, digestBytes, materialize } from 'tls-payloads';
import type { Payload, TlsTestOptions } from 'tls-payloads';

installModdablePlatform();

interface Command {
  id: number;
  op: 'connect' | 'send' | 'close' | 'dispose';
  c: number;
  url?: string;
  options?: TlsTestOptions;
  p?: Payload;
  code?: number;
  reason?: string;
}

const port = Number(config.controlPort);
const control = new WebSocketServer({ port, maxClients: 1, keepAliveInterval: 0, maxMessageSize: 256 * 1024, sendQueueSize: 64 * 1024 });
const clients = new Map<number, WebSocketClient>();
let driver = '';

function tell(value: object): void {
  if (driver) control.send(driver, JSON.stringify(value));
}

function create(c: number, options: TlsTestOptions): WebSocketClient {
  const client = new WebSocketClient(clientOptions(options, TLS));
  client.on('open', (protocol) => tell({ t: 'ev', c, e: 'open', protocol }));
  client.on('message', (data, isText) => tell({ t: 'ev', c, e: 'message', d: digestBytes(typeof data === 'string' ? encodeUtf8(data) : data, isText) }));
  client.on('error', (error) => tell({ t: 'ev', c, e: 'error', name: error.name, message: error.message }));
  client.on('close', (code, reason, wasClean) => tell({ t: 'ev', c, e: 'close', code, reason, wasClean }));
  return client;
}

function run(command: Command): unknown {
  const client = clients.get(command.c);
  switch (command.op) {
    case 'connect': {
      const fresh = create(command.c, command.options ?? {});
      clients.set(command.c, fresh);
      fresh.connect(command.url!);
      return true;
    }
    case 'send':
      return client ? client.send(materialize(command.p!)) : false;
    case 'close':
      client?.close(command.code, command.reason);
      return true;
    case 'dispose':
      if (client && client.state !== 'closed') client.abort();
      clients.delete(command.c);
      return true;
  }
  throw new Error(`unknown op ${String(command.op)}`);
}

control.on('opened', (endpoint) => {
  driver = endpoint;
});
control.on('closed', (endpoint) => {
  if (endpoint !== driver) return;
  driver = '';
  for (const client of clients.values()) if (client.state !== 'closed') client.abort();
  clients.clear();
});
control.on('message', (_endpoint, data) => {
  let command: Command;
  try {
    command = JSON.parse(String(data)) as Command;
  } catch {
    return;
  }
  try {
    tell({ t: 're', id: command.id, v: run(command) });
  } catch (error) {
    tell({ t: 're', id: command.id, err: error instanceof Error ? error.message : String(error) });
  }
});
control.on('error', (error) => trace(`control: ${error.message}\n`));
control.start();
trace(`tls driver ready on port ${port}\n`);
