// The RGB LED device on Moddable (the ESP32 and the Moddable simulator): the twin of
// hosts/sim/led-main.ts, both composed by src/apps/led-device.ts. HttpServer serves the
// web app and the set-up page from the app's resources (flash on the device), the /api
// routes, and hands WebSocket upgrades at /ws to a WebSocketServer; LedApp drives the
// board's LED ('led-driver': hosts/esp32/led.ts on the ESP32, a virtual LED that traces
// `LED #rrggbb` in the simulator); the board's button gives three gestures (short: on/off,
// double: next preset, long: set-up); the LED state and the Wi-Fi settings are kept with
// Preference (NVS on the ESP32; on the simulator a JSON file in mcsim's working
// directory: the manifest sets the file root to "./"); the radio ('led-radio') is
// Moddable's Wi-Fi and mDNS on the ESP32, simulated ones on the desktop.
//
// Settings come from the manifest's "config" (or `mcconfig ... port=8080 token=SECRET`):
//   port (default 80), token (default none: browsers must be served by this device;
//   a token given on the set-up page replaces it), name (default atom-led-<MAC>),
//   ssid + password (build-time Wi-Fi, used while none is stored), setupPassword (the
//   set-up access point's WPA2 password, default ledsetup), maxClients (WebSocket
//   clients, default 8), maxConnections (HTTP, default 4), hosts (names besides the
//   device's addresses, its .local name and loopback that the app answers for,
//   comma-separated; any other Host header gets 421: DNS rebinding).
// Buffer sizes are chosen for the Atom Lite's fixed XS heap (LED_BUFFERS below); the
// LED protocol's messages are 3 bytes. The limits come from the slot heap, not from
// buffers: measured with npm run bench:moddable-memory (docs/MEMORY.md).
import config from 'mc/config';
import Net from 'net';
import Preference from 'preference';
import { LedDevice } from 'websockets/apps/led-device';
import { installModdablePlatform } from 'websockets/moddable-platform';
import { AtomLed, watchButton } from 'led-driver';
import { createRadio, simulated } from 'led-radio';
import { ResourceStore } from 'websockets/resource-store';
import { PreferenceRecords } from 'websockets/preference-records';

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
    maxHeaderSize: 1024, // request head (431 beyond), then a POST's body (512 at most), then the response head
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
const store = new ResourceStore(['index.html', 'app.js', 'app.css', 'setup.html', 'setup.js']);
const configuredHosts = (setting('hosts') ?? '').split(',').filter((name) => name !== '');
const ssid = setting('ssid');
const radio = createRadio();

/** Log lines go to the trace (the serial log on the device). */
function logLine(line: string): void {
  trace(line + '\n');
}

export const device = new LedDevice({
  port,
  store,
  led: new AtomLed(),
  records: new PreferenceRecords(Preference, 'led'),
  wifi: radio.wifi,
  mdns: radio.mdns,
  token: setting('token'),
  name: setting('name'),
  fallback: ssid ? { ssid, password: setting('password') ?? '' } : null,
  setupPassword: setting('setupPassword'),
  setupAddress: simulated ? '127.0.0.1' : undefined,
  // the device's addresses now (DHCP may change them) and config.hosts
  hosts: () => [Net.get('IP', 'station'), Net.get('IP', 'ap'), ...configuredHosts],
  log: logLine,
  maxClients: numberSetting('maxClients', 8),
  maxConnections: numberSetting('maxConnections', 4),
  ws: LED_BUFFERS.ws,
  http: LED_BUFFERS.http,
});
export const { ws, http, app } = device;
const button = device.button;
const hasButton = watchButton((pressed) => button.changed(pressed));
device.start();
trace(`LED app: http://<device>:${http.port}/${device.token ? '?token=<token>' : ''} serving ${store.paths.join(' ')}\n`);
if (simulated) trace('Wi-Fi and mDNS are simulated here: nothing is sent; the lines below say what a device would do.\n');
if (!hasButton) trace('No button on this host.\n');
