import { test, eq, ok, deepEq } from '../harness';
import { LED_PRESETS, LedState, hexColor, parseHexColor, parseLedPatch } from '../../src/device/led-state';
import type { LedPatch } from '../../src/device/led-state';

const shown = (s: LedState): number[] => [s.shown[0], s.shown[1], s.shown[2]];
const record = (s: LedState): Record<string, unknown> => JSON.parse(s.toRecord()) as Record<string, unknown>;

test('led state: starts off, white at 100 %; the button turns it on white', () => {
  const s = new LedState();
  deepEq(s.view(), { on: false, color: '#ffffff', brightness: 100 });
  deepEq(shown(s), [0, 0, 0]);
  s.toggle();
  deepEq(shown(s), [255, 255, 255]);
  s.toggle();
  deepEq(shown(s), [0, 0, 0]);
});

test('led state: a page frame is shown exactly; the API reads it as the page does (hex and slider)', () => {
  const s = new LedState();
  s.setShown(0x20, 0xb0, 0x60);
  deepEq(shown(s), [0x20, 0xb0, 0x60]);
  deepEq(s.view(), { on: true, color: '#20b060', brightness: 69 }); // 0xb0 / 255
  // black is off; the colour stays for the next on, which shows the frame exactly again
  s.setShown(0, 0, 0);
  deepEq(s.view(), { on: false, color: '#20b060', brightness: 69 });
  s.toggle();
  deepEq(shown(s), [0x20, 0xb0, 0x60]);
});

test('led state: the API sets a colour as given, a brightness scales the hue, power keeps both', () => {
  const s = new LedState();
  s.apply({ on: true, color: [0x20, 0xb0, 0x60] });
  deepEq(s.view(), { on: true, color: '#20b060', brightness: 69 });
  deepEq(shown(s), [0x20, 0xb0, 0x60]);
  // the example, both fields: the colour's hue at 69 % is the colour itself
  s.apply({ color: [0x20, 0xb0, 0x60], brightness: 69 });
  deepEq(shown(s), [0x20, 0xb0, 0x60]);
  s.apply({ brightness: 100 });
  deepEq(s.view(), { on: true, color: hexColor(Math.round((0x20 * 255) / 0xb0), 255, Math.round((0x60 * 255) / 0xb0)), brightness: 100 });
  s.apply({ color: [255, 0, 0], brightness: 50 });
  deepEq(s.view(), { on: true, color: '#800000', brightness: 50 });
  s.apply({ on: false });
  deepEq(shown(s), [0, 0, 0]);
  s.apply({ brightness: 20 }); // still off
  deepEq(shown(s), [0, 0, 0]);
  s.apply({ on: true });
  deepEq(shown(s), [51, 0, 0]);
  // brightness 0 and back keeps the hue; black as a colour is brightness 0 with the hue kept
  s.apply({ brightness: 0 });
  deepEq(shown(s), [0, 0, 0]);
  eq(s.view().on, true);
  s.apply({ brightness: 100 });
  deepEq(shown(s), [255, 0, 0]);
  s.apply({ color: [0, 0, 0] });
  deepEq(s.view(), { on: true, color: '#000000', brightness: 0 });
  s.apply({ brightness: 40 });
  deepEq(shown(s), [102, 0, 0]);
});

test('led state: a double press cycles the presets, on, at the brightness', () => {
  const s = new LedState();
  s.nextPreset(); // white is the last preset: back to the first
  deepEq(shown(s), [...LED_PRESETS[0]]);
  s.nextPreset();
  deepEq(shown(s), [...LED_PRESETS[1]]);
  s.apply({ brightness: 50 });
  s.nextPreset();
  deepEq(shown(s), LED_PRESETS[2].map((x) => Math.round(x / 2)));
  s.apply({ color: [1, 2, 3] });
  s.apply({ brightness: 0 });
  s.nextPreset(); // not a preset: the first, and a dark LED gets full brightness
  deepEq(s.view(), { on: true, color: hexColor(LED_PRESETS[0][0], LED_PRESETS[0][1], LED_PRESETS[0][2]), brightness: 100 });
});

test('led state: the record restores the state exactly, the hue too; broken records change nothing', () => {
  const a = new LedState();
  a.setShown(0x16, 0x79, 0x42);
  const b = new LedState();
  ok(b.fromRecord(record(a)));
  deepEq(b.view(), a.view());
  deepEq(shown(b), [0x16, 0x79, 0x42]);
  const off = new LedState();
  off.apply({ on: false, color: [0, 0, 255], brightness: 30 });
  const c = new LedState();
  ok(c.fromRecord(record(off)));
  deepEq(shown(c), [0, 0, 0]);
  c.toggle();
  deepEq(shown(c), [0, 0, Math.round(255 * 0.3)]);
  // at brightness 0 the colour is black: the stored hue brings it back
  const dark = new LedState();
  dark.apply({ on: true, color: [0, 255, 0], brightness: 0 });
  const d = new LedState();
  ok(d.fromRecord(record(dark)));
  d.apply({ brightness: 100 });
  deepEq(shown(d), [0, 255, 0]);
  for (const bad of [{}, { on: 'yes', color: '#ffffff', brightness: 1 }, { on: true, color: 'red', brightness: 1 }, { on: true, color: '#ffffff', brightness: 101 }]) {
    const e = new LedState();
    ok(!e.fromRecord(bad), JSON.stringify(bad));
    deepEq(e.view(), { on: false, color: '#ffffff', brightness: 100 });
  }
});

test('led state: hex colours', () => {
  deepEq(parseHexColor('#20B060'), [0x20, 0xb0, 0x60]);
  deepEq(parseHexColor('#fa0'), [0xff, 0xaa, 0x00]);
  for (const bad of ['20b060', '#20b06', '#20b0600', '#xyzxyz', '', '#']) eq(parseHexColor(bad), null, bad);
  eq(hexColor(0, 15, 255), '#000fff');
});

test('led state: API changes are validated field by field', () => {
  deepEq(parseLedPatch({ on: true, color: '#20b060', brightness: 69 }) as LedPatch, { on: true, color: [0x20, 0xb0, 0x60], brightness: 69 });
  deepEq(parseLedPatch({}) as LedPatch, {});
  const errors: [unknown, RegExp][] = [
    [null, /JSON object/],
    [[1], /JSON object/],
    ['on', /JSON object/],
    [{ on: 1 }, /"on" must be true or false/],
    [{ color: 'green' }, /"color" must be/],
    [{ color: 0x20b060 }, /"color" must be/],
    [{ brightness: 69.5 }, /whole number from 0 to 100/],
    [{ brightness: -1 }, /whole number from 0 to 100/],
    [{ brightness: '69' }, /whole number from 0 to 100/],
    [{ power: true }, /unknown field "power"/],
  ];
  for (const [value, pattern] of errors) {
    const result = parseLedPatch(value);
    ok(typeof result === 'string' && pattern.test(result), `${JSON.stringify(value)} -> ${JSON.stringify(result)}`);
  }
});
