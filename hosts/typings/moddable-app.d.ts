// Our declarations of the Moddable modules the LED app (hosts/moddable/led-main.ts) and
// its memory probe use, written from Moddable's public documentation
// (documentation/files/files.md "Resource", documentation/tools/manifest.md "config",
// documentation/base/base.md "Instrumentation" and "Debug"). Under mcconfig, Moddable's
// own typings apply instead; the code is written to type-check against both.

declare module 'Resource' {
  /**
   * A read-only host buffer over a resource built into the app (flash on the device,
   * the mapped app binary in the simulator). No bytes are copied into the XS heap.
   */
  export default class Resource {
    /** Throws when there is no resource at `path` (the name the manifest gave it, extension included). */
    constructor(path: string);
    static exists(path: string): boolean;
    readonly byteLength: number;
    /** A copy of bytes [begin, end) as an ArrayBuffer. */
    slice(begin: number, end?: number): ArrayBuffer;
    /** copy false: a read-only host buffer over the same bytes (no copy). */
    slice(begin: number, end: number | undefined, copy: boolean): object;
  }
}

declare module 'mc/config' {
  /** The manifest's "config" object, with `name=value` pairs from the mcconfig command line (strings). */
  const config: { readonly [name: string]: unknown };
  export default config;
}

declare module 'instrumentation' {
  const Instrumentation: {
    /** The index of an instrument by name ("XS Chunk Heap Used", "XS Slot Heap Used", ...), or undefined. */
    map(name: string): number | undefined;
    get(index: number | undefined): number | undefined;
    name(index: number | undefined): string | undefined;
  };
  export default Instrumentation;
}

declare module 'debug' {
  const Debug: {
    /** Runs a full garbage collection now (debug builds). */
    gc(enable?: boolean): void;
  };
  export default Debug;
}

// The board's LED driver, chosen per platform by the top-level manifest.json:
// hosts/esp32/led.ts on the ESP32 (neopixel + the target's button), and
// hosts/moddable/virtual-led.ts on the simulator (trace `LED #rrggbb`, no button).
declare module 'led-driver' {
  /** The board's LED, a `Led` (src/apps/led-app.ts); the name hosts/esp32/led.ts gives it, the simulator exports its virtual LED under it too. */
  export class AtomLed {
    constructor();
    set(r: number, g: number, b: number): void;
  }
  /** Calls onChange(pressed) when the board's button goes down or up; false where there is none. */
  export function watchButton(onChange: (pressed: boolean) => void): boolean;
}

// The LED device's radio, chosen per platform by the top-level manifest.json:
// hosts/esp32/radio.ts (Moddable's Wi-Fi and mDNS) on the ESP32,
// hosts/moddable/simulated-radio.ts on the simulator.
declare module 'led-radio' {
  import type { WifiDriver } from 'websockets/device/wifi-setup';
  import type { MdnsResponder } from 'websockets/device/mdns-announcer';
  /** True on the simulator: nothing is sent, the lines tell what a device would do. */
  export const simulated: boolean;
  export function createRadio(): { wifi: WifiDriver; mdns: MdnsResponder };
}
