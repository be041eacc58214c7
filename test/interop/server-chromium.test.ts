// Real-peer tests of WebSocketServer (sim host) with headless Chromium (playwright-core,
// Debian's /usr/bin/chromium): a page served from 127.0.0.1 opens
// `new WebSocket('ws://127.0.0.1:PORT/')`, checks every echo inside the page and
// reports what it saw. Chromium is launched once for the file. Under npm run
// test:moddable the server is the Moddable simulator's (peers/server-harness.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { installSimPlatform } from '../../hosts/sim/platform';
import { waitFor } from '../moddable/mode';
import { BIG, MULTIBYTE, MiB, SIZES, SIZES_TOTAL, ServerUnderTest, asciiText, disposeServers, pattern } from './peers/server-harness';

let browser: Browser | null = null;
let site: http.Server | null = null;
let origin = '';
const pages = new Set<Page>();

beforeAll(async () => {
  installSimPlatform();
  site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><title>ws test</title><p>ws test</p>');
  });
  await new Promise<void>((resolve) => site!.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 30_000);

afterEach(async () => {
  for (const page of pages) await page.close().catch(() => {});
  pages.clear();
  await disposeServers();
});

afterAll(async () => {
  await browser?.close();
  browser = null;
  if (site) await new Promise<void>((resolve) => site!.close(() => resolve()));
  site = null;
});

async function newPage(): Promise<Page> {
  const page = await browser!.newPage();
  pages.add(page);
  await page.goto(`${origin}/`);
  return page;
}

interface EchoReport {
  results: { type: string; size: number; ok: boolean; length: number }[];
  utf8: { ok: boolean; length: number }[];
  close: { code: number; reason: string; wasClean: boolean };
  protocol: string;
  extensions: string;
}

