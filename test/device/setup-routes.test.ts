// The set-up API routes (GET/POST /api/setup, POST /api/setup/scan) through the shared
// API rules of json-api.ts, called as the HTTP server calls a route: status codes and
// JSON bodies, against a WifiSetup on SimulatedWifi.
import { afterEach, describe, expect, it } from 'vitest';
import { setupRoutes, MAX_SETUP_BODY } from '../../src/device/setup-routes';
import { WifiSetup, WIFI_RECORD_KEY } from '../../src/device/wifi-setup';
import { SimulatedWifi } from '../../src/device/simulated-wifi';
import { MemoryRecords } from '../../src/device/records';
import type { HttpRequest } from '../../src/http/request-reader';
import type { RouteHandler, RouteResponse } from '../../src/http/static-response';
import { until } from '../wait';


const open: { close(): void }[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

function request(method: string, target: string, body?: string, extra: Record<string, string> = {}): HttpRequest {
  const headers = new Map<string, string[]>([['host', ['atom-led-1a2b.local']]]);
  if (method === 'POST') headers.set('content-type', ['application/json']);
  for (const [name, value] of Object.entries(extra)) headers.set(name.toLowerCase(), [value]);
  const q = target.indexOf('?');
  return {
    method,
    target,
    version: 'HTTP/1.1',
    headers,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    body: method === 'POST' ? new TextEncoder().encode(body ?? '') : undefined,
  };
}

function json(response: RouteResponse): unknown {
  expect(response.contentType).toBe('application/json');
  return JSON.parse(response.body as string);
}

function rig(token?: string) {
  const driver = new SimulatedWifi({ scanDelay: 10, joinDelay: 20 });
  const records = new MemoryRecords();
  const setup = new WifiSetup(driver, records, { joinDelay: 0, retryInterval: 0, apStopDelay: 30 });
  open.push(setup, driver);
  const routes = setupRoutes(setup, { token: () => token, tokenWaived: () => setup.setupOpen });
  const route = (path: string): RouteHandler => {
    const handler = routes[path];
    if (!handler) throw new Error(`no route ${path}`);
    return handler;
  };
  return { driver, records, setup, routes, route };
}

describe('set-up routes', () => {
  it('serve exactly /api/setup and /api/setup/scan', () => {
    expect(Object.keys(rig().routes).sort()).toEqual(['/api/setup', '/api/setup/scan']);
  });

  it('GET /api/setup: 200 with the status', async () => {
    const { setup, route } = rig();
    setup.start();
    await until('the first scan', () => !setup.scanning);
    const response = route('/api/setup')(request('GET', '/api/setup'));
    expect(response.status).toBe(200);
    expect(json(response)).toEqual({
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

  it('POST /api/setup: 202 with mode "joining", stored; then online', async () => {
    const { setup, records, route } = rig();
    setup.start();
    const body = JSON.stringify({ ssid: 'home', password: 'correct-horse', name: 'my-led', token: '' });
    const response = route('/api/setup')(request('POST', '/api/setup', body));
    expect(response.status).toBe(202);
    expect(json(response)).toMatchObject({ name: 'my-led', mode: 'joining', ssid: 'home', error: '' });
    expect(JSON.parse(records.read(WIFI_RECORD_KEY)!)).toEqual({ ssid: 'home', password: 'correct-horse', name: 'my-led', token: '' });
    await until('online', () => setup.mode === 'online');
    expect(json(route('/api/setup')(request('GET', '/api/setup')))).toMatchObject({ mode: 'online', address: '192.168.1.50' });
  });

  it('POST /api/setup with a wrong password: 202, then the status says "wrong password"', async () => {
    const { setup, route } = rig();
    setup.start();
    expect(route('/api/setup')(request('POST', '/api/setup', '{"ssid":"home","password":"wrong-horse"}')).status).toBe(202);
    await until('back to set-up', () => setup.mode === 'setup');
    expect(json(route('/api/setup')(request('GET', '/api/setup')))).toMatchObject({ mode: 'setup', ssid: 'home', error: 'wrong password' });
  });

  it('POST /api/setup refuses bad bodies with 400 and one sentence, changing nothing', () => {
    const { setup, records, route } = rig();
    setup.start();
    const post = (body: string): RouteResponse => route('/api/setup')(request('POST', '/api/setup', body));
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['{"ssid":"home","password":"short"}', 'password must be empty (an open network) or 8 to 63 characters long'],
      ['{"ssid":42}', 'ssid must be a string'],
      ['{"password":"correct-horse"}', 'ssid must be a string'],
      ['{"ssid":"home","name":"-bad-"}', "name must be 1 to 63 characters: lowercase letters, digits and '-', not starting or ending with '-'"],
      ['{"ssid":"home","token":"two words"}', 'token must be empty or 1 to 64 printable ASCII characters without spaces'],
      ['{"ssid":"home","reboot":true}', 'unknown field "reboot"'],
      ['["home"]', 'the body must be a JSON object'],
      ['{"ssid":"home"', 'the body is not valid JSON'],
      ['', 'the body is not valid JSON'],
    ];
    for (const [body, error] of cases) {
      const response = post(body);
      expect(response.status, body).toBe(400);
      expect(json(response), body).toEqual({ error });
    }
    expect(records.read(WIFI_RECORD_KEY)).toBeUndefined();
    expect(setup.mode).toBe('setup');
  });

  it(`POST /api/setup over ${MAX_SETUP_BODY} bytes: 413`, () => {
    const { setup, route } = rig();
    setup.start();
    const body = JSON.stringify({ ssid: 'home', password: 'correct-horse', x: 'y'.repeat(MAX_SETUP_BODY) });
    expect(body.length).toBeGreaterThan(MAX_SETUP_BODY);
    const response = route('/api/setup')(request('POST', '/api/setup', body));
    expect(response.status).toBe(413);
    expect(json(response)).toEqual({ error: `the body is larger than ${MAX_SETUP_BODY} bytes` });
    // the longest valid form fits, even with every escapable character escaped
    const longest = JSON.stringify({ ssid: '"'.repeat(32), password: '"'.repeat(63), name: 'a'.repeat(63), token: '\\'.repeat(64) });
    expect(longest.length).toBeGreaterThan(400);
    expect(longest.length).toBeLessThanOrEqual(MAX_SETUP_BODY);
    expect(route('/api/setup')(request('POST', '/api/setup', longest)).status).toBe(202);
  });

  it('POST /api/setup/scan {}: 202 with scanning true; results follow', async () => {
    const { setup, route } = rig();
    setup.start();
    await until('the first scan', () => !setup.scanning);
    const response = route('/api/setup/scan')(request('POST', '/api/setup/scan', '{}'));
    expect(response.status).toBe(202);
    expect(json(response)).toMatchObject({ scanning: true });
    await until('the scan', () => !setup.scanning);
    expect((json(route('/api/setup')(request('GET', '/api/setup'))) as { networks: unknown[] }).networks).toHaveLength(4);
  });

  it('POST /api/setup/scan with anything but {}: 400', () => {
    const { setup, route } = rig();
    setup.start();
    const scan = (body: string): RouteResponse => route('/api/setup/scan')(request('POST', '/api/setup/scan', body));
    expect(json(scan('{"channel":6}'))).toEqual({ error: 'unknown field "channel"' });
    expect(scan('{"channel":6}').status).toBe(400);
    expect(json(scan('[]'))).toEqual({ error: 'the body must be {}' });
    expect(json(scan('null'))).toEqual({ error: 'the body must be {}' });
  });

  it('other methods: 405 with Allow', () => {
    const { route } = rig();
    const response = route('/api/setup/scan')(request('GET', '/api/setup/scan'));
    expect(response.status).toBe(405);
    expect(response.headers?.Allow).toBe('POST');
    expect(route('/api/setup')(request('PUT', '/api/setup', '{}')).status).toBe(405);
  });

  it('the token is waived while set-up is open and asked for once online', async () => {
    const { setup, route } = rig('tok');
    setup.start();
    expect(route('/api/setup')(request('GET', '/api/setup')).status).toBe(200); // set-up: no token
    expect(route('/api/setup')(request('POST', '/api/setup', '{"ssid":"home","password":"correct-horse"}')).status).toBe(202);
    await until('online with the access point closed', () => setup.mode === 'online' && !setup.accessPointUp);
    expect(route('/api/setup')(request('GET', '/api/setup')).status).toBe(401);
    expect(route('/api/setup')(request('GET', '/api/setup', undefined, { Authorization: 'Bearer tok' })).status).toBe(200);
  });
});
