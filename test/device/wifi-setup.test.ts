// The Wi-Fi set-up state machine against SimulatedWifi (the sim hosts' radio) on the sim
// timer. Delays are short but every wait is for a condition, and what must be seen
// before a timer fires is checked inside the hook that reports it (synchronously), so
// no assertion depends on the machine's speed.
import { afterEach, describe, expect, it } from 'vitest';
import { WifiSetup, WIFI_RECORD_KEY } from '../../src/device/wifi-setup';
import type { JoinResult, WifiDriver, WifiSetupEvent, WifiSetupOptions } from '../../src/device/wifi-setup';
import { SimulatedWifi, SIMULATED_NETWORKS } from '../../src/device/simulated-wifi';
import type { SimulatedNetwork } from '../../src/device/simulated-wifi';
import { MemoryRecords } from '../../src/device/records';
import { sleep, until } from '../wait';


const open: { close(): void }[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

interface Rig {
  driver: SimulatedWifi;
  records: MemoryRecords;
  setup: WifiSetup;
  events: WifiSetupEvent[];
  log: string[];
}

function rig(options: WifiSetupOptions & { record?: object; networks?: readonly SimulatedNetwork[]; records?: MemoryRecords } = {}): Rig {
  const driver = new SimulatedWifi({ scanDelay: 10, joinDelay: 20, networks: options.networks });
  const records = options.records ?? new MemoryRecords();
  if (options.record) records.write(WIFI_RECORD_KEY, JSON.stringify(options.record));
  const log: string[] = [];
  const setup = new WifiSetup(driver, records, { joinDelay: 0, retryInterval: 0, apStopDelay: 50, joinTimeout: 2000, log: (line) => log.push(line), ...options });
  const events: WifiSetupEvent[] = [];
  setup.onChange = (event) => events.push(event);
  open.push(setup, driver);
  return { driver, records, setup, events, log };
}

const HOME = { ssid: 'home', password: 'correct-horse' };

describe('WifiSetup: start', () => {
  it('with no network known, opens "<name>-setup" with the set-up password and scans', async () => {
    const { driver, setup, events } = rig();
    setup.start();
    expect(setup.mode).toBe('setup');
    expect(setup.name).toBe('atom-led-1a2b');
    expect(driver.accessPoint).toEqual({ ssid: 'atom-led-1a2b-setup', password: 'ledsetup' });
    expect(setup.accessPointSsid).toBe('atom-led-1a2b-setup');
    expect(setup.setupOpen).toBe(true);
    expect(events).toContain('mode');
    expect(events).toContain('access-point');
    expect(setup.scanning).toBe(true);
    await until('the scan', () => !setup.scanning);
    expect(setup.status()).toEqual({
      name: 'atom-led-1a2b',
      mode: 'setup',
      ssid: '',
      error: '',
      scanning: false,
      networks: [
        { ssid: 'home', rssi: -52, secure: true },
        { ssid: 'cafe', rssi: -67, secure: false },
        { ssid: 'neighbour', rssi: -78, secure: true },
        { ssid: 'attic', rssi: -88, secure: true },
      ],
    });
  });

  it('uses the configured set-up password and name', () => {
    const { driver, setup } = rig({ setupPassword: 'let-me-in', name: 'hall-led' });
    setup.start();
    expect(driver.accessPoint).toEqual({ ssid: 'hall-led-setup', password: 'let-me-in' });
  });

  it('joins the stored network: online with its address, no access point', async () => {
    const { driver, setup, events } = rig({ record: { ...HOME, name: 'desk-led', token: 'tok' } });
    setup.start();
    expect(setup.mode).toBe('joining');
    await until('online', () => setup.mode === 'online');
    expect(setup.address).toBe('192.168.1.50');
    expect(driver.joinedSsid).toBe('home');
    expect(driver.accessPoint).toBeNull();
    expect(setup.name).toBe('desk-led');
    expect(setup.token).toBe('tok');
    expect(setup.setupOpen).toBe(false);
    expect(events).toEqual(['mode', 'mode']);
    expect(setup.status()).toEqual({ name: 'desk-led', mode: 'online', ssid: 'home', error: '', scanning: false, networks: [], address: '192.168.1.50' });
  });

  it('falls back to the build-time credentials; a stored record wins over them', async () => {
    const built = rig({ fallback: HOME });
    built.setup.start();
    await until('online with the build-time network', () => built.setup.mode === 'online');
    expect(built.driver.joinedSsid).toBe('home');
    expect(built.setup.token).toBeUndefined();

    const stored = rig({ fallback: HOME, record: { ssid: 'cafe', password: '' } });
    stored.setup.start();
    await until('online with the stored network', () => stored.setup.mode === 'online');
    expect(stored.driver.joinedSsid).toBe('cafe');
  });

  it('ignores a stored record that is not valid, and says so', async () => {
    const { setup, log } = rig({ record: { ssid: '', password: 'x' } });
    setup.start();
    expect(setup.mode).toBe('setup');
    expect(log.join('\n')).toContain('the stored settings are not valid (ssid must be 1 to 32 bytes long)');
  });
});

describe('WifiSetup: failures fall back to set-up', () => {
  it('a wrong password: set-up with "wrong password", not retried', async () => {
    const { driver, setup } = rig({ record: { ssid: 'home', password: 'wrong-horse' }, retryInterval: 30 });
    setup.start();
    await until('set-up', () => setup.mode === 'setup');
    expect(setup.error).toBe('wrong password');
    expect(setup.ssid).toBe('home');
    expect(driver.accessPoint?.ssid).toBe('atom-led-1a2b-setup');
    expect(setup.status().error).toBe('wrong password');
    await sleep(150); // several retry intervals: none for a refused password
    expect(driver.joinAttempts).toBe(1);
    expect(setup.mode).toBe('setup');
  });

  it('an unknown network: "network not found"', async () => {
    const { setup } = rig({ record: { ssid: 'nowhere', password: '' } });
    setup.start();
    await until('set-up', () => setup.mode === 'setup');
    expect(setup.error).toBe('network not found');
  });

  it('no answer within joinTimeout: "no answer from the network", and the driver stops joining', async () => {
    const { driver, setup } = rig({ record: { ssid: 'attic', password: 'far-far-away' }, joinTimeout: 100 });
    setup.start();
    expect(driver.joining).toBe(true);
    await until('set-up after the timeout', () => setup.mode === 'setup');
    expect(setup.error).toBe('no answer from the network');
    expect(driver.joining).toBe(false);
    expect(driver.accessPoint).not.toBeNull();
  });

  it('a late answer after the timeout is ignored', async () => {
    let late: ((result: JoinResult) => void) | null = null;
    const driver: WifiDriver = {
      onLost: null,
      mac: '30:ae:a4:1a:2b:3c',
      scan: (done) => setTimeout(() => done([]), 1),
      join: (_ssid, _password, done) => {
        late = done;
      },
      leave: () => {},
      startAccessPoint: () => {},
      stopAccessPoint: () => {},
    };
    const setup = new WifiSetup(driver, new MemoryRecords(), { fallback: HOME, joinTimeout: 30, retryInterval: 0 });
    open.push(setup);
    setup.start();
    await until('the timeout', () => setup.mode === 'setup');
    late!({ address: '10.0.0.9' });
    expect(setup.mode).toBe('setup');
    expect(setup.address).toBe('');
  });

  it('tries the known network again while in set-up, and joins once it is back', async () => {
    const networks: SimulatedNetwork[] = []; // the router is still booting
    const { driver, setup } = rig({ record: HOME, networks, retryInterval: 40 });
    setup.start();
    await until('set-up', () => setup.mode === 'setup');
    expect(setup.error).toBe('network not found');
    networks.push(...SIMULATED_NETWORKS);
    await until('online after a retry', () => setup.mode === 'online');
    expect(driver.joinAttempts).toBeGreaterThanOrEqual(2);
    await until('the access point closing', () => driver.accessPoint === null);
  });

  it('a lost network while online is joined again', async () => {
    const { driver, setup } = rig({ record: HOME });
    setup.start();
    await until('online', () => setup.mode === 'online');
    const modes: string[] = [];
    setup.onChange = (event) => {
      if (event === 'mode') modes.push(setup.mode);
    };
    driver.dropConnection();
    expect(setup.mode).toBe('joining');
    expect(setup.address).toBe('');
    await until('online again', () => setup.mode === 'online');
    expect(modes).toEqual(['joining', 'online']);
    expect(driver.joinAttempts).toBe(2);
  });
});

describe('WifiSetup: a network lost during set-up', () => {
  it('drops the address from the status and rejoins after retryInterval', async () => {
    const { driver, setup } = rig({ record: HOME, retryInterval: 40 });
    setup.start();
    await until('online', () => setup.mode === 'online');
    setup.enterSetup();
    driver.dropConnection();
    expect(setup.mode).toBe('setup');
    expect(setup.status().address).toBeUndefined();
    await until('online after the retry', () => setup.mode === 'online');
    expect(driver.joinAttempts).toBe(2);
    await until('the access point closing', () => driver.accessPoint === null);
  });
});

describe('WifiSetup: the button and the form', () => {
  it('a long press while online opens set-up and keeps the station; unused, it closes after setupTimeout', async () => {
    const { driver, setup } = rig({ record: HOME, setupTimeout: 80 });
    setup.start();
    await until('online', () => setup.mode === 'online');
    setup.enterSetup();
    expect(setup.mode).toBe('setup');
    expect(driver.accessPoint?.ssid).toBe('atom-led-1a2b-setup');
    expect(driver.joinedSsid).toBe('home');
    expect(setup.status().address).toBe('192.168.1.50');
    expect(setup.setupOpen).toBe(true);
    await until('set-up closing by itself', () => setup.mode === 'online');
    expect(driver.accessPoint).toBeNull();
    expect(setup.setupOpen).toBe(false);
  });

  it('leaveSetup closes set-up only while the station is joined', async () => {
    const { driver, setup } = rig({ record: HOME });
    setup.start();
    await until('online', () => setup.mode === 'online');
    setup.enterSetup();
    expect(setup.leaveSetup()).toBe(true);
    expect(setup.mode).toBe('online');
    expect(driver.accessPoint).toBeNull();

    const alone = rig();
    alone.setup.start();
    expect(alone.setup.leaveSetup()).toBe(false);
    expect(alone.setup.mode).toBe('setup');
  });

  it('a long press during a join cancels it', async () => {
    const { driver, setup } = rig({ record: { ssid: 'attic', password: 'far-far-away' } });
    setup.start();
    expect(driver.joining).toBe(true);
    setup.enterSetup();
    expect(setup.mode).toBe('setup');
    expect(driver.joining).toBe(false);
    expect(driver.accessPoint).not.toBeNull();
  });

  it('a form from set-up: stored, joining, online, and the access point closes apStopDelay later', async () => {
    const { driver, records, setup, events } = rig({ apStopDelay: 100 });
    setup.start();
    events.length = 0;
    let apUpWhenOnline: boolean | null = null;
    setup.onChange = (event) => {
      events.push(event);
      if (event === 'mode' && setup.mode === 'online') apUpWhenOnline = driver.accessPoint !== null;
    };
    expect(setup.submit({ ssid: 'home', password: 'correct-horse' })).toBe('');
    expect(setup.mode).toBe('joining');
    expect(setup.status()).toMatchObject({ mode: 'joining', ssid: 'home', error: '' });
    expect(JSON.parse(records.read(WIFI_RECORD_KEY)!)).toEqual({ ssid: 'home', password: 'correct-horse' });
    await until('online', () => setup.mode === 'online');
    expect(apUpWhenOnline).toBe(true); // the page can still read the result over the access point
    expect(setup.setupOpen).toBe(true);
    await until('the access point closing', () => driver.accessPoint === null);
    expect(setup.mode).toBe('online');
    expect(setup.setupOpen).toBe(false);
    expect(events.filter((e) => e === 'access-point')).toEqual(['access-point']); // the close
  });

  it('a wrong password from the form: back to set-up with the error; a second try succeeds', async () => {
    const { setup } = rig();
    setup.start();
    expect(setup.submit({ ssid: 'home', password: 'wrong-horse' })).toBe('');
    await until('back to set-up', () => setup.mode === 'setup');
    expect(setup.error).toBe('wrong password');
    expect(setup.submit({ ssid: 'home', password: 'correct-horse' })).toBe('');
    expect(setup.error).toBe('');
    await until('online', () => setup.mode === 'online');
  });

  it('a new name and token: stored, reported, used for the next access point', async () => {
    const { records, setup, events } = rig();
    setup.start();
    expect(setup.submit({ ssid: 'cafe', password: '', name: 'kitchen-led', token: 'kitchen-secret' })).toBe('');
    expect(setup.name).toBe('kitchen-led');
    expect(setup.token).toBe('kitchen-secret');
    expect(events).toContain('name');
    expect(events).toContain('token');
    expect(JSON.parse(records.read(WIFI_RECORD_KEY)!)).toEqual({ ssid: 'cafe', password: '', name: 'kitchen-led', token: 'kitchen-secret' });
    await until('online', () => setup.mode === 'online');
    await until('the access point closing', () => !setup.accessPointUp);
    setup.enterSetup();
    expect(setup.accessPointSsid).toBe('kitchen-led-setup');

    // a later form without name or token keeps both
    events.length = 0;
    expect(setup.submit({ ssid: 'home', password: 'correct-horse' })).toBe('');
    expect(JSON.parse(records.read(WIFI_RECORD_KEY)!)).toEqual({ ssid: 'home', password: 'correct-horse', name: 'kitchen-led', token: 'kitchen-secret' });
    expect(events).not.toContain('name');
    expect(events).not.toContain('token');
    // and an empty token clears it
    expect(setup.submit({ ssid: 'home', password: 'correct-horse', token: '' })).toBe('');
    expect(setup.token).toBe('');
  });

  it('refuses bad forms with a sentence, storing and changing nothing', () => {
    const { records, setup } = rig();
    setup.start();
    const before = setup.status();
    expect(setup.submit({ ssid: 'home', password: 'short' })).toBe('password must be empty (an open network) or 8 to 63 characters long');
    expect(setup.submit({ ssid: 'home', name: 'Bad Name' })).toMatch(/^name must be/);
    expect(setup.submit({ ssid: 'home', token: 'a b' })).toMatch(/^token must be/);
    expect(setup.submit({ ssid: 'home', admin: true })).toBe('unknown field "admin"');
    expect(setup.submit('ssid=home')).toBe('the body must be a JSON object');
    expect(records.read(WIFI_RECORD_KEY)).toBeUndefined();
    expect(setup.status()).toEqual(before);
  });

  it('joins even when the settings cannot be stored, and says so', async () => {
    const records = new MemoryRecords();
    records.write = () => {
      throw new Error('flash full');
    };
    const { setup, log } = rig({ records });
    setup.start();
    expect(setup.submit(HOME)).toBe('');
    await until('online', () => setup.mode === 'online');
    expect(log.join('\n')).toContain('cannot store the settings (they last until a restart): flash full');
  });

  it('waits joinDelay before asking the radio, so the answer to the form leaves first', async () => {
    const { driver, setup } = rig({ joinDelay: 60 });
    setup.start();
    setup.submit(HOME);
    expect(setup.mode).toBe('joining');
    expect(driver.joinAttempts).toBe(0);
    await until('online', () => setup.mode === 'online');
    expect(driver.joinAttempts).toBe(1);
  });
});

describe('WifiSetup: scanning', () => {
  it('scanning is true until the results arrive; a second scan meanwhile is refused', async () => {
    const { setup, events } = rig({ record: HOME });
    setup.start();
    await until('online', () => setup.mode === 'online');
    events.length = 0;
    expect(setup.scan()).toBe(true);
    expect(setup.scanning).toBe(true);
    expect(setup.status().scanning).toBe(true);
    expect(setup.scan()).toBe(false);
    await until('the scan', () => !setup.scanning);
    expect(setup.networks.map((n) => n.ssid)).toEqual(['home', 'cafe', 'neighbour', 'attic']);
    expect(events).toEqual(['networks', 'networks']);
  });

  it('a radio that never answers a scan: scanning ends after scanTimeout', async () => {
    const driver: WifiDriver = {
      onLost: null,
      mac: '',
      scan: () => {},
      join: () => {},
      leave: () => {},
      startAccessPoint: () => {},
      stopAccessPoint: () => {},
    };
    const setup = new WifiSetup(driver, new MemoryRecords(), { scanTimeout: 30 });
    open.push(setup);
    expect(setup.name).toBe('atom-led'); // no MAC
    setup.start();
    expect(setup.scanning).toBe(true);
    await until('the scan timeout', () => !setup.scanning);
    expect(setup.networks).toEqual([]);
  });

  it('a radio that throws is reported, not passed on', () => {
    const thrower = (): never => {
      throw new Error('radio broken');
    };
    const driver: WifiDriver = { onLost: null, mac: '', scan: thrower, join: thrower, leave: thrower, startAccessPoint: thrower, stopAccessPoint: thrower };
    const log: string[] = [];
    const setup = new WifiSetup(driver, new MemoryRecords(), { fallback: HOME, retryInterval: 0, log: (line) => log.push(line) });
    open.push(setup);
    expect(() => setup.start()).not.toThrow();
    expect(setup.mode).toBe('setup');
    expect(setup.error).toBe('could not start joining: radio broken');
    expect(setup.accessPointUp).toBe(false);
    expect(log.join('\n')).toContain('cannot open the set-up access point: radio broken');
    expect(() => setup.scan()).not.toThrow();
    expect(setup.scanning).toBe(false);
  });

  it('an exception in the onChange hook does not reach the radio callbacks', async () => {
    const { setup, log } = rig({ record: HOME });
    setup.onChange = () => {
      throw new Error('app bug');
    };
    setup.start();
    await until('online despite the hook', () => setup.mode === 'online');
    expect(log.join('\n')).toContain('app bug');
  });
});
