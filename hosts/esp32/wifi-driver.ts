// The ESP32's WifiDriver (src/device/wifi-setup.ts) over Moddable's `wifi` and `net`
// modules. What it relies on (modules/network/wifi/esp32, modules/network/net/esp):
// - The radio starts as a station here: Net.get("MAC") answers only once it runs, and a
//   scan needs the station. The access point is always opened with `station: true`
//   (mode 3), so the station can scan and join while the set-up page is served.
// - With station and access point both up, Net.get("IP") has no default interface:
//   always ask for "station".
// - WiFi.connect() retries by itself (5 times) and reports "disconnect" only when it gave
//   up, with reason -1 when the password was refused; "gotIP" once the station has its
//   addresses. A "disconnect" also follows a leave or a new join of a joined station; one
//   arriving within INDUCED_DISCONNECT_MS of such a change is that, not an answer.
// - "network not found" is inferred from the last scan (the SDK does not say why a join
//   failed, besides a refused password).
// Every radio callback is guarded: an exception must not reach the SDK (the device would
// reboot).
import WiFi from 'wifi';
import Net from 'net';
import Time from 'time';
import { NETWORK_NOT_FOUND, WRONG_PASSWORD } from 'websockets/device/wifi-setup';
import type { JoinResult, WifiDriver, WifiNetwork } from 'websockets/device/wifi-setup';
import { errorText } from 'websockets/device/error-text';

const STATION = 1;
const ACCESS_POINT = 2;
const STATION_AND_ACCESS_POINT = 3;
/** A "disconnect" this soon (ms) after we left or re-joined is the old connection's. */
const INDUCED_DISCONNECT_MS = 1500;
/** The most scan entries kept (the strongest): a crowded place must not fill the heap. */
const MAX_SCAN_ENTRIES = 24;


export class Esp32WifiDriver implements WifiDriver {
  onLost: (() => void) | null = null;
  private readonly events: WiFi;
  private state: 'idle' | 'joining' | 'joined' = 'idle';
  private done: ((result: JoinResult) => void) | null = null;
  private ssid = '';
  /** SSIDs of the last scan (null before the first). */
  private seen: string[] | null = null;
  private changedAt = 0;
  private changed = false;

  constructor() {
    const mode = WiFi.mode;
    if (mode !== STATION && mode !== STATION_AND_ACCESS_POINT) WiFi.mode = mode === ACCESS_POINT ? STATION_AND_ACCESS_POINT : STATION;
    this.events = new WiFi(undefined, (event: string, reason?: number) => this.event(event, reason));
  }

  get mac(): string {
    return Net.get('MAC', 'station') ?? '';
  }

  scan(done: (networks: WifiNetwork[]) => void): void {
    const found: WifiNetwork[] = [];
    WiFi.scan({}, (item) => {
      try {
        if (item) {
          keepStrongest(found, { ssid: item.ssid, rssi: item.rssi, secure: item.authentication !== 'none' });
          return;
        }
        const seen: string[] = [];
        for (let i = 0; i < found.length; i++) seen.push(found[i].ssid);
        this.seen = seen;
        done(found);
      } catch (error) {
        trace(`wifi: scan: ${errorText(error)}\n`);
      }
    });
  }

  join(ssid: string, password: string, done: (result: JoinResult) => void): void {
    this.markChange();
    this.state = 'joining';
    this.done = done;
    this.ssid = ssid;
    const mode = WiFi.mode;
    if (mode !== STATION && mode !== STATION_AND_ACCESS_POINT) WiFi.mode = mode === ACCESS_POINT ? STATION_AND_ACCESS_POINT : STATION;
    WiFi.connect(password ? { ssid, password } : { ssid });
  }

  leave(): void {
    if (this.state === 'idle') return;
    this.markChange();
    this.state = 'idle';
    this.done = null;
    WiFi.disconnect();
  }

  startAccessPoint(ssid: string, password: string): void {
    const options = password ? { ssid, password, station: true } : { ssid, station: true };
    WiFi.accessPoint(options);
  }

  stopAccessPoint(): void {
    const mode = WiFi.mode;
    if (mode === STATION_AND_ACCESS_POINT || mode === ACCESS_POINT) WiFi.mode = STATION;
  }

  /** Stop listening to the radio. */
  close(): void {
    this.events.close();
  }

  private markChange(): void {
    if (this.state === 'idle') return;
    this.changed = true;
    this.changedAt = Time.ticks;
  }

  private event(event: string, reason?: number): void {
    try {
      if (event === 'gotIP') {
        if (this.state !== 'joining') return;
        this.state = 'joined';
        this.finish({ address: Net.get('IP', 'station') ?? '0.0.0.0' });
      } else if (event === 'disconnect') {
        if (this.changed && Time.ticks - this.changedAt < INDUCED_DISCONNECT_MS) return;
        this.changed = false;
        if (this.state === 'joining') {
          this.state = 'idle';
          const seen = this.seen;
          const error = reason === -1 ? WRONG_PASSWORD : seen && seen.indexOf(this.ssid) < 0 ? NETWORK_NOT_FOUND : 'could not join the network';
          this.finish({ error });
        } else if (this.state === 'joined') {
          this.state = 'idle';
          const lost = this.onLost;
          if (lost) lost();
        }
      }
    } catch (error) {
      trace(`wifi: ${event}: ${errorText(error)}\n`);
    }
  }

  private finish(result: JoinResult): void {
    const done = this.done;
    this.done = null;
    if (done) done(result);
  }
}

/** Add `network` to `list`, keeping at most MAX_SCAN_ENTRIES: the weakest goes. */
function keepStrongest(list: WifiNetwork[], network: WifiNetwork): void {
  if (list.length < MAX_SCAN_ENTRIES) {
    list.push(network);
    return;
  }
  let weakest = 0;
  for (let i = 1; i < list.length; i++) if (list[i].rssi < list[weakest].rssi) weakest = i;
  if (network.rssi > list[weakest].rssi) list[weakest] = network;
}
