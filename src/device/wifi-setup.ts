// Wi-Fi set-up without a rebuild: the device joins the network it knows (the stored
// `wifi` record, else the build-time WIFI_SSID/WIFI_PASSWORD), and when it knows none,
// cannot join, or the button is held, it opens its own access point ("<name>-setup",
// WPA2) where the set-up page (GET/POST /api/setup) takes a network, a password, a name
// and a token. The radio is an injected WifiDriver: Moddable's `wifi` on the ESP32
// (hosts/esp32/wifi-driver.ts), a simulated one on the sim hosts (simulated-wifi.ts).
//
// Modes (GET /api/setup's "mode"):
//   "setup"   the access point is up, waiting for the form (the station may still be
//             joined, after a long press: then `address` is set);
//   "joining" trying credentials (the access point stays up if it was);
//   "online"  joined: `address` holds the IP. After a join made while the access point
//             was up, the access point stops `apStopDelay` ms later, so the set-up page
//             can still show the result.
// A failed join (the driver's reason, or no result within `joinTimeout`) falls back to
// "setup" with `error` in words. The last known credentials are tried again every
// `retryInterval` ms while nobody uses the set-up page (a router that boots slower than
// the device after a power cut), unless the password was refused.
// Nothing here throws into a driver or timer callback (on a device that reboots it).

import Timer from 'timer';
import { utf8Length } from '../bytes/utf8';
import { defaultDeviceName, isDeviceName, MAX_SSID_BYTES, setupSsid } from './device-name';
import { readRecord } from './records';
import type { RecordStore } from './records';
import { errorText } from './error-text';

type TimerId = ReturnType<typeof Timer.set>;

/** One network a scan found. */
export interface WifiNetwork {
  ssid: string;
  /** dBm, e.g. -52. */
  rssi: number;
  /** Needs a password (WEP/WPA/WPA2/WPA3). */
  secure: boolean;
}

/** A join's outcome: the station's IPv4 address, or why it failed in words ("wrong password", "network not found"...). */
export type JoinResult = { address: string } | { error: string };

/** The radio, as the set-up needs it. Every callback runs later (never inside the call), at most once per call. */
export interface WifiDriver {
  /** The station's MAC address ("30:ae:a4:1a:2b:3c"); '' when unknown. */
  readonly mac: string;
  /** Set by WifiSetup: the joined station lost its network (after a join reported an address). */
  onLost: (() => void) | null;
  /** Scan for networks; `done` gets them (an empty list when the scan failed). */
  scan(done: (networks: WifiNetwork[]) => void): void;
  /** Join a network as a station (leaving any other); `done` gets the address or the reason it failed. */
  join(ssid: string, password: string, done: (result: JoinResult) => void): void;
  /** Stop joining or leave the network; a pending join's `done` is not called. */
  leave(): void;
  /** Open the access point (WPA2 with `password`, the station kept as it is). */
  startAccessPoint(ssid: string, password: string): void;
  stopAccessPoint(): void;
}

export type WifiMode = 'setup' | 'joining' | 'online';

/** GET /api/setup. */
export interface SetupStatus {
  name: string;
  mode: WifiMode;
  /** The network the device joins or last tried ('' when none is known). */
  ssid: string;
  /** The last join failure in words, '' when none. */
  error: string;
  scanning: boolean;
  networks: readonly WifiNetwork[];
  /** The station's IP address, when joined. */
  address?: string;
}

/** A valid POST /api/setup body. */
export interface SetupForm {
  ssid: string;
  /** '' for an open network. */
  password: string;
  /** Absent: keep the current name. */
  name?: string;
  /** Absent: keep the current token; '' none. */
  token?: string;
}

/**
 * What changed (read the getters for the new values): 'mode' (the mode, or the station's
 * address within set-up), 'name' and 'token' (a form changed them), 'access-point' (up or
 * down), 'networks' (a scan started or ended).
 */
