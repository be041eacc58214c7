import { test, eq, ok, deepEq } from '../harness';
import { LED_PRESETS, LedState, hexColor, parseHexColor, parseLedPatch } from '../../src/device/led-state';
import type { LedPatch } from '../../src/device/led-state';

const shown = (s: LedState): number[] => [s.shown[0], s.shown[1], s.shown[2]];

test('led state: starts off, white at 100 %; the button turns it on white', () => {
  const s = new LedState();
  deepEq(s.view(), { on: false, color: '#ffffff', brightness: 100 });
  deepEq(shown(s), [0, 0, 0]);
  s.toggle();
  deepEq(shown(s), [255, 255, 255]);
  s.toggle();
  deepEq(shown(s), [0, 0, 0]);
});

test('led state: a page frame is shown exactly and read back as colour x brightness', () => {
  const s = new LedState();
  s.setShown(0x16, 0x79, 0x42);
  deepEq(shown(s), [0x16, 0x79, 0x42]);
  eq(s.view().on, true);
  eq(s.view().brightness, 47); // 121 / 255
  eq(s.view().color, hexColor(Math.round((0x16 * 255) / 0x79), 255, Math.round((0x42 * 255) / 0x79)));
  // black is off; colour and brightness stay for the next on, which shows the frame exactly again
  s.setShown(0, 0, 0);
  deepEq(s.view(), { on: false, color: s.view().color, brightness: 47 });
  s.toggle();
  deepEq(shown(s), [0x16, 0x79, 0x42]);
});

test('led state: the API sets colour, brightness and power; the LED shows colour x brightness', () => {
  const s = new LedState();
  s.apply({ on: true, color: [0x20, 0xb0, 0x60], brightness: 69 });
  deepEq(s.view(), { on: true, color: '#20b060', brightness: 69 });
  deepEq(shown(s), [Math.round(0x20 * 0.69), Math.round(0xb0 * 0.69), Math.round(0x60 * 0.69)]);
  s.apply({ on: false });
  deepEq(shown(s), [0, 0, 0]);
  s.apply({ brightness: 100 }); // still off
  deepEq(shown(s), [0, 0, 0]);
  s.apply({ on: true });
  deepEq(shown(s), [0x20, 0xb0, 0x60]);
});

test('led state: a double press cycles the presets, on, from the current colour', () => {
  const s = new LedState();
  s.nextPreset(); // white is the last preset: back to the first
  deepEq(shown(s), [...LED_PRESETS[0]]);
  s.nextPreset();
  deepEq(shown(s), [...LED_PRESETS[1]]);
  s.apply({ color: [1, 2, 3], brightness: 0 });
  s.nextPreset(); // not a preset: the first, and a dark LED gets full brightness
  deepEq(s.view(), { on: true, color: hexColor(LED_PRESETS[0][0], LED_PRESETS[0][1], LED_PRESETS[0][2]), brightness: 100 });
});

test('led state: the record restores state and the exact page frame; broken records change nothing', () => {
  const a = new LedState();
  a.setShown(0x16, 0x79, 0x42);
  const b = new LedState();
  ok(b.fromRecord(JSON.parse(a.toRecord()) as Record<string, unknown>));
  deepEq(b.view(), a.view());
  deepEq(shown(b), [0x16, 0x79, 0x42]);
  const off = new LedState();
  off.apply({ on: false, color: [0, 0, 255], brightness: 30 });
  const c = new LedState();
  ok(c.fromRecord(JSON.parse(off.toRecord()) as Record<string, unknown>));
  deepEq(shown(c), [0, 0, 0]);
  c.toggle();
  deepEq(shown(c), [0, 0, Math.round(255 * 0.3)]);
  for (const bad of [{}, { on: 'yes', color: '#ffffff', brightness: 1 }, { on: true, color: 'red', brightness: 1 }, { on: true, color: '#ffffff', brightness: 101 }]) {
    const d = new LedState();
    ok(!d.fromRecord(bad), JSON.stringify(bad));
    deepEq(d.view(), { on: false, color: '#ffffff', brightness: 100 });
  }
  // a lit colour far from colour x brightness is not trusted
  const e = new LedState();
  ok(e.fromRecord({ on: true, color: '#ff0000', brightness: 100, lit: '#00ff00' }));
  deepEq(shown(e), [255, 0, 0]);
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
