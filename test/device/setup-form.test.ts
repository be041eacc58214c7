// The set-up form's checks, the scan list's tidying and the Wi-Fi set-up's paths with a
// radio that answers inside the call (the machine must cope with that too).
import { it as test } from 'vitest';
import { deepEq, eq, ok } from '../harness';
import { checkSetupForm, isToken, tidyNetworks, WifiSetup, WIFI_RECORD_KEY } from '../../src/device/wifi-setup';
import type { JoinResult, WifiDriver, WifiNetwork } from '../../src/device/wifi-setup';
import { MemoryRecords } from '../../src/device/records';

test('set-up form: a valid form, with and without the optional fields', () => {
  deepEq(checkSetupForm({ ssid: 'home', password: 'correct-horse' }), { form: { ssid: 'home', password: 'correct-horse' } });
  deepEq(checkSetupForm({ ssid: 'cafe' }), { form: { ssid: 'cafe', password: '' } }, 'no password: an open network');
  deepEq(checkSetupForm({ ssid: 'home', password: '12345678', name: 'my-led', token: 's3cret!' }), {
    form: { ssid: 'home', password: '12345678', name: 'my-led', token: 's3cret!' },
  });
  deepEq(checkSetupForm({ ssid: 'home', password: '', name: '', token: '' }), { form: { ssid: 'home', password: '', token: '' } }, "'' name keeps the current one");
  deepEq(checkSetupForm({ ssid: 'x'.repeat(32), password: 'p'.repeat(63) }), { form: { ssid: 'x'.repeat(32), password: 'p'.repeat(63) } }, 'the limits');
  deepEq(checkSetupForm({ ssid: 'Café Wi-Fi ☕' }), { form: { ssid: 'Café Wi-Fi ☕', password: '' } }, 'UTF-8 SSID within 32 bytes');
});

test('set-up form: each wrong field is refused with its own sentence', () => {
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [null, 'the body must be a JSON object'],
    [[], 'the body must be a JSON object'],
    ['home', 'the body must be a JSON object'],
    [{}, 'ssid must be a string'],
    [{ ssid: 5 }, 'ssid must be a string'],
    [{ ssid: '' }, 'ssid must be 1 to 32 bytes long'],
    [{ ssid: 'x'.repeat(33) }, 'ssid must be 1 to 32 bytes long'],
    [{ ssid: 'é'.repeat(17) }, 'ssid must be 1 to 32 bytes long'],
    [{ ssid: 'a\u0000b' }, 'ssid must not contain control characters'],
    [{ ssid: 'home', password: 12345678 }, 'password must be a string'],
    [{ ssid: 'home', password: 'short' }, 'password must be empty (an open network) or 8 to 63 characters long'],
    [{ ssid: 'home', password: 'p'.repeat(64) }, 'password must be empty (an open network) or 8 to 63 characters long'],
    [{ ssid: 'home', password: '12345678\n' }, 'password must not contain control characters'],
    [{ ssid: 'home', name: 'My LED' }, "name must be 1 to 63 characters: lowercase letters, digits and '-', not starting or ending with '-'"],
    [{ ssid: 'home', name: false }, 'name must be a string'],
    [{ ssid: 'home', token: 'has space' }, 'token must be empty or 1 to 64 printable ASCII characters without spaces'],
    [{ ssid: 'home', token: 't'.repeat(65) }, 'token must be empty or 1 to 64 printable ASCII characters without spaces'],
    [{ ssid: 'home', token: null }, 'token must be a string'],
    [{ ssid: 'home', extra: 1 }, 'unknown field "extra"'],
  ];
  for (const [value, error] of cases) deepEq(checkSetupForm(value), { error }, JSON.stringify(value));
  ok(isToken('') && isToken('!~') && !isToken('é') && !isToken('a\tb'), 'token characters');
});

test('set-up scan list: strongest per SSID first, hidden networks dropped, bounded', () => {
  const found: WifiNetwork[] = [
    { ssid: 'b', rssi: -70, secure: true },
    { ssid: 'a', rssi: -80, secure: false },
    { ssid: '', rssi: -30, secure: true },
    { ssid: 'a', rssi: -40, secure: false },
  ];
  deepEq(tidyNetworks(found), [
    { ssid: 'a', rssi: -40, secure: false },
    { ssid: 'b', rssi: -70, secure: true },
  ]);
  const many: WifiNetwork[] = [];
  for (let i = 0; i < 40; i++) many.push({ ssid: `n${i}`, rssi: -90 + i, secure: true });
  const kept = tidyNetworks(many);
  eq(kept.length, 16);
  eq(kept[0].ssid, 'n39');
});

/** A radio that answers at once (inside the call): the machine must cope even with that. */
class InstantDriver implements WifiDriver {
  onLost: (() => void) | null = null;
  readonly mac = '30:ae:a4:1a:2b:3c';
  ap: string | null = null;
  joins: string[] = [];
  answer: JoinResult = { address: '10.0.0.7' };
  scan(done: (networks: WifiNetwork[]) => void): void {
    done([{ ssid: 'home', rssi: -50, secure: true }]);
  }
  join(ssid: string, _password: string, done: (result: JoinResult) => void): void {
    this.joins.push(ssid);
    done(this.answer);
  }
  leave(): void {}
  startAccessPoint(ssid: string): void {
    this.ap = ssid;
  }
  stopAccessPoint(): void {
    this.ap = null;
  }
}

test('wifi set-up: no stored network -> set-up access point named after the MAC', () => {
  const driver = new InstantDriver();
  const setup = new WifiSetup(driver, new MemoryRecords());
  const events: string[] = [];
  setup.onChange = (event) => events.push(event);
  setup.start();
  eq(setup.mode, 'setup');
  eq(driver.ap, 'atom-led-2b3c-setup');
  eq(setup.name, 'atom-led-2b3c');
  ok(events.indexOf('mode') >= 0 && events.indexOf('access-point') >= 0, events.join());
  deepEq(setup.status().networks, [{ ssid: 'home', rssi: -50, secure: true }], 'scanned when the access point opened');
  setup.close();
});

test('wifi set-up: a stored network is joined at start; the record gives name and token', () => {
  const records = new MemoryRecords();
  records.write(WIFI_RECORD_KEY, JSON.stringify({ ssid: 'home', password: 'correct-horse', name: 'desk-led', token: 'abc' }));
  const driver = new InstantDriver();
  const setup = new WifiSetup(driver, records);
  setup.start();
  eq(setup.mode, 'online');
  eq(setup.address, '10.0.0.7');
  eq(setup.name, 'desk-led');
  eq(setup.token, 'abc');
  eq(driver.ap, null, 'no access point');
  deepEq(setup.status(), { name: 'desk-led', mode: 'online', ssid: 'home', error: '', scanning: false, networks: [], address: '10.0.0.7' });
  setup.close();
});

test('wifi set-up: a refused password falls back to set-up with the reason', () => {
  const driver = new InstantDriver();
  driver.answer = { error: 'wrong password' };
  const setup = new WifiSetup(driver, new MemoryRecords(), { fallback: { ssid: 'home', password: 'guess-guess' } });
  setup.start();
  eq(setup.mode, 'setup');
  eq(setup.error, 'wrong password');
  eq(setup.ssid, 'home');
  ok(driver.ap !== null, 'access point up');
  setup.close();
});