export type WifiSetupEvent = 'mode' | 'name' | 'token' | 'access-point' | 'networks';

export interface WifiSetupOptions {
  /** Build-time credentials (WIFI_SSID/WIFI_PASSWORD), used when no `wifi` record is stored. */
  fallback?: { ssid: string; password: string } | null;
  /** The name when none is stored (config); default from the MAC: "atom-led-xxxx". */
  name?: string;
  /** The set-up access point's WPA2 password (default "ledsetup"). */
  setupPassword?: string;
  /** ms to wait for a join's result (default 20000). */
  joinTimeout?: number;
  /** ms between a form's acceptance and the join, so the 202 leaves before the radio changes (default 1000). */
  joinDelay?: number;
  /** ms the access point stays up after a successful join (default 10000). */
  apStopDelay?: number;
  /** ms between attempts to rejoin the known network while in set-up (default 60000; 0: never). */
  retryInterval?: number;
  /** ms after which a set-up entered by the button, with the station still joined, closes unused (default 600000; 0: never). */
  setupTimeout?: number;
  /** ms to wait for a scan's result (default 15000). */
  scanTimeout?: number;
  /** Where to report what happens (a host's trace). */
  log?: (line: string) => void;
}

/** The record key of the credentials, name and token. */
export const WIFI_RECORD_KEY = 'wifi';
export const DEFAULT_SETUP_PASSWORD = 'ledsetup';
/** The error texts of the drivers and the timeout. */
export const WRONG_PASSWORD = 'wrong password';
export const NETWORK_NOT_FOUND = 'network not found';
export const NO_ANSWER = 'no answer from the network';
/** The most networks a scan keeps (the strongest ones): bounds memory and the JSON. */
export const MAX_NETWORKS = 16;

const MAX_PASSWORD = 63;
const MIN_PASSWORD = 8;
const MAX_TOKEN = 64;
const FORM_FIELDS = ['ssid', 'password', 'name', 'token'];

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** '' or 1..64 printable ASCII characters without spaces. */
export function isToken(text: string): boolean {
  if (text.length > MAX_TOKEN) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** A POST /api/setup body checked field by field: the form, or one sentence saying what is wrong. */
export function checkSetupForm(value: unknown): { form: SetupForm } | { error: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'the body must be a JSON object' };
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    if (FORM_FIELDS.indexOf(key) < 0) return { error: `unknown field "${key.length > 32 ? key.slice(0, 32) + '...' : key}"` };
  }
  const { ssid, password, name, token } = fields;
  if (typeof ssid !== 'string') return { error: 'ssid must be a string' };
  const ssidBytes = utf8Length(ssid);
  if (ssidBytes < 1 || ssidBytes > MAX_SSID_BYTES) return { error: 'ssid must be 1 to 32 bytes long' };
  if (hasControlCharacter(ssid)) return { error: 'ssid must not contain control characters' };
  if (password !== undefined && typeof password !== 'string') return { error: 'password must be a string' };
  const pass = password ?? '';
  const passBytes = utf8Length(pass);
  if (passBytes !== 0 && (passBytes < MIN_PASSWORD || passBytes > MAX_PASSWORD)) {
    return { error: 'password must be empty (an open network) or 8 to 63 characters long' };
  }
  if (hasControlCharacter(pass)) return { error: 'password must not contain control characters' };
  const form: SetupForm = { ssid, password: pass };
  if (name !== undefined) {
    if (typeof name !== 'string') return { error: 'name must be a string' };
    if (name !== '') {
      if (!isDeviceName(name)) {
        return { error: "name must be 1 to 63 characters: lowercase letters, digits and '-', not starting or ending with '-'" };
      }
      form.name = name;
    }
  }
  if (token !== undefined) {
    if (typeof token !== 'string') return { error: 'token must be a string' };
    if (!isToken(token)) return { error: 'token must be empty or 1 to 64 printable ASCII characters without spaces' };
    form.token = token;
  }
  return { form };
}

