// Client suites that run twice, over ws:// and over wss:// (client-ws, client-python):
// overTransports() defines a suite once per transport and sets `secure` while it runs,
// which the suites' own server and URL helpers read; clientOptions() gives the client the
// sim host's TLS socket and the test CA (scripts/tls-certs.mjs) in a wss:// suite.
import { afterAll, beforeEach, describe } from 'vitest';
import SimTLS from '../../../hosts/sim/tls';
import type { ClientOptions } from '../../../src/net/client';
import { testPki } from '../../../scripts/tls-certs.mjs';

/** The suite in progress runs over wss:// (set by overTransports(); a live binding). */
export let secure = false;

/** Define a suite twice: over ws:// and over wss://. */
export function overTransports(name: string, body: () => void): void {
  for (const transport of ['ws', 'wss'] as const) {
    describe(`${name} (${transport}://)`, () => {
      beforeEach(() => {
        secure = transport === 'wss';
      });
      afterAll(() => {
        secure = false;
      });
      body();
    });
  }
}

/** `options`, plus in a wss:// suite the sim host's TLS socket trusting the test CA. */
export function clientOptions(options: ClientOptions): ClientOptions {
  return secure ? { ...options, tls: { socket: SimTLS, ca: testPki().ca } } : options;
}
