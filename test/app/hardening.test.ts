// The LED app under hostile LAN clients (issue "Hardening"), end to end on the real app
// process: the sim host, or under npm run test:moddable the Moddable simulator build.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, LedAppProcess, ROOT, closeClients, sleep, stopApps, until } from './helpers';
import { inProcessOnly } from '../moddable/mode';
import { SilentHolder, Slowloris } from '../../scripts/stress/attackers.mjs';

let app: LedAppProcess;

beforeAll(async () => {
  app = await LedAppProcess.start();
}, 60_000);

afterEach(() => {
  closeClients();
  // 503s for the attackers that found every slot busy are expected here.
  expect(app.unexpectedStderr().filter((line) => !/server full: rejected a connection with 503/.test(line))).toEqual([]);
  expect(app.running).toBe(true);
});

afterAll(async () => {
  closeClients();
  await stopApps();
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: app.port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no response in 15 s')));
    req.end();
  });
}

describe('slowloris', () => {
  it('clients trickling request heads on more connections than the server has never lock out a well-behaved client', async () => {
    const attackers = Array.from({ length: 12 }, () => new Slowloris(app.port, 100));
    try {
      await sleep(1500); // every slot taken by a trickling head, the rest refused and reconnecting
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const response = await get('/');
        statuses.push(response.status);
        expect(response.body.length).toBeGreaterThan(0);
      }
      expect(statuses).toEqual(Array(20).fill(200));
      // The attack was real: the attackers held connections and the server cut them off.
      expect(attackers.reduce((n, a) => n + a.dropped, 0)).toBeGreaterThanOrEqual(20);
    } finally {
      for (const a of attackers) a.stop();
    }
  }, 120_000);
});

describe('silent slot holders', () => {
  it('connections that send nothing and reconnect before they count as stalled never lock out a well-behaved client', async () => {
    // Twice the slots (8 in the sim host, 4 on the Atom Lite), each hung up after 900 ms:
    // whenever a newcomer arrives, every slot is held by a connection under 1 s old,
    // spared as a browser's pre-connect is. One address may not hold every slot against
    // a newcomer from another: the newcomer takes the slot of its newest silent connection.
    const holders = Array.from({ length: 16 }, () => new SilentHolder(app.port, 900));
    try {
      await sleep(1500);
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await get('/')).status);
      expect(statuses).toEqual(Array(20).fill(200));
      expect(holders.reduce((n, h) => n + h.connections, 0)).toBeGreaterThan(16); // the attack ran
    } finally {
      for (const h of holders) h.stop();
    }
  }, 120_000);
});

describe('a congested client', () => {
  let reader: ChildProcessWithoutNullStreams | null = null;

  afterEach(() => {
    if (reader && reader.exitCode === null && reader.pid) process.kill(reader.pid, 'SIGKILL');
    reader = null;
  });

  // Moddable's desktop socket cannot hold a full send buffer: it reports 1,536 bytes
  // writable whenever the kernel has any room, and a write the kernel refuses fails
  // ("write failed"), so there the congested client is dropped (its page reconnects and
  // gets the colour of the moment), never "behind". The ESP32's lwip counts exactly.
  inProcessOnly(
    "Moddable's lin socket drops a client whose kernel buffer is full (a failed write) instead of holding back: it is never behind there",
  )('ends on the colour the LED shows: what it missed while it did not read is made good once it drains', async () => {
    // A phone that stops reading (a 2 KiB receive buffer, so its share of the server fills soon).
    const proc = spawn('/usr/bin/python3', [join(ROOT, 'test/app/peers/slow_reader.py'), String(app.port), new URL(app.wsUrl()).pathname + new URL(app.wsUrl()).search]);
    reader = proc;
    const said: string[] = [];
    createInterface({ input: proc.stdout }).on('line', (line) => said.push(line));
    await until('the slow reader to open', () => said.includes('open'), 10_000);

    const flooder = await Client.open(app.wsUrl(), app.origin);
    await flooder.nextBinary('the current colour');
    // Flood until the app reports that the slow reader missed a colour (its send budget is full).
    let seen = app.lines.length;
    let missed = false;
    for (let i = 0; !missed; ) {
      for (let k = 0; k < 200; k++, i++) flooder.send([i & 255, (i >> 8) & 255, 1]);
      await sleep(2);
      for (; seen < app.lines.length && !missed; seen++) missed = /^led: \S+ missed a colour/.test(app.lines[seen]!.text);
      if (i > 2_000_000) throw new Error('the slow reader never fell behind');
    }
    const final = [0x12, 0x34, 0x56];
    const mark = app.lines.length;
    flooder.send(final);
    await app.waitLed(final, mark, 60_000);

    proc.stdin.write('go\n'); // it reads again: the backlog, then the colour of now
    await until('the slow reader to show the LED colour', () => said[said.length - 1] === 'color 18 52 86', 60_000);
    await app.waitLine((line) => /^led: \S+ caught up$/.test(line), mark, 10_000);
  }, 180_000);
});

describe('DNS rebinding', () => {
  /** One raw request; the status line's code (0 when the connection closed without one). */
  function statusFor(request: string): Promise<number> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: app.port }, () => socket.write(request));
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
        if (m) {
          resolve(Number(m[1]));
          socket.destroy();
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(0));
    });
  }

  it('a Host the device does not answer for gets 421 for the page and for the WebSocket upgrade', async () => {
    const evil = `evil.example:${app.port}`;
    expect(await statusFor(`GET / HTTP/1.1\r\nHost: ${evil}\r\n\r\n`)).toBe(421);
    const upgrade = (host: string, origin: string): string =>
      `GET /ws${new URL(app.wsUrl()).search} HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\n` +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    // The rebinding page's own origin matches the Host it was given: the Origin check alone let it in.
    expect(await statusFor(upgrade(evil, `http://${evil}`))).toBe(421);
    // The names the device does answer for.
    expect(await statusFor(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\n\r\n`)).toBe(200);
    expect(await statusFor(`GET / HTTP/1.1\r\nHost: localhost:${app.port}\r\n\r\n`)).toBe(200);
    expect(await statusFor(upgrade(`localhost:${app.port}`, `http://localhost:${app.port}`))).toBe(101);
  });
});
