// The simulator's native primitives and services: node:crypto SHA-1 and randomness,
// node:buffer UTF-8 validation, V8-friendly bulk copies, IPv4 DNS through node:dns,
// a monotonic clock (performance.now), and Moddable's global trace() (stdout, no
// newline added).

import { isUtf8 } from 'node:buffer';
import { createHash, randomFillSync } from 'node:crypto';
import { lookup } from 'node:dns';
import { performance } from 'node:perf_hooks';
import { installPlatform } from '../../src/net/platform';

let installed = false;

export function installSimPlatform(): void {
  if (installed) return;
  installed = true;
  installPlatform({
    sha1: (data) => new Uint8Array(createHash('sha1').update(data).digest()),
    utf8Check: (data, start, end) => isUtf8(data.subarray(start, end)),
    bulkCopy: true,
    random: (out) => {
      randomFillSync(out);
    },
    resolve: (host, callback) => {
      lookup(host, { family: 4 }, (error, address) => {
        if (error) callback(error);
        else callback(null, address);
      });
    },
    now: () => performance.now(),
  });
  const global = globalThis as { trace?: unknown };
  if (global.trace === undefined) {
    global.trace = (...values: unknown[]): void => {
      for (const value of values) process.stdout.write(String(value));
    };
  }
}
