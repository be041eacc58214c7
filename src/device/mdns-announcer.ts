// Announcing the device as <name>.local (mDNS, RFC 6762) through an injected responder:
// Moddable's `mdns` module on the ESP32 (hosts/esp32/mdns-responder.ts), a simulated one
// on the sim hosts. The announcer holds the policy: which name to claim, how many
// renames to accept, what name and URL to report; the responder speaks the protocol.
//
// What a responder reports, after Moddable's mdns.js: it probes the name; when another
// host answers for it, it asks `conflict(name)` and, unless told to give up, probes its
// next name (Moddable: "<name>-2", then "<name>-3", ...); `claimed(name)` once a probe
// went unanswered (the name it finally holds), or `failed(reason)` when it gave up.
// Only after the claim may it advertise a service (Moddable throws "not ready" before).

import { deviceUrl } from './device-name';
import { errorText } from './error-text';

/** What a responder reports while it claims a name. */
export interface MdnsListener {
  /** The responder holds `name` now (possibly renamed after conflicts). */
  claimed(name: string): void;
  /** Another host holds `name`. Return true to give up (then `failed` follows), false to let the responder probe its next name. */
  conflict(name: string): boolean;
  /** No name could be claimed, or the responder broke; `reason` in words. */
  failed(reason: string): void;
}

/** An mDNS responder for one host name. */
export interface MdnsResponder {
  /** Start claiming `hostName` (a previous claim is stopped first). Reports through `listener`, never synchronously required. */
  start(hostName: string, listener: MdnsListener): void;
  /** Advertise an HTTP service (DNS-SD `_http._tcp`) on `port` under the claimed name; only after `claimed`. */
  advertiseHttp(port: number): void;
  /** Withdraw the name and services (goodbye packets where the responder sends them). */
  stop(): void;
}

/** The name a Moddable responder probes after the `attempt`-th conflict on `base` (1 -> "base-2"). */
export function renamedAfterConflict(base: string, attempt: number): string {
  return `${base}-${attempt + 1}`;
}

export type AnnouncerState = 'idle' | 'probing' | 'claimed' | 'failed';

export interface AnnouncerOptions {
  /** The HTTP port to advertise and put in the URL (default 80); a function when it is known only once the server listens. */
  port?: number | (() => number);
  /** Renames accepted before giving up (default 8: up to "<name>-9"). */
  maxConflicts?: number;
  /** Where to report conflicts and failures (a host's trace). */
  log?: (line: string) => void;
}

export class MdnsAnnouncer {
  /** Called once the responder holds a name (the app prints the URL, allows the Host). */
  onClaimed: ((name: string) => void) | null = null;
  /** Called when no name could be claimed. */
  onFailed: ((reason: string) => void) | null = null;

  private readonly responder: MdnsResponder;
  private readonly httpPort: number | (() => number);
  private readonly maxConflicts: number;
  private readonly log: ((line: string) => void) | undefined;
  private _state: AnnouncerState = 'idle';
  private requested = '';
  private claimed = '';
  private reason = '';
  private conflicts = 0;
  /** Counts starts, so that a stopped responder's late reports are ignored. */
  private generation = 0;

  constructor(responder: MdnsResponder, options: AnnouncerOptions = {}) {
    this.responder = responder;
    this.httpPort = options.port ?? 80;
    this.maxConflicts = options.maxConflicts ?? 8;
    this.log = options.log;
  }

  private get port(): number {
    const port = this.httpPort;
    return typeof port === 'function' ? port() : port;
  }

  get state(): AnnouncerState {
    return this._state;
  }

  /** The name asked for ('' before announce()). */
  get requestedName(): string {
    return this.requested;
  }

  /** The name the responder holds ('' until claimed). */
  get claimedName(): string {
    return this.claimed;
  }

  /** Why the last claim failed ('' unless failed). */
  get failure(): string {
    return this.reason;
  }

  /** The page's URL by name ('' until claimed). */
  url(): string {
    return this.claimed ? deviceUrl(this.claimed, this.port) : '';
  }

  /** Host names to allow for the page and the API: ["<claimed>.local"], or none before the claim. */
  hostNames(): string[] {
    return this.claimed ? [this.claimed + '.local'] : [];
  }

  /** Claim `name` (a valid device name); stops an earlier announcement first. Never throws. */
  announce(name: string): void {
    this.stopResponder();
    const generation = this.generation;
    this.requested = name;
    this.conflicts = 0;
    this._state = 'probing';
    const listener: MdnsListener = {
      claimed: (claimed) => this.whenCurrent(generation, () => this.claim(claimed)),
      conflict: (taken) => {
        let giveUp = true; // a stopped announcement's responder should stop trying
        this.whenCurrent(generation, () => (giveUp = this.conflict(taken)));
        return giveUp;
      },
      failed: (reason) => this.whenCurrent(generation, () => this.fail(reason)),
    };
    try {
      this.responder.start(name, listener);
    } catch (error) {
      this.fail(`the responder did not start: ${errorText(error)}`);
    }
  }

  /** Withdraw the name. */
  stop(): void {
    this.stopResponder();
    this.requested = '';
  }

  private stopResponder(): void {
    this.generation++;
    const wasActive = this._state === 'probing' || this._state === 'claimed';
    this._state = 'idle';
    this.claimed = '';
    this.reason = '';
    if (!wasActive) return;
    try {
      this.responder.stop();
    } catch (error) {
      this.log?.(`mdns: stopping the responder failed: ${errorText(error)}`);
    }
  }

  /** Runs a responder report when it belongs to the current announcement; never throws into the responder. */
  private whenCurrent(generation: number, report: () => void): void {
    if (generation !== this.generation) return;
    try {
      report();
    } catch (error) {
      this.log?.(`mdns: ${errorText(error)}`);
    }
  }

  private claim(name: string): void {
    if (this._state !== 'probing') return;
    this._state = 'claimed';
    this.claimed = name;
    if (name !== this.requested) this.log?.(`mdns: ${this.requested}.local is taken; announcing ${name}.local`);
    try {
      this.responder.advertiseHttp(this.port);
    } catch (error) {
      this.log?.(`mdns: advertising the HTTP service failed: ${errorText(error)}`);
    }
    const hook = this.onClaimed;
    if (!hook) return;
    try {
      hook(name);
    } catch (error) {
      this.log?.(`mdns: the onClaimed hook threw: ${errorText(error)}`);
    }
  }

  private conflict(name: string): boolean {
    if (this._state !== 'probing') return true;
    this.conflicts++;
    const giveUp = this.conflicts > this.maxConflicts;
    this.log?.(`mdns: ${name}.local is taken by another device${giveUp ? '; giving up' : ''}`);
    return giveUp;
  }

  private fail(reason: string): void {
    if (this._state !== 'probing' && this._state !== 'claimed') return;
    this.generation++; // later reports of this responder are stale
    this._state = 'failed';
    this.claimed = '';
    this.reason = reason;
    this.log?.(`mdns: cannot announce ${this.requested}.local: ${reason}`);
    try {
      this.responder.stop();
    } catch (error) {
      this.log?.(`mdns: stopping the responder failed: ${errorText(error)}`);
    }
    const hook = this.onFailed;
    if (!hook) return;
    try {
      hook(reason);
    } catch (error) {
      this.log?.(`mdns: the onFailed hook threw: ${errorText(error)}`);
    }
  }
}

