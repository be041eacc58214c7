// The LED's state as people and tools see it: power, a colour at full brightness and a
// brightness in percent (the HTTP API's {"on":true,"color":"#20b060","brightness":69}),
// plus what the LED shows. Pages speak in shown colours (3-byte [R, G, B] frames, the
// product of their hue/saturation picker and brightness slider): a frame is shown
// exactly and read back as colour and brightness, so the API reports what the page's
// slider says. The state is a record kept across reboots (see toRecord/fromRecord).

/** The API's view of the state. */
export interface LedStateView {
  on: boolean;
  /** "#rrggbb": the colour at full brightness. */
  color: string;
  /** 0-100 %. */
  brightness: number;
}

/** A change asked for through the API: any subset of the fields. */
export interface LedPatch {
  on?: boolean;
  /** [R, G, B] */
  color?: readonly number[];
  brightness?: number;
}

/** The colours a double press of the button cycles through (the page's preset row). */
export const LED_PRESETS: readonly (readonly number[])[] = [
  [0xff, 0x00, 0x00],
  [0xff, 0xff, 0x00],
  [0x00, 0xff, 0x00],
  [0x00, 0x00, 0xff],
  [0xff, 0x00, 0xff],
  [0xff, 0xb0, 0x60],
  [0xff, 0xff, 0xff],
];

const HEX = '0123456789abcdef';

/** "#rrggbb" of three bytes. */
export function hexColor(r: number, g: number, b: number): string {
  return '#' + HEX[r >> 4] + HEX[r & 15] + HEX[g >> 4] + HEX[g & 15] + HEX[b >> 4] + HEX[b & 15];
}

/** [R, G, B] of "#rrggbb" or "#rgb" (case-insensitive), or null. */
export function parseHexColor(text: string): number[] | null {
  if (text.length !== 7 && text.length !== 4) return null;
  if (text[0] !== '#') return null;
  const digits: number[] = [];
  for (let i = 1; i < text.length; i++) {
    const d = HEX.indexOf(text[i].toLowerCase());
    if (d < 0) return null;
    digits.push(d);
  }
  if (digits.length === 3) return [digits[0] * 17, digits[1] * 17, digits[2] * 17];
  return [digits[0] * 16 + digits[1], digits[2] * 16 + digits[3], digits[4] * 16 + digits[5]];
}

export class LedState {
  on = false;
  /** The colour at full brightness (white until one is chosen). */
  readonly color = new Uint8Array([255, 255, 255]);
  brightness = 100;
  /** What the LED shows: black when off, else `lit`. */
  readonly shown = new Uint8Array(3);
  /** What the LED shows when on: colour x brightness, or a page's frame exactly. */
  private readonly lit = new Uint8Array([255, 255, 255]);

  /** A page's frame: black is off (colour and brightness kept for the next on), else shown exactly. */
  setShown(r: number, g: number, b: number): void {
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    if (max === 0) {
      this.on = false;
    } else {
      this.on = true;
      this.color[0] = Math.round((r * 255) / max);
      this.color[1] = Math.round((g * 255) / max);
      this.color[2] = Math.round((b * 255) / max);
      this.brightness = Math.round((max * 100) / 255);
      this.lit[0] = r;
      this.lit[1] = g;
      this.lit[2] = b;
    }
    this.show();
  }

  /** An API change (validated by parseLedPatch); the LED shows the colour at the brightness. */
  apply(patch: LedPatch): void {
    if (patch.color) this.color.set(patch.color);
    if (patch.brightness !== undefined) this.brightness = patch.brightness;
    if (patch.on !== undefined) this.on = patch.on;
    if (patch.color || patch.brightness !== undefined) this.render();
    this.show();
  }

  /** The button's short press: off if on, else back on as it was. */
  toggle(): void {
    this.on = !this.on;
    this.show();
  }

  /** The button's double press: on, with the preset after the current colour (the first when it is none). */
  nextPreset(): void {
    let next = 0;
    for (let i = 0; i < LED_PRESETS.length; i++) {
      const p = LED_PRESETS[i];
      if (p[0] === this.color[0] && p[1] === this.color[1] && p[2] === this.color[2]) next = (i + 1) % LED_PRESETS.length;
    }
    this.color.set(LED_PRESETS[next]);
    if (this.brightness === 0) this.brightness = 100;
    this.on = true;
    this.render();
    this.show();
  }

  view(): LedStateView {
    return { on: this.on, color: hexColor(this.color[0], this.color[1], this.color[2]), brightness: this.brightness };
  }

  /** The record kept across reboots: the view plus the lit colour (a page's frame is not always colour x brightness). */
  toRecord(): string {
    const lit = this.lit;
    return JSON.stringify({ ...this.view(), lit: hexColor(lit[0], lit[1], lit[2]) });
  }

  /** Restore from a record; false (state unchanged) when it is not a valid one. */
  fromRecord(record: Record<string, unknown>): boolean {
    const color = typeof record.color === 'string' ? parseHexColor(record.color) : null;
    const brightness = record.brightness;
    const shown = typeof record.lit === 'string' ? parseHexColor(record.lit) : null;
    if (typeof record.on !== 'boolean' || !color || !isPercent(brightness)) return false;
    this.on = record.on;
    this.color.set(color);
    this.brightness = brightness;
    this.render();
    // a page's frame, restored exactly when it agrees with the colour and brightness
    if (shown && Math.max(shown[0], shown[1], shown[2]) > 0 && closeTo(shown, this.lit)) this.lit.set(shown);
    this.show();
    return true;
  }

  /** The lit colour from colour and brightness. */
  private render(): void {
    const scale = this.brightness / 100;
    for (let i = 0; i < 3; i++) this.lit[i] = Math.round(this.color[i] * scale);
  }

  private show(): void {
    if (this.on) this.shown.set(this.lit);
    else this.shown.fill(0);
  }
}

function isPercent(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 100;
}

/** Within 2 per channel: what rounding a frame to colour and percent can move. */
function closeTo(a: readonly number[], b: Uint8Array): boolean {
  return Math.abs(a[0] - b[0]) <= 2 && Math.abs(a[1] - b[1]) <= 2 && Math.abs(a[2] - b[2]) <= 2;
}

/** The fields parseLedPatch accepts. */
const PATCH_FIELDS = ['on', 'color', 'brightness'];

/**
 * A POST /api/state body's JSON value as a change, or the error to answer with 400:
 * an object with any of on (boolean), color ("#rrggbb" or "#rgb") and brightness
 * (whole number 0-100), and nothing else.
 */
export function parseLedPatch(value: unknown): LedPatch | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the body must be a JSON object such as {"on":true,"color":"#20b060","brightness":69}';
  const fields = value as Record<string, unknown>;
  const keys = Object.keys(fields);
  for (let i = 0; i < keys.length; i++) {
    if (PATCH_FIELDS.indexOf(keys[i]) < 0) return `unknown field "${keys[i]}" (known: on, color, brightness)`;
  }
  const patch: LedPatch = {};
  if (fields.on !== undefined) {
    if (typeof fields.on !== 'boolean') return '"on" must be true or false';
    patch.on = fields.on;
  }
  if (fields.color !== undefined) {
    const color = typeof fields.color === 'string' ? parseHexColor(fields.color) : null;
    if (!color) return '"color" must be "#rrggbb" or "#rgb"';
    patch.color = color;
  }
  if (fields.brightness !== undefined) {
    if (!isPercent(fields.brightness)) return '"brightness" must be a whole number from 0 to 100';
    patch.brightness = fields.brightness;
  }
  return patch;
}
