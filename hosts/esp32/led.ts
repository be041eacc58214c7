// The Atom Lite's LED: one SK6812 on GPIO 27, GRB order, through Moddable's neopixel
// driver. Every change is latched with update() (nanoFramework's sample forgets to,
// so its LED never lights). Brightness stays at 255: the web app scales the colour.
import NeoPixel from 'neopixel';
import type { Led } from 'websockets/apps/led-app';

export class AtomLed implements Led {
  private readonly pixels = new NeoPixel({ length: 1, pin: 27, order: 'GRB' });

  constructor() {
    this.pixels.brightness = 255;
  }

  set(r: number, g: number, b: number): void {
    this.pixels.setPixel(0, this.pixels.makeRGB(r, g, b));
    this.pixels.update();
  }
}

interface M5Button {
  read(): number;
  onChanged?: () => void;
}

/**
 * The Atom Lite's button (GPIO 39, active low). The m5atom_lite target already watches
 * the pin at boot as globalThis.button.a (debounced); a second ISR on the same pin
 * would replace its handler, so we listen there. Calls onChange(pressed) on each edge.
 */
export function watchButton(onChange: (pressed: boolean) => void): boolean {
  const button = (globalThis as { button?: { a?: M5Button } }).button?.a;
  if (!button) throw new Error('no button: build for esp32/m5atom_lite');
  button.onChanged = () => {
    onChange(button.read() === 0); // pressed pulls the pin low
  };
  return true;
}