/** The strongest entry per SSID, strongest first, hidden networks dropped, at most MAX_NETWORKS. */
export function tidyNetworks(found: readonly WifiNetwork[]): WifiNetwork[] {
  const kept: WifiNetwork[] = [];
  for (let i = 0; i < found.length; i++) {
    const item = found[i];
    if (!item || typeof item.ssid !== 'string' || typeof item.rssi !== 'number' || item.rssi !== item.rssi) continue;
    const bytes = utf8Length(item.ssid);
    if (bytes < 1 || bytes > MAX_SSID_BYTES) continue;
    let same = -1;
    for (let k = 0; k < kept.length; k++) if (kept[k].ssid === item.ssid) same = k;
    if (same < 0) kept.push({ ssid: item.ssid, rssi: item.rssi, secure: item.secure === true });
    else if (item.rssi > kept[same].rssi) kept[same] = { ssid: item.ssid, rssi: item.rssi, secure: item.secure === true };
  }
  kept.sort((a, b) => b.rssi - a.rssi);
  if (kept.length > MAX_NETWORKS) kept.length = MAX_NETWORKS;
  return kept;
}


export class WifiSetup {
  /** Called after every change (never inside a driver call); exceptions are logged, not passed on. */
  onChange: ((event: WifiSetupEvent) => void) | null = null;

  private readonly driver: WifiDriver;
  private readonly records: RecordStore;
  private readonly log: ((line: string) => void) | undefined;
  private readonly _setupPassword: string;
  private readonly joinTimeout: number;
  private readonly joinDelay: number;
  private readonly apStopDelay: number;
  private readonly retryInterval: number;
  private readonly setupTimeout: number;
  private readonly scanTimeout: number;

  private _mode: WifiMode = 'setup';
  private _name: string;
  /** The stored token; undefined when the record has none. */
  private _token: string | undefined;
  private credentials: { ssid: string; password: string } | null = null;
  private _error = '';
  private _address = '';
  private apSsid = '';
  private _networks: WifiNetwork[] = [];
  private _scanning = false;
  private started = false;

  /** Counts joins, so that a superseded join's late result is ignored. */
  private joinGeneration = 0;
  /** The join waiting for `joinDelay` to pass (the driver is not asked yet). */
  private joinPending = false;
  private scanGeneration = 0;
  private joinTimer: TimerId | null = null;
  private scanTimer: TimerId | null = null;
  private apStopTimer: TimerId | null = null;
  private retryTimer: TimerId | null = null;
  private setupTimer: TimerId | null = null;

  constructor(driver: WifiDriver, records: RecordStore, options: WifiSetupOptions = {}) {
    this.driver = driver;
    this.records = records;
    this.log = options.log;
    this._setupPassword = options.setupPassword ?? DEFAULT_SETUP_PASSWORD;
    this.joinTimeout = options.joinTimeout ?? 20000;
    this.joinDelay = options.joinDelay ?? 1000;
    this.apStopDelay = options.apStopDelay ?? 10000;
    this.retryInterval = options.retryInterval ?? 60000;
    this.setupTimeout = options.setupTimeout ?? 600000;
    this.scanTimeout = options.scanTimeout ?? 15000;

    let mac = '';
    try {
      mac = driver.mac;
    } catch (error) {
      this.log?.(`wifi: cannot read the MAC address: ${errorText(error)}`);
    }
    this._name = isDeviceName(options.name) ? options.name : defaultDeviceName(mac);

    const record = readRecord(records, WIFI_RECORD_KEY);
    const checked = record ? checkSetupForm(record) : null;
    if (checked && 'form' in checked) {
      const form = checked.form;
      this.credentials = { ssid: form.ssid, password: form.password };
      if (form.name !== undefined) this._name = form.name;
      this._token = form.token;
    } else {
      if (checked) this.log?.(`wifi: the stored settings are not valid (${checked.error}); ignoring them`);
      const fallback = options.fallback;
      if (fallback && fallback.ssid) this.credentials = { ssid: fallback.ssid, password: fallback.password ?? '' };
    }
    driver.onLost = () => this.guarded('network lost', () => this.lost());
  }

