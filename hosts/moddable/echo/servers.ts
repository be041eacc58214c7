// The WebSocket servers the Moddable simulator's test app (hosts/moddable/echo/main.ts)
// runs for npm run test:moddable, each on a fixed offset from the build's base port
// (config portBase, chosen free by test/moddable/run.mjs): the real-peer suites
// that start a server in-process with some options under `npm test` find the server with
// the same options here when they run against the simulator (test/interop/peers/targets.ts,
// test/interop/peers/server-harness.ts). Plain data, shared by the app and the tests; the
// tests check that their options still equal these (a mismatch fails the test).

import type { ServerOptions } from 'websockets/server';

/** The control channel (a WebSocket of JSON commands and events, test/moddable/control.ts): base + 0. */
export const CONTROL_OFFSET = 0;
/** The stream-mode echo server of test/moddable/echo.test.ts: base + 1. */
export const ECHO_OFFSET = 1;
/** Ports the app uses from its base: base .. base + PORT_SPAN - 1. */
export const PORT_SPAN = 40;

/** Options without functions: what can be written down for the device. */
export type PlainServerOptions = Omit<ServerOptions, 'checkOrigin' | 'port'>;

export interface FixedServer {
  /** Its port is the app's base port + offset. */
  offset: number;
  options: PlainServerOptions;
  /**
   * 'echo-app': src/apps/echo-app.ts's startEchoServer (probe suites), its log lines reported.
   * 'recorded': test/interop/peers/server-harness.ts's ServerUnderTest (every event
   * reported, echo in message mode when `echo` is set, and whatever Behaviour of
   * ./behaviour.ts a test sets on the instance over the control channel: an origin
   * policy, a listener that throws or disconnects).
   */
  kind: 'echo-app' | 'recorded';
  echo?: boolean;
}

const MiB = 1 << 20;
/** server-harness.ts's BIG: 2 MiB messages, a send budget for a 1 MiB reply. */
const BIG = { maxMessageSize: 2 * MiB, sendQueueSize: 4 * MiB, readBufferSize: 4096 };

const frames = (receiveMode: 'message' | 'stream'): PlainServerOptions => ({
  maxMessageSize: 1024,
  receiveMode,
  chunkSize: 64,
  sendQueueSize: 16384,
  keepAliveInterval: 0,
  maxClients: 64,
});
const handshake: PlainServerOptions = { handshakeTimeout: 400, maxHeaderSize: 2048, maxClients: 64, keepAliveInterval: 0 };

export const SERVERS: Record<string, FixedServer> = {
  // test/interop/probes-frames.test.ts
  'frames-message': { offset: 10, kind: 'echo-app', options: frames('message') },
  'frames-stream': { offset: 11, kind: 'echo-app', options: frames('stream') },
  // test/interop/probes-handshake.test.ts
  handshake: { offset: 12, kind: 'echo-app', options: handshake },
  'handshake-prefixed': { offset: 13, kind: 'echo-app', options: { ...handshake, prefix: '/ws' } },
  'handshake-full': { offset: 14, kind: 'echo-app', options: { maxClients: 1, keepAliveInterval: 0 } },
  // test/interop/server-*.test.ts (ServerUnderTest)
  big: { offset: 20, kind: 'recorded', echo: true, options: BIG },
  'big-quiet': { offset: 21, kind: 'recorded', echo: false, options: BIG },
  'big-read509': { offset: 22, kind: 'recorded', echo: true, options: { ...BIG, readBufferSize: 509 } },
  'big-fragment1000': { offset: 23, kind: 'recorded', echo: true, options: { ...BIG, maxFragmentSize: 1000 } },
  default: { offset: 24, kind: 'recorded', echo: true, options: {} },
  'default-quiet': { offset: 25, kind: 'recorded', echo: false, options: {} },
  'keepalive-150': { offset: 26, kind: 'recorded', echo: true, options: { keepAliveInterval: 150, clientTimeout: 300 } },
  'keepalive-300': { offset: 27, kind: 'recorded', echo: true, options: { keepAliveInterval: 300, clientTimeout: 400 } },
  'max2-named': { offset: 28, kind: 'recorded', echo: true, options: { maxClients: 2, serverName: 'sim-test' } },
  max2: { offset: 29, kind: 'recorded', echo: true, options: { maxClients: 2 } },
  max1: { offset: 30, kind: 'recorded', echo: true, options: { maxClients: 1 } },
  'max5-quiet': { offset: 31, kind: 'recorded', echo: false, options: { maxClients: 5 } },
  subprotocols: { offset: 32, kind: 'recorded', echo: true, options: { subprotocols: ['b', 'c'] } },
  'handshake-300': { offset: 33, kind: 'recorded', echo: true, options: { handshakeTimeout: 300 } },
  'client-timeout-300': { offset: 34, kind: 'recorded', echo: true, options: { clientTimeout: 300 } },
  'prefix-ws': { offset: 35, kind: 'recorded', echo: true, options: { prefix: '/ws' } },
};

/** A canonical text of plain options (keys sorted), to compare the tests' options with these. */
export function optionsKey(options: PlainServerOptions, echo?: boolean): string {
  const o = options as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) text += (i ? ',' : '') + JSON.stringify(keys[i]) + ':' + JSON.stringify(o[keys[i]!]);
  return text + '}' + (echo === undefined ? '' : echo ? ' echo' : ' quiet');
}
