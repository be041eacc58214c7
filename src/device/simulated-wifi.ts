// A pretend radio and mDNS responder for the sim hosts (the Node sim host and Moddable's
// simulator) and the tests: the set-up page and state machine run against them as on a
// device. Results arrive later through `timer`, as a radio's do; nothing is printed
// (the app reports what WifiSetup and MdnsAnnouncer tell it).
//
// Networks: "home" (WPA2, password "correct-horse"), "cafe" (open), "neighbour" (WPA2,
// a password nobody here knows) and "attic" (WPA2, never answers: the join times out).
// A join succeeds only with the network's password (else "wrong password"); an SSID not
// in the list is "network not found". Like Moddable's access point, a set-up password
// must be empty or 8..64 characters.

import Timer from 'timer';
import { utf8Length } from '../bytes/utf8';
import { MAX_SSID_BYTES } from './device-name';
import { renamedAfterConflict } from './mdns-announcer';
import type { MdnsListener, MdnsResponder } from './mdns-announcer';
import { NETWORK_NOT_FOUND, WRONG_PASSWORD } from './wifi-setup';
import type { JoinResult, WifiDriver, WifiNetwork } from './wifi-setup';

type TimerId = ReturnType<typeof Timer.set>;

export interface SimulatedNetwork {
  ssid: string;
  /** dBm. */
  rssi: number;
  /** '' for an open network. */
  password: string;
  /** Never answers a join (no result: the set-up's timeout path). */
  silent?: boolean;
}

/** The default networks in range. */
export const SIMULATED_NETWORKS: readonly SimulatedNetwork[] = [
  { ssid: 'home', rssi: -52, password: 'correct-horse' },
  { ssid: 'cafe', rssi: -67, password: '' },
  { ssid: 'neighbour', rssi: -78, password: 'not-your-network' },
  { ssid: 'attic', rssi: -88, password: 'far-far-away', silent: true },
];

export interface SimulatedWifiOptions {
  networks?: readonly SimulatedNetwork[];
  /** Default "02:00:00:00:1a:2b" (a locally administered address): the name "atom-led-1a2b". */
  mac?: string;
  /** The station's address once joined (default "192.168.1.50"). */
  address?: string;
  /** ms until a scan's result (default 300). */
  scanDelay?: number;
  /** ms until a join's result (default 500). */
  joinDelay?: number;
}

export class SimulatedWifi implements WifiDriver {
  onLost: (() => void) | null = null;
  readonly mac: string;
  private readonly list: readonly SimulatedNetwork[];
  private readonly address: string;
  private readonly scanDelay: number;
  private readonly joinDelay: number;
  private joinTimer: TimerId | null = null;
  private scanTimer: TimerId | null = null;
  private station = '';
  private ap: { ssid: string; password: string } | null = null;
  private attempts = 0;
  /** A join to a silent network is pending. */
  private unanswered = false;

  constructor(options: SimulatedWifiOptions = {}) {
    this.list = options.networks ?? SIMULATED_NETWORKS;
    this.mac = options.mac ?? '02:00:00:00:1a:2b';
    this.address = options.address ?? '192.168.1.50';
    this.scanDelay = options.scanDelay ?? 300;
    this.joinDelay = options.joinDelay ?? 500;
  }

  /** The SSID the station is joined to ('' when none). */
  get joinedSsid(): string {
    return this.station;
  }

  /** The access point while it is up. */
  get accessPoint(): { readonly ssid: string; readonly password: string } | null {
    return this.ap;
  }

  /** Joins asked for so far. */
  get joinAttempts(): number {
    return this.attempts;
  }

  /** A join is waiting for its result. */
  get joining(): boolean {
    return this.joinTimer !== null || this.unanswered;
  }

  scan(done: (networks: WifiNetwork[]) => void): void {
    if (this.scanTimer) throw new Error('already scanning'); // as Moddable's WiFi.scan
    this.scanTimer = Timer.set(() => {
      this.scanTimer = null;
      const found: WifiNetwork[] = [];
      for (const network of this.list) found.push({ ssid: network.ssid, rssi: network.rssi, secure: network.password !== '' });
      done(found);
    }, this.scanDelay);
  }

