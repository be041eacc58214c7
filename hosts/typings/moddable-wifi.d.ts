// Our declarations of Moddable's `wifi` module (modules/network/wifi) as
// hosts/esp32/wifi-driver.ts uses it, written from the module's public sources and
// documentation (documentation/network/network.md, "class WiFi"). Facts the driver relies on (ESP32):
// - new WiFi(undefined, onNotify) listens without connecting; onNotify gets "connect",
//   "gotIP" (IPv4 and IPv6 link-local both up), "lostIP", "disconnect" (after the SDK's
//   own retries, with reason -1 when the password was refused), "station_connect" and
//   "station_disconnect" (a client of our access point).
// - WiFi.connect(options) joins as a station; WiFi.connect() / WiFi.disconnect() leaves.
// - WiFi.accessPoint(options) opens the access point; `station: true` keeps the station
//   (mode 3, station + access point). A password, when given, must be 8..64 characters.
// - WiFi.mode: -5 off, 0 none, 1 station, 2 access point, 3 both; setting it changes the
//   radio's mode (1 from 3 closes the access point and keeps the station).
// - WiFi.scan(options, callback): one call per network found, then one with null; throws
//   "already scanning" while one runs, and needs the station (mode 1 or 3).
// Under mcconfig the SDK's own typings apply instead; the driver type-checks against both.

declare module 'wifi' {
  export interface WiFiScanItem {
    ssid: string;
    /** dBm. */
    rssi: number;
    /** "none", "wep", "wpa_psk", "wpa2_psk", "wpa_wpa2_psk"... */
    authentication: string;
    bssid: ArrayBuffer;
  }

  export interface WiFiStationOptions {
    ssid: string;
    /** Absent or '' for an open network. */
    password?: string;
    bssid?: ArrayBuffer;
  }

  export interface WiFiAccessPointOptions {
    ssid: string;
    /** Absent: an open access point; else 8..64 characters (WPA/WPA2). */
    password?: string;
    /** 1..13, default 1. */
    channel?: number;
    hidden?: boolean;
    /** Most clients at once (default 4). */
    max?: number;
    /** Beacon interval in ms (default 100). */
    interval?: number;
    /** Keep the station running beside the access point. */
    station?: boolean;
  }

  export type WiFiMode = -5 | 0 | 1 | 2 | 3;

  export default class WiFi {
    /** With options: connect first; with onNotify: report the radio's events to it (until close()). */
    constructor(options?: WiFiStationOptions, onNotify?: (message: string, reason?: number) => void);
    /** Stop reporting events to this object's onNotify. */
    close(): void;

    static mode: WiFiMode;
    static scan(options: { hidden?: boolean; channel?: number; active?: boolean }, callback: (item: WiFiScanItem | null) => void): void;
    /** No options: disconnect. */
    static connect(options?: WiFiStationOptions): void;
    static disconnect(): void;
    static accessPoint(options: WiFiAccessPointOptions): void;

    static readonly gotIP: 'gotIP';
    static readonly lostIP: 'lostIP';
    static readonly connected: 'connect';
    static readonly disconnected: 'disconnect';
    static readonly Mode: { readonly off: -5; readonly none: 0; readonly station: 1; readonly accessPoint: 2 };
  }
}
