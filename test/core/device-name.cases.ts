// Device naming and the mDNS rename rule: pure code that runs on the device, so the same
// cases run under V8 and XS. (wifi-setup.ts imports `timer`, which the XS catalogue does
// not provide: its cases are in test/device/setup-form.test.ts.)
import { deepEq, eq, ok, test } from '../harness';
import { defaultDeviceName, deviceUrl, isDeviceName, parseMac, setupSsid } from '../../src/device/device-name';
import { renamedAfterConflict } from '../../src/device/mdns-announcer';

test('device name: the default comes from the last two bytes of the MAC', () => {
  eq(defaultDeviceName('30:ae:a4:1a:2b:3c'), 'atom-led-2b3c');
  eq(defaultDeviceName('30:AE:A4:1A:2B:3C'), 'atom-led-2b3c', 'upper case');
  eq(defaultDeviceName('30-ae-a4-1a-2b-3c'), 'atom-led-2b3c', "'-' separators");
  eq(defaultDeviceName('02:00:00:00:1a:2b'), 'atom-led-1a2b');
  eq(defaultDeviceName('00:00:00:00:00:0f'), 'atom-led-000f', 'leading zeros kept');
});

test('device name: a MAC that is not one gives "atom-led"', () => {
  for (const bad of ['', '30:ae:a4:1a:2b', '30:ae:a4:1a:2b:3c:4d', '30:ae-a4:1a:2b:3c', '30:ae:a4:1a:2b:3g', '30.ae.a4.1a.2b.3c', '30aea41a2b3c', ' 30:ae:a4:1a:2b:3c']) {
    eq(defaultDeviceName(bad), 'atom-led', JSON.stringify(bad));
  }
  eq(parseMac('zz:ae:a4:1a:2b:3c'), null);
  deepEq(parseMac('30:ae:a4:1a:2b:3c'), [0x30, 0xae, 0xa4, 0x1a, 0x2b, 0x3c]);
});

test('device name: valid names are lowercase DNS labels of 1..63 characters', () => {
  for (const good of ['a', 'atom-led-2b3c', 'my-led', '0', 'x1-2-3', 'a'.repeat(63)]) ok(isDeviceName(good), good);
  for (const bad of ['', '-a', 'a-', 'My-LED', 'my_led', 'my led', 'my.led', 'café', 'a'.repeat(64), '-']) ok(!isDeviceName(bad), bad);
  ok(!isDeviceName(42), 'a number');
  ok(!isDeviceName(undefined), 'undefined');
});

test('device name: the URL by name, with the port unless it is 80', () => {
  eq(deviceUrl('atom-led-2b3c', 80), 'http://atom-led-2b3c.local/');
  eq(deviceUrl('atom-led-2b3c'), 'http://atom-led-2b3c.local/');
  eq(deviceUrl('my-led', 8080), 'http://my-led.local:8080/');
});

test('device name: the set-up SSID is "<name>-setup" within 32 bytes', () => {
  eq(setupSsid('atom-led-2b3c'), 'atom-led-2b3c-setup');
  const long = 'a'.repeat(63);
  eq(setupSsid(long), 'a'.repeat(26) + '-setup');
  eq(setupSsid(long).length, 32);
  eq(setupSsid('a'.repeat(25) + '-bcd'), 'a'.repeat(25) + '-setup', "a '-' left at the cut is dropped");
  eq(setupSsid('a'.repeat(26)), 'a'.repeat(26) + '-setup', 'exactly 32 bytes');
});

test('mdns: the names a Moddable responder tries after conflicts', () => {
  eq(renamedAfterConflict('atom-led-2b3c', 1), 'atom-led-2b3c-2');
  eq(renamedAfterConflict('atom-led-2b3c', 2), 'atom-led-2b3c-3');
});