  get mode(): WifiMode {
    return this._mode;
  }

  /** The device name (stored, configured, or from the MAC). */
  get name(): string {
    return this._name;
  }

  /** The stored token; undefined when none was ever set here (the app's configured token applies). */
  get token(): string | undefined {
    return this._token;
  }

  /** The station's IP address ('' when not joined). */
  get address(): string {
    return this._address;
  }

  /** The last join failure ('' when none). */
  get error(): string {
    return this._error;
  }

  /** The network the device joins or last tried ('' when none is known). */
  get ssid(): string {
    return this.credentials ? this.credentials.ssid : '';
  }

  get accessPointUp(): boolean {
    return this.apSsid !== '';
  }

  /** The access point's SSID while it is up, else the one it would have. */
  get accessPointSsid(): string {
    return this.apSsid || setupSsid(this._name);
  }

  /**
   * Set-up is open: the access point is up (someone pressed the button, or no network
   * could be joined) or the device is not online yet. The API's token is waived then.
   */
  get setupOpen(): boolean {
    return this.apSsid !== '' || this._mode !== 'online';
  }

  get setupPassword(): string {
    return this._setupPassword;
  }

  get scanning(): boolean {
    return this._scanning;
  }

  get networks(): readonly WifiNetwork[] {
    return this._networks;
  }

  /** GET /api/setup. */
  status(): SetupStatus {
    const status: SetupStatus = {
      name: this._name,
      mode: this._mode,
      ssid: this.ssid,
      error: this._error,
      scanning: this._scanning,
      networks: this._networks,
    };
    if (this._address) status.address = this._address;
    return status;
  }

  /** Join the known network, or open the set-up access point when there is none. Once. */
  start(): void {
    if (this.started) return;
    const credentials = this.credentials;
    if (credentials) {
      this.log?.(`wifi: joining "${credentials.ssid}"`);
      this.join(0);
    } else {
      this.log?.('wifi: no network known');
      this.openSetup();
    }
  }

  /** The button's long press: open the access point (a joined station stays joined). */
  enterSetup(): void {
    this.cancelJoin();
    this.clearTimer('retry');
    this.openSetup();
    this.clearTimer('setup');
    if (this._address && this.setupTimeout > 0) {
      this.setupTimer = Timer.set(() => {
        this.setupTimer = null;
        this.guarded('set-up timeout', () => {
          this.log?.('wifi: set-up unused; closing the access point');
          this.leaveSetup();
        });
      }, this.setupTimeout);
    }
  }

  /** Close set-up while the station is joined (mode "online"); false when not joined. */
  leaveSetup(): boolean {
    if (!this._address || this._mode !== 'setup') return false;
    this.clearTimer('setup');
    this.clearTimer('apStop');
    this.stopAccessPoint();
    this.setMode('online');
    return true;
  }

  /** A set-up page request: postpones the background rejoin (it would disturb the page's access point). */
  notePageActivity(): void {
    if (this.retryTimer) this.scheduleRetry();
  }

  /**
   * POST /api/setup: check the form, store it, join. '' when accepted (mode "joining"),
   * else what is wrong with it (nothing changed).
   */
  submit(body: unknown): string {
    const checked = checkSetupForm(body);
    if ('error' in checked) return checked.error;
    const form = checked.form;
    const name = form.name ?? this._name;
    const token = form.token !== undefined ? form.token : this._token;
    const stored = readRecord(this.records, WIFI_RECORD_KEY);
    const record: SetupForm = { ssid: form.ssid, password: form.password };
    if (form.name !== undefined || (stored && isDeviceName(stored.name))) record.name = name;
    if (token !== undefined) record.token = token;
    try {
      this.records.write(WIFI_RECORD_KEY, JSON.stringify(record));
    } catch (error) {
      this.log?.(`wifi: cannot store the settings (they last until a restart): ${errorText(error)}`);
    }
    this.credentials = { ssid: form.ssid, password: form.password };
    this._error = '';
    this.clearTimer('retry');
    this.clearTimer('setup');
    this.clearTimer('apStop');
    const nameChanged = name !== this._name;
    const tokenChanged = token !== this._token;
    this._name = name;
    this._token = token;
    if (nameChanged) this.emit('name');
    if (tokenChanged) this.emit('token');
    this.log?.(`wifi: set-up accepted; joining "${form.ssid}"`);
    this.join(this.joinDelay);
    return '';
  }

