// The LED device, composed once for every host: the HTTP server (the web app, the /api
// routes, WebSocket upgrades at /ws), the LED app, the Wi-Fi set-up, the mDNS name and
// the button's three gestures. A host supplies what differs (hosts/sim/led-main.ts,
// hosts/moddable/led-main.ts): the files, the LED, where records are kept, the radio and
// the mDNS responder (real ones on the ESP32, simulated ones on the desktop), its own
// addresses, its buffer sizes, and where lines go.
//
// What it prints (through `log`), so that a user finds the device without a serial log:
//   Set-up: join Wi-Fi "atom-led-1a2b-setup" (password ledsetup), open http://192.168.4.1/setup.html
//   Device: http://atom-led-1a2b.local/ (192.168.1.23)

import Timer from 'timer';
import { HttpServer } from '../net/http-server';
import type { HttpServerOptions } from '../net/http-server';
import { WebSocketServer } from '../net/server';
import type { ServerOptions } from '../net/server';
import type { StaticStore } from '../http/static-store';
import type { RecordStore } from '../device/records';
import { WifiSetup } from '../device/wifi-setup';
import type { WifiDriver, WifiSetupOptions } from '../device/wifi-setup';
import { MdnsAnnouncer } from '../device/mdns-announcer';
import type { MdnsResponder } from '../device/mdns-announcer';
import { ButtonGestures } from '../device/button-gestures';
import type { GestureOptions } from '../device/button-gestures';
import { MAX_SETUP_BODY, setupRoutes } from '../device/setup-routes';
import { deviceUrl } from '../device/device-name';
import { headerValue, hostName } from '../http/head';
import { LedApp, ledAccessCheck, ledHostCheck } from './led-app';
import type { Led } from './led-app';
import { ledApiRoutes } from './led-api';
import { errorText } from '../device/error-text';

/** The address of the ESP32's own access point (its default). */
export const SETUP_ADDRESS = '192.168.4.1';

/** Buffer sizes and limits of the two servers (the Atom Lite's are in hosts/moddable/led-main.ts). */
export type WsBuffers = Pick<ServerOptions, 'maxMessageSize' | 'readBufferSize' | 'sendBufferSize' | 'sendQueueSize' | 'maxHeaderSize'>;
export type HttpBuffers = Pick<HttpServerOptions, 'readBufferSize' | 'maxHeaderSize'>;

export interface LedDeviceOptions {
  port: number;
  /** The address to listen on (all by default). */
  address?: string;
  store: StaticStore;
  led: Led;
  records: RecordStore;
  wifi: WifiDriver;
  mdns: MdnsResponder;
  /** The token from the build or the command line; a token given at set-up replaces it. */
  token?: string;
  /** The name from the build; a name given at set-up replaces it. Default from the MAC. */
  name?: string;
  /** Build-time credentials, used while none are stored. */
  fallback?: WifiSetupOptions['fallback'];
  /** The set-up access point's WPA2 password (default "ledsetup"). */
  setupPassword?: string;
  /** Where the set-up page is reached while the access point is up (default 192.168.4.1, the ESP32's). */
  setupAddress?: string;
  /** More names and addresses the host answers for (its own addresses, configured names). */
  hosts?: () => readonly (string | undefined)[];
  log: (line: string) => void;
  /** Where the servers' errors go (refused handshakes, failed connections); default `log`. */
  logError?: (line: string) => void;
  maxClients?: number;
  maxConnections?: number;
  ws?: WsBuffers;
  http?: HttpBuffers;
  /** ms between two writes of the LED state (default 3000). */
  saveInterval?: number;
  /** Set-up timings (tests shorten them). */
  wifiTimes?: Pick<WifiSetupOptions, 'joinTimeout' | 'joinDelay' | 'apStopDelay' | 'retryInterval' | 'setupTimeout' | 'scanTimeout'>;
  button?: Pick<GestureOptions, 'longMs' | 'doubleMs'>;
}

export class LedDevice {
  readonly ws: WebSocketServer;
  readonly http: HttpServer;
  readonly app: LedApp;
  readonly setup: WifiSetup;
  readonly announcer: MdnsAnnouncer;
  /** Feed it the button's presses and releases. */
  readonly button: ButtonGestures;
  private readonly log: (line: string) => void;
  private readonly configuredToken: string | undefined;
  private readonly setupAddress: string;

