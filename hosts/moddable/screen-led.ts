// The LED on the Moddable simulator, visible: traces `LED #rrggbb` like virtual-led.ts
// and fills the simulator's screen with the colour (a dark frame around it, so "off"
// still shows the LED's place). The top-level manifest maps 'led-driver' here on lin,
// mac and win; the memory probe (hosts/moddable/led-memory) keeps the trace-only driver,
// so its figures are not inflated by the renderer, which the device does not have.
import Poco from 'commodetto/Poco';
import type { Led } from 'websockets/apps/led-app';
import { VirtualLed, watchButton } from './virtual-led';

const FRAME = 12;
// Types through typeof only: Moddable's own Poco typings differ from ours in names.
type Renderer = InstanceType<typeof Poco>;
type Screen = ConstructorParameters<typeof Poco>[0];

export class ScreenLed implements Led {
  private readonly traced = new VirtualLed();
  private readonly poco: Renderer | null;

  constructor() {
    const screen = (globalThis as { screen?: Screen }).screen;
    this.poco = screen ? new Poco(screen) : null;
  }

  set(r: number, g: number, b: number): void {
    this.traced.set(r, g, b);
    const poco = this.poco;
    if (!poco) return;
    poco.begin();
    poco.fillRectangle(poco.makeColor(48, 48, 48), 0, 0, poco.width, poco.height);
    poco.fillRectangle(poco.makeColor(r, g, b), FRAME, FRAME, poco.width - 2 * FRAME, poco.height - 2 * FRAME);
    poco.end();
  }
}

export { ScreenLed as AtomLed, watchButton };
