// Interop and probes against the echo app running in the real Moddable simulator
// (XS + Moddable's ECMA-419 sockets). Run by npm run test:moddable, which starts it.
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { WebSocket as UndiciWebSocket } from 'undici';
import { chromium } from 'playwright-core';

import { MODDABLE, WAIT_SCALE, waitFor } from './mode';

const url = MODDABLE?.echo ?? '';
const SIZES = [0, 125, 126, 65535, 65536, 1 << 20];
const { hostname, port } = new URL(url || 'ws://127.0.0.1:1/');

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function echo(ws: WebSocket, data: Buffer | string): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => {
    ws.once('message', (d, binary) => resolve({ data: d as Buffer, binary }));
    ws.send(data);
  });
}

function closeWith(ws: WebSocket, code: number, reason: string): Promise<number> {
  return new Promise((resolve) => {
    ws.once('close', (c) => resolve(c));
    ws.close(code, reason);
  });
}

/** Complete the handshake by hand; returns the socket and whatever arrives after. */
function rawOpen(): Promise<{ socket: net.Socket; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let buf = Buffer.alloc(0);
    let opened = false;
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!opened) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(buf.toString('latin1'))) return reject(new Error(buf.toString('latin1')));
        opened = true;
        buf = buf.subarray(end + 4);
        resolve({ socket, received: () => buf });
      }
    });
    socket.on('error', reject);
    socket.write(
      `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

function masked(first: number, payload: Buffer): Buffer {
  const key = Buffer.from([1, 2, 3, 4]);
  const n = payload.length;
  const header = n < 126 ? Buffer.from([first, 0x80 | n]) : Buffer.from([first, 0x80 | 126, n >> 8, n & 255]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  return Buffer.concat([header, key, body]);
}

/** Send bytes after the handshake; resolve with the close code the server answers and whether TCP closed. */
async function violation(bytes: Buffer): Promise<{ code: number; ended: boolean }> {
  const { socket, received } = await rawOpen();
  const ended = new Promise<boolean>((resolve) => {
    socket.on('close', () => resolve(true));
    setTimeout(() => resolve(false), 5000 * WAIT_SCALE);
  });
  socket.write(bytes);
  const done = await ended;
  const frame = received();
  socket.destroy();
  expect(frame[0]).toBe(0x88);
  return { code: frame.readUInt16BE(2), ended: done };
}

describe.runIf(url)('echo app in the Moddable simulator', () => {
  it('echoes text and binary of 0, 125, 126, 65535, 65536 bytes and 1 MiB (ws client)', async () => {
    const ws = await open();
    for (const size of SIZES) {
      const bin = Buffer.alloc(size, size & 0xff);
      const b = await echo(ws, bin);
      expect(b.binary).toBe(true);
      expect(b.data.equals(bin)).toBe(true);
      const text = 'é'.repeat(size >> 1) + (size & 1 ? 'x' : '');
      const t = await echo(ws, text);
      expect(t.binary).toBe(false);
      expect(t.data.toString()).toBe(text);
    }
    expect(await closeWith(ws, 4001, 'bye')).toBe(4001);
  }, waitFor(2 * SIZES.reduce((a, b) => a + b)));

  it('reassembles fragmented messages and answers pings with the same payload', async () => {
    const ws = await open();
    const got = new Promise<Buffer>((resolve) => ws.once('message', (d) => resolve(d as Buffer)));
    ws.send('frag', { fin: false });
    ws.send('men', { fin: false });
    ws.send('ted', { fin: true });
    expect((await got).toString()).toBe('fragmented');
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', (d) => resolve(d)));
    ws.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
    expect(await closeWith(ws, 1000, '')).toBe(1000);
  });

  it('works with undici and with python-websockets clients', async () => {
    const u = new UndiciWebSocket(url);
    const text = await new Promise<string>((resolve, reject) => {
      u.onopen = () => u.send('from undici');
      u.onmessage = (e) => resolve(String(e.data));
      u.onerror = () => reject(new Error('undici error'));
    });
    expect(text).toBe('from undici');
    u.close(1000);
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `import asyncio, websockets
async def main():
    async with websockets.connect("${url}", max_size=None) as ws:
        await ws.send("from python")
        assert await ws.recv() == "from python"
        data = bytes(range(256)) * 1000
        await ws.send(data)
        assert await ws.recv() == data
        await ws.close(4002, "done")
        print("ok", ws.close_code)
asyncio.run(main())`,
      ],
      { encoding: 'utf8', timeout: waitFor(256_000) },
    );
    expect(py.stderr).toBe('');
    expect(py.stdout.trim()).toBe('ok 4002');
  });

  it('works with headless Chromium: text, binary up to 65536 bytes, close 4000', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const result = await page.evaluate(async (target) => {
        const ws = new window.WebSocket(target);
        ws.binaryType = 'arraybuffer';
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = reject;
        });
        const next = (): Promise<string | ArrayBuffer> => new Promise((resolve) => (ws.onmessage = (e) => resolve(e.data as string | ArrayBuffer)));
        const out: string[] = [];
        for (const size of [0, 125, 126, 65535, 65536]) {
          const bytes = new Uint8Array(size).map((_, i) => i & 255);
          ws.send(bytes);
          const echoed = new Uint8Array((await next()) as ArrayBuffer);
          out.push(`${size}:${echoed.length === size && echoed.every((b, i) => b === (i & 255))}`);
        }
        ws.send('héllo €');
        out.push(String(await next()));
        const closed = new Promise<string>((resolve) => (ws.onclose = (e) => resolve(`${e.code} ${e.wasClean}`)));
        ws.close(4000, 'done');
        out.push(await closed);
        return out;
      }, url);
      expect(result).toEqual(['0:true', '125:true', '126:true', '65535:true', '65536:true', 'héllo €', '4000 true']);
    } finally {
      await browser.close();
    }
  }, waitFor(300_000));

  it('answers protocol violations with the right close code and closes TCP', async () => {
    const cases: Array<[string, Buffer, number]> = [
      ['RSV1 set', masked(0xc1, Buffer.from('x')), 1002],
      ['reserved opcode 3', masked(0x83, Buffer.alloc(0)), 1002],
      ['ping of 126 bytes', masked(0x89, Buffer.alloc(126)), 1002],
      ['continuation without start', masked(0x80, Buffer.from('x')), 1002],
      ['unmasked frame', Buffer.from([0x81, 0x01, 0x41]), 1002],
      ['close with 1-byte payload', masked(0x88, Buffer.from([3])), 1002],
      ['close code 1005', masked(0x88, Buffer.from([0x03, 0xed])), 1002],
      ['invalid UTF-8 text', masked(0x81, Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80])), 1007],
      ['invalid UTF-8 close reason', masked(0x88, Buffer.from([0x03, 0xe8, 0xff])), 1007],
    ];
    for (const [name, bytes, code] of cases) {
      const result = await violation(bytes);
      expect(result, name).toEqual({ code, ended: true });
    }
  });

  it('a peer that sends a close frame and resets at once cannot kill the app (no SIGPIPE on the write after it)', async () => {
    const mask = [1, 2, 3, 4];
    const masked = (payload: number[]): Buffer => Buffer.from([0x88, 0x80 | payload.length, ...mask, ...payload.map((b, i) => b ^ mask[i % 4]!)]);
    const frames = [masked([]), masked([0x03, 0xe8, 0xff]), masked([0x03, 0xe8, 0x62, 0x79, 0x65])]; // empty; invalid UTF-8 reason; "bye"
    for (let i = 0; i < 30; i++) {
      const { socket } = await rawOpen();
      await new Promise<void>((resolve) => socket.write(frames[i % frames.length]!, () => resolve()));
      socket.resetAndDestroy(); // RST at once: the app's close frame (or its 1007) meets a reset socket
      await new Promise((r) => setTimeout(r, 30));
    }
    const ws = await open();
    expect((await echo(ws, 'still here')).data.toString()).toBe('still here');
    expect(await closeWith(ws, 1000, 'done')).toBe(1000);
  });

  it('accepts a 1.9 KB request head (XS pushes apply() arguments on its small stack)', async () => {
    const extra = Array.from({ length: 30 }, (_, i) => `x-filler-${i}: ${'v'.repeat(40)}\r\n`).join('');
    const response = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), hostname);
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    expect(response).toMatch(/^HTTP\/1\.1 101 /);
  });

  it('answers bad handshakes with 400/426/405 and closes', async () => {
    const ask = (request: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = net.connect(Number(port), hostname);
        let text = '';
        socket.on('data', (d) => (text += d.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.write(request);
      });
    const base = `Host: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
    expect(await ask(`GET / HTTP/1.1\r\n${base}Sec-WebSocket-Version: 13\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
    expect(await ask(`GET / HTTP/1.1\r\n${base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 426 [\s\S]*Sec-WebSocket-Version: 13/i,
    );
    expect(await ask(`POST / HTTP/1.1\r\n${base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 405 /,
    );
  });
});
