// npm start: the RGB LED app on the simulator host. Serves the web app over HTTP with
// the WebSocket endpoint at /ws on the same port, drives a virtual LED that prints
// `LED #rrggbb` on every change, and takes the device's button from the keyboard:
// type `b` and Enter (or send "b\n" on stdin) to toggle the LED.
//   npm start -- [--port 8080] [--host 127.0.0.1] [--token SECRET] [--allow-host NAME,...]
// The app answers only for loopback names, this machine's addresses and the names given
// with --allow-host (any other Host header gets 421: DNS rebinding).
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';
import { HttpServer } from '../../src/net/http-server';
import { MemoryStore } from '../../src/http/static-store';
import { WebSocketServer } from '../../src/net/server';
import { LedApp, ledAccessCheck, ledHostCheck } from '../../src/apps/led-app';
import { VirtualLed } from './virtual-led';

function arg(name: string, fallback?: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const port = Number(arg('--port', process.env.PORT ?? '8080'));
const host = arg('--host', process.env.HOST ?? '127.0.0.1') as string;
const token = arg('--token', process.env.LED_TOKEN);
const extraHosts = (arg('--allow-host') ?? '').split(',').filter(Boolean);

/** The names this app answers for besides loopback: the bound address, every interface address, --allow-host. */
function knownHosts(): string[] {
  const names = [host, ...extraHosts];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) names.push(entry.family === 'IPv6' ? `[${entry.address}]` : entry.address);
  }
  return names;
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: npm start -- [--port 8080] [--host 127.0.0.1] [--token SECRET] [--allow-host NAME,...]');
  process.exit(2);
}

const dist = join(process.cwd(), 'web', 'dist');
if (!existsSync(join(dist, 'index.html'))) {
  console.error('web/dist is missing: run node scripts/build-web.mjs (npm start does it)');
  process.exit(1);
}
const store = new MemoryStore();
for (const name of ['index.html', 'app.js', 'app.css']) {
  store.set('/' + name, new Uint8Array(readFileSync(join(dist, name))));
  store.set('/' + name + '.gz', new Uint8Array(readFileSync(join(dist, name + '.gz'))), {
    encoding: 'gzip',
    contentType: store.get('/' + name)?.contentType ?? 'application/octet-stream',
  });
}

const ws = new WebSocketServer({
  isStandAlone: false,
  prefix: '/ws',
  maxClients: 8,
  checkOrigin: ledAccessCheck(token),
  maxMessageSize: 64,
  serverName: 'moddable-websockets',
});
const http = new HttpServer({
  port,
  address: host,
  store,
  websocket: { path: '/ws', server: ws },
  allowHost: ledHostCheck(knownHosts),
  maxConnections: 8,
  evictIdle: true, // a browser's idle keep-alive connections must not lock other phones out
  serverName: 'moddable-websockets',
});
const app = new LedApp(ws, new VirtualLed(), (line) => console.log(line));
ws.on('error', (error, client) => console.error(`websocket ${client ?? ''}: ${error.message}`));
http.on('error', (error) => console.error(`http: ${error.message}`));
http.start();

const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
console.log(`LED app: http://${shown}:${http.port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`);
console.log('Press b then Enter to press the button (toggle the LED).');

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'b') app.toggle();
});
const stop = (): void => {
  http.stop();
  ws.stop();
  setTimeout(() => process.exit(0), 200);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
