// The WebSocket servers the Moddable simulator's test app (hosts/moddable/echo/main.ts)
// runs for npm run test:moddable, each on a fixed port (9100-9199): the real-peer suites
// that start a server in-process with some options under `npm test` find the server with
// the same options here when they run against the simulator (test/interop/peers/targets.ts,
// test/interop/peers/server-harness.ts). Plain data, shared by the app and the tests; the
// tests check that their options still equal these (a mismatch fails the test).

import type { ServerOptions } from 'websockets/server';

/** The control channel (a WebSocket of JSON commands and events, test/moddable/control.ts). */
export const CONTROL_PORT = 9100;
/** The stream-mode echo server of test/moddable/echo.test.ts. */
export const ECHO_PORT = 9101;

/** Options without functions: what can be written down for the device. */
export type PlainServerOptions = Omit<ServerOptions, 'checkOrigin' | 'port'>;

export interface FixedServer {
  port: number;
  options: PlainServerOptions;
  /**
   * 'echo-app': src/echo-app.ts's startEchoServer (probe suites), its log lines reported.
   * 'recorded': test/interop/peers/server-harness.ts's ServerUnderTest (every event
   * reported, echo in message mode when `echo` is set).
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
  'frames-message': { port: 9110, kind: 'echo-app', options: frames('message') },
  'frames-stream': { port: 9111, kind: 'echo-app', options: frames('stream') },
  // test/interop/probes-handshake.test.ts
  handshake: { port: 9112, kind: 'echo-app', options: handshake },
  'handshake-prefixed': { port: 9113, kind: 'echo-app', options: { ...handshake, prefix: '/ws' } },
  'handshake-full': { port: 9114, kind: 'echo-app', options: { maxClients: 1, keepAliveInterval: 0 } },
  // test/interop/server-*.test.ts (ServerUnderTest)
  big: { port: 9120, kind: 'recorded', echo: true, options: BIG },
  'big-quiet': { port: 9121, kind: 'recorded', echo: false, options: BIG },
  'big-read509': { port: 9122, kind: 'recorded', echo: true, options: { ...BIG, readBufferSize: 509 } },
  'big-fragment1000': { port: 9123, kind: 'recorded', echo: true, options: { ...BIG, maxFragmentSize: 1000 } },
  default: { port: 9124, kind: 'recorded', echo: true, options: {} },
  'default-quiet': { port: 9125, kind: 'recorded', echo: false, options: {} },
  'keepalive-150': { port: 9126, kind: 'recorded', echo: true, options: { keepAliveInterval: 150, clientTimeout: 300 } },
  'keepalive-300': { port: 9127, kind: 'recorded', echo: true, options: { keepAliveInterval: 300, clientTimeout: 400 } },
  'max2-named': { port: 9128, kind: 'recorded', echo: true, options: { maxClients: 2, serverName: 'sim-test' } },
  max2: { port: 9129, kind: 'recorded', echo: true, options: { maxClients: 2 } },
  max1: { port: 9130, kind: 'recorded', echo: true, options: { maxClients: 1 } },
  'max5-quiet': { port: 9131, kind: 'recorded', echo: false, options: { maxClients: 5 } },
  subprotocols: { port: 9132, kind: 'recorded', echo: true, options: { subprotocols: ['b', 'c'] } },
  'handshake-300': { port: 9133, kind: 'recorded', echo: true, options: { handshakeTimeout: 300 } },
  'client-timeout-300': { port: 9134, kind: 'recorded', echo: true, options: { clientTimeout: 300 } },
  'prefix-ws': { port: 9135, kind: 'recorded', echo: true, options: { prefix: '/ws' } },
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