describe('Chromium WebSocket against WebSocketServer', () => {
  it('echoes text and binary (0, 125, 126, 65535, 65536 bytes, 1 MiB) and multibyte UTF-8; closes with 4000 "done"', async () => {
    // Only the page's origin is accepted; s.origins: what the server saw of each handshake request.
    const s = new ServerUnderTest(BIG, { allowOrigins: [origin] });
    await s.ready();
    const page = await newPage();
    const report = await page.evaluate(
      async ({ url, sizes, multibyte }): Promise<EchoReport> => {
        const ws = new WebSocket(url);
        ws.binaryType = 'arraybuffer';
        const inbox: (string | ArrayBuffer)[] = [];
        const waiting: ((data: string | ArrayBuffer) => void)[] = [];
        ws.onmessage = (e: MessageEvent) => {
          const w = waiting.shift();
          if (w) w(e.data as string | ArrayBuffer);
          else inbox.push(e.data as string | ArrayBuffer);
        };
        const next = (): Promise<string | ArrayBuffer> =>
          inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => waiting.push(resolve));
        const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
          ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        });
        await new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error('websocket error before open'));
        });
        // The generators of test/interop/peers/server-harness.ts.
        const pattern = (n: number, seed: number): Uint8Array<ArrayBuffer> => {
          const out = new Uint8Array(n);
          for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
          return out;
        };
        const asciiText = (n: number, seed: number): string => {
          const bytes = new Uint8Array(n);
          for (let i = 0; i < n; i++) bytes[i] = 32 + ((i * 7 + seed + (i >>> 7)) % 95);
          return new TextDecoder().decode(bytes);
        };
        const results: EchoReport['results'] = [];
        for (const size of sizes) {
          const text = asciiText(size, size);
          ws.send(text);
          const t = await next();
          results.push({ type: 'text', size, ok: typeof t === 'string' && t === text, length: typeof t === 'string' ? t.length : -1 });
          const bytes = pattern(size, size);
          ws.send(bytes);
          const b = await next();
          let ok = b instanceof ArrayBuffer && b.byteLength === size;
          if (ok) {
            const got = new Uint8Array(b as ArrayBuffer);
            for (let i = 0; i < size; i++) if (got[i] !== bytes[i]) { ok = false; break; }
          }
          results.push({ type: 'binary', size, ok, length: b instanceof ArrayBuffer ? b.byteLength : -1 });
        }
        const utf8: EchoReport['utf8'] = [];
        for (const text of [multibyte, '😀', multibyte.repeat(3000)]) {
          ws.send(text);
          const t = await next();
          utf8.push({ ok: t === text, length: typeof t === 'string' ? new TextEncoder().encode(t).length : -1 });
        }
        const protocol = ws.protocol;
        const extensions = ws.extensions;
        ws.close(4000, 'done');
        return { results, utf8, close: await closed, protocol, extensions };
      },
      { url: s.url, sizes: [...SIZES], multibyte: MULTIBYTE },
    );
    expect(report.results.map((r) => [r.type, r.size, r.ok])).toEqual(SIZES.flatMap((n) => [['text', n, true], ['binary', n, true]]));
    expect(report.utf8.map((u) => u.ok)).toEqual([true, true, true]);
    expect(report.utf8.map((u) => u.length)).toEqual([Buffer.byteLength(MULTIBYTE), 4, 3000 * Buffer.byteLength(MULTIBYTE)]);
    expect(report.extensions).toBe(''); // Chromium offers permessage-deflate; the server declines
    expect(report.protocol).toBe('');
    expect(report.close).toEqual({ code: 4000, reason: '', wasClean: true }); // the server echoes the code
    // What the server saw: the page's origin, Chromium's handshake headers, every message whole.
    await s.settled();
    const seen = s.origins;
    expect(seen).toHaveLength(1);
    expect(seen[0]!.origin).toBe(origin);
    expect(seen[0]!.connection?.toLowerCase().split(/\s*,\s*/)).toContain('upgrade');
    expect(seen[0]!.upgrade?.toLowerCase()).toBe('websocket');
    expect(seen[0]!.version).toBe('13');
    expect(s.messages).toHaveLength(SIZES.length * 2 + 3);
    SIZES.forEach((n, i) => {
      expect(s.messages[2 * i]!.data === asciiText(n, n)).toBe(true);
      expect(Buffer.compare(s.messages[2 * i + 1]!.data as Uint8Array, pattern(n, n))).toBe(0);
    });
    expect(s.refusedSends).toEqual([]);
    const [opened] = s.opened;
    expect(await s.waitClosed(opened!.endpoint)).toMatchObject({ code: 4000, reason: 'done', wasClean: true });
    expect(s.messages.some((m) => typeof m.data !== 'string' && m.data.length === MiB)).toBe(true);
  }, Math.max(30_000, waitFor(2 * SIZES_TOTAL + 3002 * Buffer.byteLength(MULTIBYTE)))); // every size as text and binary, the UTF-8 texts

  it('server-side close (disconnectClient 4002 "bye") and keep-alive pings answered by the browser', async () => {
    const s = new ServerUnderTest({ keepAliveInterval: 150, clientTimeout: 300 });
    const page = await newPage();
    const closing = page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      const messages: string[] = [];
      ws.onmessage = (e: MessageEvent) => messages.push(String(e.data));
      await new Promise<void>((resolve) => (ws.onopen = () => resolve()));
      ws.send('hello');
      const close = await new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
        ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
      });
      return { close, messages };
    }, s.url);
    const [opened] = await s.waitOpened(1);
    await s.until(() => s.messages.length === 1, 'hello');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // > 2 x (interval + timeout) of browser-only pongs
    await s.settled();
    expect(s.closed).toEqual([]);
    expect(s.server.listClients()).toEqual([opened!.endpoint]);
    expect(await s.server.disconnectClient(opened!.endpoint, 4002, 'bye')).toBe(true);
    const result = await closing;
    expect(result.messages).toEqual(['hello']);
    expect(result.close).toEqual({ code: 4002, reason: 'bye', wasClean: true });
    expect(await s.waitClosed(opened!.endpoint)).toMatchObject({ code: 4002, wasClean: true });
  });

  it('an Origin the server refuses: the browser never opens (error, then close 1006)', async () => {
    const s = new ServerUnderTest({}, { allowOrigins: [] }); // refuses every origin
    await s.ready();
    const page = await newPage();
    const result = await page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      const events: string[] = [];
      ws.onopen = () => events.push('open');
      ws.onerror = () => events.push('error');
      const close = await new Promise<{ code: number; wasClean: boolean }>((resolve) => {
        ws.onclose = (e) => resolve({ code: e.code, wasClean: e.wasClean });
      });
      return { events, close };
    }, s.url);
    expect(result.events).toEqual(['error']);
    expect(result.close).toEqual({ code: 1006, wasClean: false });
    await s.settled();
    expect(s.origins.map((r) => r.origin)).toEqual([origin]);
    expect(s.opened).toEqual([]);
    expect(s.errors.map((e) => e.error.message)).toEqual(['handshake rejected: 403 origin not allowed']);
  });
});
