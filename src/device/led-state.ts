// The LED's state as people and tools see it: power, the colour the LED shows when on,
// and its brightness in percent (the HTTP API's {"on":true,"color":"#20b060","brightness":69}),
// the same model as the page's: its hex value is the colour, its slider the brightness
// (the HSV value: the largest channel over 255). Pages speak in shown colours (3-byte
// [R, G, B] frames), which are shown exactly. A hue (the colour at full brightness) is
// kept beside, so that brightness 0 and back, or a new brightness, keeps the colour's hue.
// The state is a record kept across reboots (see toRecord/fromRecord).

/** The API's view of the state. */
export interface LedStateView {
  on: boolean;
  /** "#rrggbb": the colour the LED shows when on. */
  color: string;
  /** 0-100 %: the colour's largest channel over 255. */
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

/** The brightness of a colour in percent: its largest channel over 255. */
function percentOf(c: ArrayLike<number>): number {
  return Math.round((Math.max(c[0], c[1], c[2]) * 100) / 255);
}

export class LedState {
  on = false;
  /** The colour the LED shows when on (exactly what a page sent, or the hue at the brightness). */
  private readonly lit = new Uint8Array([255, 255, 255]);
  brightness = 100;
  /** The colour at full brightness (largest channel 255): what a new brightness scales. */
  private readonly hue = new Uint8Array([255, 255, 255]);
  /** What the LED shows: black when off, else the lit colour. */
  readonly shown = new Uint8Array(3);

  /** A page's frame: black is off (the colour kept for the next on), else shown exactly. */
  setShown(r: number, g: number, b: number): void {
    if (r | g | b) {
      this.lit[0] = r;
      this.lit[1] = g;
      this.lit[2] = b;
      this.litChanged();
      this.on = true;
    } else this.on = false;
    this.show();
  }

  /** An API change (validated by parseLedPatch). A colour is shown as given unless a brightness comes with it. */
  apply(patch: LedPatch): void {
    if (patch.color) {
      this.lit.set(patch.color);
      this.litChanged();
    }
    if (patch.brightness !== undefined) {
      this.brightness = patch.brightness;
      this.scale();
    }
    if (patch.on !== undefined) this.on = patch.on;
    this.show();
  }

  /** The button's short press: off if on, else back on as it was. */
  toggle(): void {
    this.on = !this.on;
    this.show();
  }

  /** The button's double press: on, with the preset after the current hue (the first when it is none), at the brightness. */
  nextPreset(): void {
    let next = 0;
    const hue = this.hue;
    for (let i = 0; i < LED_PRESETS.length; i++) {
      const p = LED_PRESETS[i];
      if (p[0] === hue[0] && p[1] === hue[1] && p[2] === hue[2]) next = (i + 1) % LED_PRESETS.length;
    }
    hue.set(LED_PRESETS[next]);
    if (this.brightness === 0) this.brightness = 100;
    this.scale();
    this.on = true;
    this.show();
  }

  view(): LedStateView {
    const lit = this.lit;
    return { on: this.on, color: hexColor(lit[0], lit[1], lit[2]), brightness: this.brightness };
  }

  /** The record kept across reboots: the view and the hue. */
  toRecord(): string {
    const hue = this.hue;
    return JSON.stringify({ ...this.view(), hue: hexColor(hue[0], hue[1], hue[2]) });
  }

  /** Restore from a record; false (state unchanged) when it is not a valid one. */
  fromRecord(record: Record<string, unknown>): boolean {
    const color = typeof record.color === 'string' ? parseHexColor(record.color) : null;
    const hue = typeof record.hue === 'string' ? parseHexColor(record.hue) : null;
    const brightness = record.brightness;
    if (typeof record.on !== 'boolean' || !color || !isPercent(brightness)) return false;
    this.on = record.on;
    this.lit.set(color);
    this.litChanged();
    this.brightness = brightness; // as stored (a dark colour keeps its 0 %)
    if (hue && Math.max(hue[0], hue[1], hue[2]) === 255) this.hue.set(hue); // finer than one read back from a dim colour
    this.show();
    return true;
  }

  /** The lit colour is new: its brightness, and its hue unless it is black (then brightness 0, the hue kept). */
  private litChanged(): void {
    const lit = this.lit;
    const max = Math.max(lit[0], lit[1], lit[2]);
    this.brightness = percentOf(lit);
    if (max === 0) return;
    for (let i = 0; i < 3; i++) this.hue[i] = Math.round((lit[i] * 255) / max);
  }

  /** The lit colour from the hue at the brightness. */
  private scale(): void {
    const scale = this.brightness / 100;
    for (let i = 0; i < 3; i++) this.lit[i] = Math.round(this.hue[i] * scale);
  }

  private show(): void {
    if (this.on) this.shown.set(this.lit);
    else this.shown.fill(0);
  }
}

function isPercent(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 100;
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