  join(ssid: string, password: string, done: (result: JoinResult) => void): void {
    this.leave();
    this.attempts++;
    let network: SimulatedNetwork | undefined;
    for (const candidate of this.list) if (candidate.ssid === ssid) network = candidate;
    if (network?.silent) {
      this.unanswered = true; // no result until leave()
      return;
    }
    this.joinTimer = Timer.set(() => {
      this.joinTimer = null;
      if (!network) done({ error: NETWORK_NOT_FOUND });
      else if (network.password !== password) done({ error: WRONG_PASSWORD });
      else {
        this.station = ssid;
        done({ address: this.address });
      }
    }, this.joinDelay);
  }

  leave(): void {
    if (this.joinTimer) Timer.clear(this.joinTimer);
    this.joinTimer = null;
    this.unanswered = false;
    this.station = '';
  }

  startAccessPoint(ssid: string, password: string): void {
    const bytes = utf8Length(ssid);
    if (bytes < 1 || bytes > MAX_SSID_BYTES) throw new Error('ssid too long - 32 bytes max');
    if (password.length > 64) throw new Error('password too long - 64 bytes max');
    if (password.length > 0 && password.length < 8) throw new Error('password too short - 8 bytes min');
    this.ap = { ssid, password };
  }

  stopAccessPoint(): void {
    this.ap = null;
  }

  /** The joined network goes away (a router restarting): onLost is called. */
  dropConnection(): void {
    if (!this.station) return;
    this.station = '';
    const lost = this.onLost;
    if (lost) lost();
  }

  /** Stop pending results (a host shutting down). */
  close(): void {
    this.leave();
    if (this.scanTimer) Timer.clear(this.scanTimer);
    this.scanTimer = null;
  }
}

export interface SimulatedMdnsOptions {
  /** Names other devices on the pretend network hold (each conflicts when probed). */
  taken?: readonly string[];
  /** ms a probe takes (default 750, as Moddable's three probes 250 ms apart). */
  probeDelay?: number;
}

/**
 * An mDNS responder on a pretend network: claims the name after a probe, renaming as
 * Moddable's responder does ("<name>-2", "-3", ...) while other devices hold the name.
 */
export class SimulatedMdns implements MdnsResponder {
  private readonly taken: readonly string[];
  private readonly probeDelay: number;
  private timer: TimerId | null = null;
  private name = '';
  private port = 0;

  constructor(options: SimulatedMdnsOptions = {}) {
    this.taken = options.taken ?? [];
    this.probeDelay = options.probeDelay ?? 750;
  }

  /** The claimed name ('' while probing or stopped). */
  get hostName(): string {
    return this.name;
  }

  /** The advertised HTTP port (0: none). */
  get httpPort(): number {
    return this.port;
  }

  start(hostName: string, listener: MdnsListener): void {
    this.stop();
    this.probe(hostName, hostName, 0, listener);
  }

  advertiseHttp(port: number): void {
    if (!this.name) throw new Error('not ready'); // as Moddable's mdns.add() while probing
    this.port = port;
  }

  stop(): void {
    if (this.timer) Timer.clear(this.timer);
    this.timer = null;
    this.name = '';
    this.port = 0;
  }

  private isTaken(name: string): boolean {
    const lower = name.toLowerCase();
    for (const other of this.taken) if (other.toLowerCase() === lower) return true;
    return false;
  }

  private probe(base: string, name: string, conflicts: number, listener: MdnsListener): void {
    this.timer = Timer.set(() => {
      this.timer = null;
      if (!this.isTaken(name)) {
        this.name = name;
        listener.claimed(name);
      } else if (listener.conflict(name)) {
        listener.failed(`${name}.local and the names after it are taken`);
      } else {
        this.probe(base, renamedAfterConflict(base, conflicts + 1), conflicts + 1, listener);
      }
    }, this.probeDelay);
  }
}
