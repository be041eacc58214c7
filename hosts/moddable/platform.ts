// Platform services on Moddable hosts (ESP32 and the Moddable simulator): the
// monotonic clock and DNS. Randomness stays Math.random: on the ESP32 XS implements
// it with esp_random(), the hardware generator. SHA-1 and UTF-8 stay in TypeScript
// (no native SHA-1 is exposed to scripts without extra modules), and payload copies
// stay allocation-free.
import Time from 'time';
import Net from 'net';
import { installPlatform } from 'websockets/net/platform';

export function installModdablePlatform(): void {
  installPlatform({
    now: () => Time.ticks,
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
