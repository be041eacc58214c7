// The RGB LED app on Moddable (the ESP32 and the Moddable simulator): the twin of
// hosts/sim/led-main.ts. HttpServer serves the web app from the app's resources (flash
// on the device) and hands WebSocket upgrades at /ws to a WebSocketServer; LedApp
// drives the board's LED ('led-driver': hosts/esp32/led.ts on the ESP32, a virtual LED
// that traces `LED #rrggbb` in the simulator) and the board's button toggles it.
//
// Settings come from the manifest's "config" (or `mcconfig ... port=8080 token=SECRET`):
//   port (default 80), token (default none: browsers must be served by this device),
//   maxClients (WebSocket clients, default 8), maxConnections (HTTP, default 4),
//   hosts (names besides the device's addresses and loopback that the app answers for,
//   comma-separated; any other Host header gets 421: DNS rebinding).
// Buffer sizes are chosen for the Atom Lite's fixed XS heap (LED_BUFFERS below); the
// LED protocol's messages are 3 bytes. The limits come from the slot heap, not from
// buffers: with the m5atom_lite creation (4,928 slots), measured in the simulator
// (npm run bench:moddable-memory), the app idles at ~460 slots (our modules are
// preloaded into flash), each WebSocket client holds ~244 slots and each idle
// keep-alive HTTP connection ~53; 8 browser clients used 2,667 slots.
import config from 'mc/config';
import { HttpServer } from 'websockets/http-server';
import { WebSocketServer } from 'websockets/server';
import { LedApp, ledAccessCheck, ledHostCheck } from 'websockets/apps/led-app';
import Net from 'net';
import { installModdablePlatform } from 'websockets/moddable-platform';
import { AtomLed, watchButton } from 'led-driver';
import { ResourceStore } from 'websockets/resource-store';

/** Per-connection buffer sizes (bytes). Options of the servers, not code. */
export const LED_BUFFERS = {
  ws: {
    maxMessageSize: 64, // parser message buffer: [R, G, B] is 3 bytes; longer text gets 1009
    readBufferSize: 128, // bytes per socket read
    sendBufferSize: 128, // encoder scratch (the encoder's minimum; a close frame fits)
    // Bytes queued while the socket cannot take more. SocketLink keeps 278 bytes of it for
    // control frames (2 x (125 + 14)) and admits a message only into the rest, and the
    // 101 response (~160 bytes) may sit in it when 'opened' sends the colour (lin: an
    // accepted socket can write nothing before its first onWritable). 512 leaves room
    // for that first colour; at 256 it was silently dropped.
    sendQueueSize: 512,
    maxHeaderSize: 1024, // only for a 503 refusal: the HTTP server reads the upgrade head
  },
  http: {
    readBufferSize: 256, // bytes per read and pipelined bytes held
    maxHeaderSize: 1024, // request head (431 beyond), then the response head
  },
};

function setting(name: string): string | undefined {
  const value = (config as { readonly [name: string]: unknown })[name];
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function numberSetting(name: string, fallback: number): number {
  const text = setting(name);
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`config.${name}: not a whole number: ${text}`);
  return value;
}

installModdablePlatform();

const port = numberSetting('port', 80);
const token = setting('token');
const store = new ResourceStore(['index.html', 'app.js', 'app.css']);
const configuredHosts = (setting('hosts') ?? '').split(',').filter((name) => name !== '');

/** The names the app answers for besides loopback: the device's addresses (now: DHCP may change them) and config.hosts. */
function knownHosts(): (string | undefined)[] {
  return [Net.get('IP'), Net.get('IP', 'ap'), ...configuredHosts];
}

export const ws = new WebSocketServer({
  isStandAlone: false,
  prefix: '/ws',
  maxClients: numberSetting('maxClients', 8),
  checkOrigin: ledAccessCheck(token),
  serverName: 'moddable-websockets',
  ...LED_BUFFERS.ws,
});
export const http = new HttpServer({
  port,
  store,
  websocket: { path: '/ws', server: ws },
  allowHost: ledHostCheck(knownHosts),
  maxConnections: numberSetting('maxConnections', 4),
  evictIdle: true, // a browser's idle keep-alive connections must not lock other phones out
  serverName: 'moddable-websockets',
  ...LED_BUFFERS.http,
});
/** The LED app's reports (a client falling behind, catching up), on the trace. */
function logLine(line: string): void {
  trace(line + '\n');
}

export const app = new LedApp(ws, new AtomLed(), logLine);
ws.on('error', (error, client) => trace(`websocket ${client ?? ''}: ${error.message}\n`));
http.on('error', (error) => trace(`http: ${error.message}\n`));
watchButton(() => app.toggle());
http.start();
trace(`LED app: http://<device>:${http.port}/${token ? '?token=<token>' : ''} serving ${store.paths.join(' ')}\n`);
