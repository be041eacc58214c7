// The LED on the Moddable simulator (mcsim on lin/mac/win): trace()s `LED #rrggbb` on
// every change, like hosts/sim/virtual-led.ts does on Node. The top-level manifest maps
// the 'led-driver' specifier here on the simulator platforms and to hosts/esp32/led.ts
// on the ESP32, so the neopixel module is never linked into a simulator build. It
// exports the same names as hosts/esp32/led.ts.
import type { Led } from 'websockets/apps/led-app';

export class VirtualLed implements Led {
  set(r: number, g: number, b: number): void {
    trace(`LED #${hex(r)}${hex(g)}${hex(b)}\n`);
  }
}

export { VirtualLed as AtomLed };

/** The simulator has no button: nothing to watch. */
export function watchButton(_onChange: (pressed: boolean) => void): boolean {
  return false;
}

function hex(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16);
}