  constructor(options: LedDeviceOptions) {
    const log = (this.log = options.log);
    this.configuredToken = options.token;
    this.setupAddress = options.setupAddress ?? SETUP_ADDRESS;
    const setup = (this.setup = new WifiSetup(options.wifi, options.records, {
      fallback: options.fallback,
      name: options.name,
      setupPassword: options.setupPassword,
      log,
      ...options.wifiTimes,
    }));
    const announcer = (this.announcer = new MdnsAnnouncer(options.mdns, { port: () => this.http.port ?? options.port, log }));
    const token = (): string | undefined => this.token;
    this.ws = new WebSocketServer({
      isStandAlone: false,
      prefix: '/ws',
      maxClients: options.maxClients ?? 8,
      checkOrigin: ledAccessCheck(token),
      serverName: 'moddable-websockets',
      maxMessageSize: 64,
      ...options.ws,
    });
    const extraHosts = options.hosts;
    const known = (): (string | undefined)[] => {
      const names: (string | undefined)[] = [SETUP_ADDRESS, ...announcer.hostNames(), setup.address];
      if (extraHosts) names.push(...extraHosts());
      return names;
    };
    this.app = new LedApp(this.ws, options.led, { log, records: options.records, saveInterval: options.saveInterval });
    const info = () => ({ name: setup.name, url: announcer.url() || deviceUrl(setup.name, this.http.port ?? options.port), mode: setup.mode });
    this.http = new HttpServer({
      port: options.port,
      address: options.address,
      store: options.store,
      routes: {
        ...ledApiRoutes(this.app, { token }, info),
        // no token while set-up is open, for requests on the set-up network only: with the
        // station joined (a long press), the home network still needs the token
        ...setupRoutes(setup, { token, tokenWaived: (request) => setup.setupOpen && (!setup.address || hostName(headerValue(request.headers, 'host')) === this.setupAddress) }),
      },
      websocket: { path: '/ws', server: this.ws },
      allowHost: ledHostCheck(known),
      maxConnections: options.maxConnections ?? 8,
      evictIdle: true, // a browser's idle keep-alive connections must not lock other phones out
      serverName: 'moddable-websockets',
      maxBodySize: MAX_SETUP_BODY, // the set-up form, the largest body; within any maxHeaderSize from 512 up
      ...options.http,
    });
    this.button = new ButtonGestures(
      { short: () => this.app.toggle(), double: () => this.app.nextPreset(), long: () => setup.enterSetup() },
      { ...options.button, onError: (error) => log(`button: ${errorText(error)}`) },
    );
    const logError = options.logError ?? log;
    this.ws.on('error', (error, client) => logError(`websocket ${client ?? ''}: ${error.message}`));
    this.http.on('error', (error) => logError(`http: ${error.message}`));
    announcer.onClaimed = () => log(`Device: ${announcer.url()}${setup.address ? ` (${setup.address})` : ''}`);
    announcer.onFailed = (reason) => log(`mDNS: no .local name (${reason}); use the address ${setup.address}`);
    setup.onChange = (event) => this.wifiChanged(event);
  }

  /** The token asked of pages and API clients: the one given at set-up, else the configured one ('' at set-up: none). */
  get token(): string | undefined {
    const stored = this.setup.token;
    if (stored !== undefined) return stored === '' ? undefined : stored;
    return this.configuredToken;
  }

  /** Listen, then (on the next turn, after the host's own lines) join the known network or open the set-up access point. */
  start(): void {
    this.http.start();
    Timer.set(() => this.setup.start(), 0);
  }

  /** Stop serving, write a pending state change, stop the radio's timers and the name. */
  stop(): void {
    this.app.saveNow();
    this.announcer.stop();
    this.setup.close();
    this.http.stop();
    this.ws.stop();
  }

  private wifiChanged(event: string): void {
    const setup = this.setup;
    if (event === 'access-point' && setup.accessPointUp) {
      const port = this.http.port ?? 80;
      const page = `http://${this.setupAddress}${port === 80 ? '' : ':' + port}/setup.html`;
      this.log(`Set-up: join Wi-Fi "${setup.accessPointSsid}" (password ${setup.setupPassword}), open ${page}`);
    }
    if (event === 'mode' || event === 'name') {
      // the name is announced while the station is on a network, and again when it changes
      if (setup.mode === 'online' && setup.address) {
        if (this.announcer.requestedName !== setup.name || this.announcer.state === 'idle') this.announcer.announce(setup.name);
      } else if (setup.mode !== 'online' && !setup.address) this.announcer.stop();
    }
  }
}

