// The RGB LED control app, host-independent: the colour protocol over a WebSocketServer
// and the LED state. Compatible with .NET nanoFramework's RgbSample:
// - a 3-byte binary message [R, G, B] sets the colour; it is applied, then broadcast to
//   every client, the sender included (that echo is the sender's acknowledgement);
// - a newly opened client receives the current colour at once;
// - anything else is refused on that connection only: a text message closes it with
//   1003 (unsupported data), a binary message of another length with 1007 (invalid
//   payload); other clients are not disturbed.
// The button (short press: power on/off; double press: the next preset) and the HTTP API
// (led-api.ts) change the same state (src/device/led-state.ts), and every change is
// broadcast like a page's. With a RecordStore the state is restored at start-up and
// kept across reboots, written at most once per saveInterval (the flash wears).
// A client whose send budget is full when a colour is broadcast (it stopped reading for a
// while) misses that frame; it is marked behind and sent the colour of that moment once
// its queue drains, so no page is left showing a colour the LED no longer has. State,
// not a queue: however many colours it missed, it gets one frame, the latest.

import type { WebSocketServer } from '../net/server';
import type { HttpRequestHead } from '../http/head';
import { headerValue } from '../http/head';
import { queryParameter } from '../device/json-api';
import { LedState } from '../device/led-state';
import type { LedPatch } from '../device/led-state';
import { parseRecord } from '../device/records';
import type { RecordStore } from '../device/records';
import { RecordWriter } from '../device/record-writer';
import { errorText } from '../device/error-text';

/** An LED driver: shows the colour at once (a driver that buffers must latch here). */
export interface Led {
  set(r: number, g: number, b: number): void;
}

export const LED_MESSAGE_SIZE = 3;

/** The record key of the LED state. */
export const LED_STATE_KEY = 'state';

export interface LedAppOptions {
  /** Where a host's trace goes: a client falling behind and catching up, a failed state write. */
  log?: (line: string) => void;
  /** Keep the state across restarts here (restored now, written after changes). */
  records?: RecordStore;
  /** The fewest ms between two writes of the state (default 3000). */
  saveInterval?: number;
}

export class LedApp {
  private readonly server: WebSocketServer;
  private readonly led: Led;
  /** Power, colour, brightness and what the LED shows (the frame every client is sent). */
  readonly state = new LedState();
  /** Clients that missed a broadcast for their full send budget (at most maxClients). */
  private readonly behind = new Set<string>();
  private readonly log: ((line: string) => void) | undefined;
  private readonly writer: RecordWriter | null = null;

  constructor(server: WebSocketServer, led: Led, options: LedAppOptions = {}) {
    this.server = server;
    this.led = led;
    const log = (this.log = options.log);
    const records = options.records;
    if (records) {
      this.writer = new RecordWriter(records, LED_STATE_KEY, options.saveInterval ?? 3000, (error) =>
        log?.(`led: cannot store the state: ${errorText(error)}`),
      );
      // the writer read the record once: restore from that text
      const record = parseRecord(this.writer.written);
      if (record && !this.state.fromRecord(record)) log?.('led: the stored state is not valid; starting dark');
    }
    const frame = this.state.shown;
    led.set(frame[0], frame[1], frame[2]);
    server.on('drain', (client) => {
      if (!this.behind.has(client) || !server.sendBinary(client, this.state.shown)) return;
      this.behind.delete(client);
      this.log?.(`led: ${client} caught up`);
    });
    server.on('closed', (client) => {
      this.behind.delete(client);
    });
    server.on('opened', (client) => {
      server.sendBinary(client, this.state.shown);
    });
    server.on('message', (client, data, isText) => {
      if (isText) {
        server.disconnectClient(client, 1003, 'send the colour as 3 binary bytes [R, G, B]');
        return;
      }
      const bytes = data as Uint8Array;
      if (bytes.length !== LED_MESSAGE_SIZE) {
        server.disconnectClient(client, 1007, `expected ${LED_MESSAGE_SIZE} bytes [R, G, B], got ${bytes.length}`);
        return;
      }
      this.setColor(bytes[0], bytes[1], bytes[2]);
    });
  }

  /** What the LED shows, as [R, G, B]. */
  get color(): [number, number, number] {
    const frame = this.state.shown;
    return [frame[0], frame[1], frame[2]];
  }

  /** Show a colour (a page's frame; black is off) and broadcast it to every client. */
  setColor(r: number, g: number, b: number): void {
    this.state.setShown(r, g, b);
    this.changed();
  }

  /** An API change (see parseLedPatch), shown and broadcast; one that changes nothing is not. */
  apply(patch: LedPatch): void {
    const before = this.state.toRecord();
    this.state.apply(patch);
    if (this.state.toRecord() !== before) this.changed();
  }

  /** The button's short press: off if lit, else back on as it was. */
  toggle(): void {
    this.state.toggle();
    this.changed();
  }

  /** The button's double press: on, with the next preset colour. */
  nextPreset(): void {
    this.state.nextPreset();
    this.changed();
  }

  /** Write a pending state change now (before a restart). */
  saveNow(): void {
    this.writer?.flush();
  }

  private changed(): void {
    const frame = this.state.shown;
    this.led.set(frame[0], frame[1], frame[2]);
    const server = this.server;
    const clients = server.listClients();
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i];
      if (server.sendBinary(client, frame)) this.behind.delete(client);
      else if (!this.behind.has(client)) {
        this.behind.add(client);
        this.log?.(`led: ${client} missed a colour (its send budget is full); it gets the latest when it drains`);
      }
    }
    const state = this.state;
    this.writer?.changed(() => state.toRecord());
  }
}

/**
 * The LED app's Host rule (HttpServerOptions.allowHost): it answers for the loopback
 * names (localhost, 127.0.0.1, [::1]) and for the names `known()` gives at request time
 * (the device's own addresses, its mDNS name, names from its configuration; IPv6
 * addresses in brackets), and for nothing else, so that a DNS-rebinding page (another
 * site whose name now points here) can neither read the page nor open the WebSocket.
 */
export function ledHostCheck(known: () => readonly (string | undefined)[]): (name: string) => boolean {
  return (name) => {
    if (name === 'localhost' || name === '127.0.0.1' || name === '[::1]') return true;
    const names = known();
    for (let i = 0; i < names.length; i++) {
      const entry = names[i];
      if (entry !== undefined && entry.toLowerCase() === name) return true;
    }
    return false;
  };
}

/**
 * The default WebSocket access rule: a browser page may connect only if it was served
 * by this device (its Origin is http://<the Host it asked for>); clients that send no
 * Origin (not browsers: no cross-site risk) are let in. With a token (or a function giving
 * the current one), the WebSocket URL must also carry ?token=<token>.
 */
export function ledAccessCheck(token?: string | (() => string | undefined)): (origin: string | undefined, request: HttpRequestHead) => boolean {
  return (origin, request) => {
    const wanted = typeof token === 'function' ? token() : token;
    if (wanted !== undefined && queryParameter(request.target, 'token') !== wanted) return false;
    if (origin === undefined) return true;
    const host = headerValue(request.headers, 'host');
    return host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`;
  };
}
