// npm start: the RGB LED device on the simulator host (src/apps/led-device.ts). Serves
// the web app, the set-up page and the /api routes over HTTP with the WebSocket endpoint
// at /ws on the same port, drives a virtual LED that prints `LED #rrggbb` on every
// change, keeps the LED state and the Wi-Fi settings in a JSON file under the user's
// config directory (restored at the next start), and runs the Wi-Fi set-up against a
// simulated radio (networks "home" with password "correct-horse", "cafe" open,
// "neighbour", and "attic", which never answers). mDNS is simulated: the app prints the
// URL a device would announce; nothing is sent.
// The button is the keyboard: type a key and Enter (or send it on stdin):
//   b  short press: LED on/off     d  double press: next preset     l  long press: set-up
//
//   npm start -- [--port 8080] [--host 127.0.0.1] [--token SECRET] [--allow-host NAME,...]
//                [--name atom-led-1a2b] [--records FILE | --ephemeral] [--wifi-ssid home --wifi-password PW]
// --ephemeral keeps nothing across restarts (benchmarks and stress runs: no file written).
// The app answers only for loopback names, this machine's addresses, the device's name
// (<name>.local) and the names given with --allow-host (any other Host header gets 421:
// DNS rebinding).
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';
import { MemoryStore } from '../../src/http/static-store';
import { LedDevice } from '../../src/apps/led-device';
import { SimulatedMdns, SimulatedWifi } from '../../src/device/simulated-wifi';
import { VirtualLed } from './virtual-led';
import { JsonFileRecords, defaultRecordsFile } from './json-records';
import { MemoryRecords } from '../../src/device/records';

function arg(name: string, fallback?: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const port = Number(arg('--port', process.env.PORT ?? '8080'));
const host = arg('--host', process.env.HOST ?? '127.0.0.1') as string;
const token = arg('--token', process.env.LED_TOKEN);
const extraHosts = (arg('--allow-host') ?? '').split(',').filter(Boolean);
const recordsFile = arg('--records', process.env.LED_RECORDS) ?? defaultRecordsFile();
const ssid = arg('--wifi-ssid', process.env.WIFI_SSID);

/** The names this app answers for besides loopback and the device's: the bound address, every interface address, --allow-host. */
function knownHosts(): string[] {
  const names = [host, ...extraHosts];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) names.push(entry.family === 'IPv6' ? `[${entry.address}]` : entry.address);
  }
  return names;
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: npm start -- [--port 8080] [--host 127.0.0.1] [--token SECRET] [--allow-host NAME,...] [--name NAME] [--records FILE | --ephemeral] [--wifi-ssid SSID --wifi-password PW]');
  process.exit(2);
}

const dist = join(process.cwd(), 'web', 'dist');
if (!existsSync(join(dist, 'index.html'))) {
  console.error('web/dist is missing: run node scripts/build-web.mjs (npm start does it)');
  process.exit(1);
}
const store = new MemoryStore();
for (const name of ['index.html', 'app.js', 'app.css', 'setup.html', 'setup.js']) {
  store.set('/' + name, new Uint8Array(readFileSync(join(dist, name))));
  store.set('/' + name + '.gz', new Uint8Array(readFileSync(join(dist, name + '.gz'))), {
    encoding: 'gzip',
    contentType: store.get('/' + name)?.contentType ?? 'application/octet-stream',
  });
}

const ephemeral = process.argv.includes('--ephemeral');
const records = ephemeral ? new MemoryRecords() : new JsonFileRecords(recordsFile);
const device = new LedDevice({
  port,
  address: host,
  store,
  led: new VirtualLed(),
  records,
  wifi: new SimulatedWifi(),
  mdns: new SimulatedMdns(),
  token,
  name: arg('--name', process.env.LED_NAME),
  fallback: ssid ? { ssid, password: arg('--wifi-password', process.env.WIFI_PASSWORD) ?? '' } : null,
  hosts: knownHosts,
  setupAddress: host === '0.0.0.0' ? '127.0.0.1' : host,
  log: (line) => console.log(line),
  logError: (line) => console.error(line),
});
device.start();

const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
console.log(`LED app: http://${shown}:${device.http.port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`);
console.log(`State and Wi-Fi settings: ${ephemeral ? 'kept in memory only (--ephemeral)' : recordsFile}`);
console.log('Wi-Fi and mDNS are simulated here: nothing is sent; the lines below say what a device would do.');
console.log('Button: type b (press), d (double press) or l (long press: set-up), then Enter.');

const keys: Record<string, () => void> = {
  b: () => device.app.toggle(),
  d: () => device.app.nextPreset(),
  l: () => device.setup.enterSetup(),
};
createInterface({ input: process.stdin }).on('line', (line) => keys[line.trim()]?.());
const stop = (): void => {
  device.stop();
  setTimeout(() => process.exit(0), 200);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
