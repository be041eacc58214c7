// Platform services on Moddable hosts (ESP32 and the Moddable simulator): the
// monotonic clock, DNS, and native byte work: payloads are copied with TypedArray.set
// and unmasked with the SDK's Logical.xor (modules/data/logical), each through one
// transient view per call; measured with npm run bench:moddable-cpu, a copy or XOR loop
// in JavaScript costs far more than that view (docs/BENCHMARKS.md). Randomness stays
// Math.random: on the ESP32 XS implements it with esp_random(), the hardware generator.
// SHA-1 and UTF-8 validation stay in TypeScript (no native SHA-1 is exposed to scripts
// without extra modules).
import Time from 'time';
import Net from 'net';
import Logical from 'logical';
import { installPlatform } from 'websockets/net/platform';

export function installModdablePlatform(): void {
  installPlatform({
    now: () => Time.ticks,
    bulkCopy: true,
    xorMask: (data, start, end, key) => Logical.xor(data.subarray(start, end), key),
    resolve: (host, callback) => {
      try {
        Net.resolve(host, (_name, address) => {
          if (address) callback(null, address);
          else callback(new Error(`cannot resolve ${host}`));
        });
      } catch (error) {
        callback(error instanceof Error ? error : new Error(String(error)));
      }
    },
  });
}
