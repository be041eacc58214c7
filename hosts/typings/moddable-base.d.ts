// Our declarations of the few Moddable base modules the hosts use, written from
// Moddable's public documentation (documentation/base/base.md, network/network.md).

declare module 'time' {
  const Time: {
    /** Milliseconds from an arbitrary start: monotonic, for measuring intervals. */
    readonly ticks: number;
  };
  export default Time;
}

declare module 'net' {
  const Net: {
    /** DNS look-up; `address` is a dotted IPv4 string, or undefined when it failed. Throws when the resolver queue is full. */
    resolve(host: string, callback: (name: string, address: string | undefined) => void): void;
    /** A network property: "IP" (of `iface`: "station" or "ap" on the ESP32; default the active one), "MAC", "SSID"...; undefined when not available. */
    get(property: string, iface?: string): string | undefined;
  };
  export default Net;
}

// For our type checks; Moddable builds get modules/core/logical.d.ts (the SDK has none).
declare module 'logical' {
  const Logical: {
    xor(dst: ArrayBuffer | ArrayBufferView, src: ArrayBuffer | ArrayBufferView | number | string, count?: number): void;
  };
  export default Logical;
}

declare function trace(...text: unknown[]): void;

declare module 'neopixel' {
  /** Moddable's NeoPixel driver (modules/drivers/neopixel): colours are latched by update(). */
  export default class NeoPixel {
    constructor(options: { length?: number; pin?: number; order?: string });
    makeRGB(r: number, g: number, b: number, w?: number): number;
    setPixel(index: number, color: number): void;
    fill(color: number, index?: number, count?: number): void;
    /** Sends the pixel buffer to the LEDs. Nothing shows until it is called. */
    update(): void;
    /** 0-255, applied at update(); Moddable's default is 64. */
    brightness: number;
    close(): void;
  }
}