  /** Start a scan (POST /api/setup/scan); the results replace `networks` when it ends. False when one is already running. */
  scan(): boolean {
    if (this._scanning) return false;
    this._scanning = true;
    const generation = ++this.scanGeneration;
    this.scanTimer = Timer.set(() => {
      this.scanTimer = null;
      this.guarded('scan timeout', () => this.scanned(generation, null));
    }, this.scanTimeout);
    this.emit('networks');
    try {
      this.driver.scan((networks) => this.guarded('scan result', () => this.scanned(generation, networks)));
    } catch (error) {
      this.log?.(`wifi: cannot scan: ${errorText(error)}`);
      this.scanned(generation, null);
    }
    return true;
  }

  /** Stop every timer and stop listening to the driver (tests, a host shutting down). */
  close(): void {
    this.joinGeneration++;
    this.scanGeneration++;
    this.joinPending = false;
    this._scanning = false;
    this.clearTimer('join');
    this.clearTimer('scan');
    this.clearTimer('apStop');
    this.clearTimer('retry');
    this.clearTimer('setup');
    this.driver.onLost = null;
  }

  // --- joining --------------------------------------------------------------------

  /** Join the known credentials after `delay` ms (0: now). */
  private join(delay: number): void {
    const credentials = this.credentials;
    if (!credentials) return;
    this.cancelJoin();
    const generation = this.joinGeneration;
    this._address = '';
    this.setMode('joining');
    if (delay > 0) {
      this.joinPending = true;
      this.joinTimer = Timer.set(() => {
        this.joinTimer = null;
        this.guarded('join', () => {
          if (generation === this.joinGeneration && this.joinPending) this.askDriver(generation);
        });
      }, delay);
    } else {
      this.askDriver(generation);
    }
  }

  private askDriver(generation: number): void {
    const credentials = this.credentials;
    if (!credentials) return;
    this.joinPending = false;
    this.joinTimer = Timer.set(() => {
      this.joinTimer = null;
      this.guarded('join timeout', () => this.joinFailed(generation, NO_ANSWER));
    }, this.joinTimeout);
    try {
      this.driver.join(credentials.ssid, credentials.password, (result) =>
        this.guarded('join result', () => this.joined(generation, result)),
      );
    } catch (error) {
      this.joinFailed(generation, `could not start joining: ${errorText(error)}`);
    }
  }

  private joined(generation: number, result: JoinResult): void {
    if (generation !== this.joinGeneration || this._mode !== 'joining' || this.joinPending) return;
    const address = result && 'address' in result ? result.address : undefined;
    if (typeof address !== 'string' || address === '') {
      const error = result && 'error' in result && typeof result.error === 'string' && result.error ? result.error : 'could not join the network';
      this.joinFailed(generation, error);
      return;
    }
    this.joinGeneration++; // the join is over: its timer and any late report are void
    this.clearTimer('join');
    this._address = address;
    this._error = '';
    this.log?.(`wifi: joined "${this.ssid}" as ${address}`);
    if (this.apSsid) {
      this.clearTimer('apStop');
      this.apStopTimer = Timer.set(() => {
        this.apStopTimer = null;
        this.guarded('access point stop', () => {
          if (this._mode === 'online') this.stopAccessPoint();
        });
      }, this.apStopDelay);
    }
    this.setMode('online');
  }

