// The RGB LED control app, host-independent: the colour protocol over a WebSocketServer
// and the LED state. Compatible with .NET nanoFramework's RgbSample:
// - a 3-byte binary message [R, G, B] sets the colour; it is applied, then broadcast to
//   every client, the sender included (that echo is the sender's acknowledgement);
// - a newly opened client receives the current colour at once;
// - anything else is refused on that connection only: a text message closes it with
//   1003 (unsupported data), a binary message of another length with 1007 (invalid
//   payload); other clients are not disturbed.
// The button toggles the LED off (remembering the colour) and back on, and the change
// is broadcast like any other.
// A client whose send budget is full when a colour is broadcast (it stopped reading for a
// while) misses that frame; it is marked behind and sent the colour of that moment once
// its queue drains, so no page is left showing a colour the LED no longer has. State,
// not a queue: however many colours it missed, it gets one frame, the latest.

import type { WebSocketServer } from '../net/server';
import type { HttpRequestHead } from '../http/head';
import { headerValue } from '../http/head';

/** An LED driver: shows the colour at once (a driver that buffers must latch here). */
export interface Led {
  set(r: number, g: number, b: number): void;
}

export const LED_MESSAGE_SIZE = 3;

export class LedApp {
  private readonly server: WebSocketServer;
  private readonly led: Led;
  private readonly frame = new Uint8Array(LED_MESSAGE_SIZE);
  /** The last colour that was not black: what the button turns back on. */
  private readonly remembered = new Uint8Array([255, 255, 255]);
  /** Clients that missed a broadcast for their full send budget (at most maxClients). */
  private readonly behind = new Set<string>();
  private readonly log: ((line: string) => void) | undefined;

  /** log: where to report a client falling behind and catching up (a host's trace). */
  constructor(server: WebSocketServer, led: Led, log?: (line: string) => void) {
    this.server = server;
    this.led = led;
    this.log = log;
    led.set(0, 0, 0);
    server.on('drain', (client) => {
      if (!this.behind.has(client) || !server.sendBinary(client, this.frame)) return;
      this.behind.delete(client);
      this.log?.(`led: ${client} caught up`);
    });
    server.on('closed', (client) => {
      this.behind.delete(client);
    });
    server.on('opened', (client) => {
      server.sendBinary(client, this.frame);
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

  /** The current colour as [R, G, B]. */
  get color(): [number, number, number] {
    return [this.frame[0], this.frame[1], this.frame[2]];
  }

  /** Apply a colour and broadcast it to every client. */
  setColor(r: number, g: number, b: number): void {
    const frame = this.frame;
    frame[0] = r;
    frame[1] = g;
    frame[2] = b;
    if (r | g | b) this.remembered.set(frame);
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
  }

  /** The button: off if lit, else back to the remembered colour. */
  toggle(): void {
    const f = this.frame;
    if (f[0] | f[1] | f[2]) this.setColor(0, 0, 0);
    else this.setColor(this.remembered[0], this.remembered[1], this.remembered[2]);
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
 * Origin (not browsers: no cross-site risk) are let in. With a token, the WebSocket URL
 * must also carry ?token=<token>.
 */
export function ledAccessCheck(token?: string): (origin: string | undefined, request: HttpRequestHead) => boolean {
  return (origin, request) => {
    if (token !== undefined && queryParameter(request.target, 'token') !== token) return false;
    if (origin === undefined) return true;
    const host = headerValue(request.headers, 'host');
    return host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`;
  };
}

function queryParameter(target: string, name: string): string | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of target.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key !== name) continue;
    try {
      return eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined; // malformed escape: no valid token
    }
  }
  return undefined;
}