  private joinFailed(generation: number, error: string): void {
    if (generation !== this.joinGeneration) return;
    this.cancelJoin();
    this._error = error;
    this.log?.(`wifi: cannot join "${this.ssid}": ${error}`);
    this.openSetup();
    if (error !== WRONG_PASSWORD) this.scheduleRetry();
  }

  /** Forget the join in progress (its late result is ignored) and tell the driver to stop. */
  private cancelJoin(): void {
    const wasJoining = this._mode === 'joining';
    this.joinGeneration++;
    this.joinPending = false;
    this.clearTimer('join');
    if (!wasJoining) return;
    this._address = '';
    try {
      this.driver.leave();
    } catch (error) {
      this.log?.(`wifi: leaving failed: ${errorText(error)}`);
    }
  }

  private lost(): void {
    if (!this._address) return;
    this.log?.(`wifi: lost "${this.ssid}"`);
    this._address = '';
    if (this._mode === 'online') {
      this.join(0);
      return;
    }
    this.emit('mode'); // in set-up: the address is gone from the status
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.clearTimer('retry');
    if (this.retryInterval <= 0 || !this.credentials) return;
    this.retryTimer = Timer.set(() => {
      this.retryTimer = null;
      this.guarded('rejoin', () => {
        if (this._mode !== 'setup' || this._address || !this.credentials) return;
        this.log?.(`wifi: trying "${this.credentials.ssid}" again`);
        this.join(0);
      });
    }, this.retryInterval);
  }

  // --- access point and scan -----------------------------------------------------

  private openSetup(): void {
    this.clearTimer('apStop');
    if (!this.apSsid) {
      const ssid = setupSsid(this._name);
      try {
        this.driver.startAccessPoint(ssid, this._setupPassword);
        this.apSsid = ssid;
        this.log?.(`wifi: set-up access point "${ssid}" (password "${this._setupPassword}")`);
        this.emit('access-point');
      } catch (error) {
        this.log?.(`wifi: cannot open the set-up access point: ${errorText(error)}`);
      }
      if (this.apSsid && !this._scanning) this.scan();
    }
    this.setMode('setup');
  }

  private stopAccessPoint(): void {
    if (!this.apSsid) return;
    this.apSsid = '';
    try {
      this.driver.stopAccessPoint();
    } catch (error) {
      this.log?.(`wifi: cannot stop the access point: ${errorText(error)}`);
    }
    this.log?.('wifi: set-up access point closed');
    this.emit('access-point');
  }

  private scanned(generation: number, networks: readonly WifiNetwork[] | null): void {
    if (generation !== this.scanGeneration) return;
    this.scanGeneration++;
    this.clearTimer('scan');
    this._scanning = false;
    if (networks) this._networks = tidyNetworks(networks);
    else this.log?.('wifi: the scan brought no result');
    this.emit('networks');
  }

  // --- plumbing ------------------------------------------------------------------

  private setMode(mode: WifiMode): void {
    if (mode === this._mode && this.started) return;
    this.started = true; // the first mode is reported even when it is the initial one
    this._mode = mode;
    this.emit('mode');
  }

  private clearTimer(which: 'join' | 'scan' | 'apStop' | 'retry' | 'setup'): void {
    const key = `${which}Timer` as 'joinTimer' | 'scanTimer' | 'apStopTimer' | 'retryTimer' | 'setupTimer';
    const timer = this[key];
    if (timer) Timer.clear(timer);
    this[key] = null;
  }

  private emit(event: WifiSetupEvent): void {
    const hook = this.onChange;
    if (!hook) return;
    try {
      hook(event);
    } catch (error) {
      this.log?.(`wifi: the onChange hook threw on "${event}": ${errorText(error)}`);
    }
  }

  /** Runs a callback's work; an exception is logged, never passed to the driver or timer. */
  private guarded(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.log?.(`wifi: ${what}: ${errorText(error)}`);
    }
  }
}
