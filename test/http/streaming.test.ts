// HttpServer (sim host, real sockets on 127.0.0.1): bodies are streamed under
// onWritable, never written whole: a 200 KB file through a 1 KiB emulated send buffer
// (SIM_TCP_SEND_BUFFER) to a client that reads slowly arrives byte for byte.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import SimTCP from '../../hosts/sim/tcp';
import { RawClient, destroyClients, get, pattern, startServer, stopServers } from './helpers';
import { MemoryStore } from '../../src/http/static-store';
import type { StaticEntry, StaticStore } from '../../src/http/static-store';

const SEND_BUFFER = 1024;
const saved = process.env.SIM_TCP_SEND_BUFFER;
// Every write the server makes: sizes, to check none exceeds the send buffer.
const writes: number[] = [];
const originalWrite = SimTCP.prototype.write;

beforeAll(() => {
  process.env.SIM_TCP_SEND_BUFFER = String(SEND_BUFFER); // read when a connection is accepted
  SimTCP.prototype.write = function (this: SimTCP, data: Parameters<SimTCP['write']>[0]) {
    writes.push(typeof data === 'number' ? 1 : data.byteLength);
    return originalWrite.call(this, data);
  };
});

afterAll(() => {
  SimTCP.prototype.write = originalWrite;
  if (saved === undefined) delete process.env.SIM_TCP_SEND_BUFFER;
  else process.env.SIM_TCP_SEND_BUFFER = saved;
});

afterEach(() => {
  destroyClients();
  stopServers();
  writes.length = 0;
});

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Read slowly: after every chunk, stop reading for a few milliseconds. Returns the chunk count so far. */
function readSlowly(client: RawClient, pauseMs: number): () => number {
  let chunks = 0;
  client.socket.on('data', () => {
    chunks++;
    client.socket.pause();
    setTimeout(() => client.socket.resume(), pauseMs);
  });
  return () => chunks;
}

describe('streamed bodies', () => {
  it('a 200 KB file through a 1 KiB send buffer to a slow reader: whole, identical, no write over the budget', async () => {
    const file = pattern(200 * 1024, 7);
    const pieces: [number, number][] = [];
    const base = new MemoryStore({ '/big.bin': file });
    // A store that records what the server asks for (the device returns flash views).
    const store: StaticStore = {
      get(path) {
        const entry = base.get(path);
        if (!entry) return null;
        const spy: StaticEntry = { ...entry, body: (start, end) => (pieces.push([start, end]), entry.body(start, end)) };
        return spy;
      },
    };
    const { port } = startServer({ store });
    const client = await RawClient.connect(port);
    const chunks = readSlowly(client, 10);
    const started = performance.now();
    const r = await client.request(get('/big.bin'), { timeoutMs: 30_000 });
    expect(chunks()).toBeGreaterThan(1); // it really arrived over several slow reads
    expect(performance.now() - started).toBeGreaterThan(10);
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(file.length);
    expect(r.body.length).toBe(file.length);
    expect(sha(r.body)).toBe(sha(file));
    // Streamed: many writes, none larger than the emulated send buffer.
    expect(writes.length).toBeGreaterThanOrEqual(Math.ceil(file.length / SEND_BUFFER));
    expect(Math.max(...writes)).toBeLessThanOrEqual(SEND_BUFFER);
    // The store was asked for contiguous pieces covering the file once: the first fills the
    // rest of the head buffer (head and body start leave in one segment), the others are
    // at most what one onWritable allows.
    let at = 0;
    for (let i = 0; i < pieces.length; i++) {
      const [start, end] = pieces[i]!;
      expect(start).toBe(at);
      expect(end - start).toBeLessThanOrEqual(i === 0 ? 2048 : SEND_BUFFER);
      at = end;
    }
    expect(at).toBe(file.length);
    // The connection is still usable afterwards.
    const small = await client.request(get('/big.bin', '', 'HEAD'), { head: true });
    expect(small.headers['content-length']).toBe(String(file.length));
  }, 40_000);

  it('a 10 KB page, pipelined with a second request behind it, both whole', async () => {
    const page = pattern(10 * 1024, 3);
    const { port } = startServer({ store: new MemoryStore({ '/page.html': page, '/b.txt': 'second' }) });
    const client = await RawClient.connect(port);
    readSlowly(client, 1);
    client.write(get('/page.html') + get('/b.txt') + get('/page.html'));
    const a = await client.response();
    const b = await client.response();
    const c = await client.response();
    expect(sha(a.body)).toBe(sha(page));
    expect(b.body.toString()).toBe('second');
    expect(sha(c.body)).toBe(sha(page));
    expect(Math.max(...writes)).toBeLessThanOrEqual(SEND_BUFFER);
  });

  it('a large route body (bytes) is streamed the same way', async () => {
    const bytes = pattern(50_000, 11);
    const { port } = startServer({ routes: { '/dump': () => ({ status: 200, contentType: 'application/octet-stream', body: bytes }) } });
    const client = await RawClient.connect(port);
    const r = await client.request(get('/dump'), { timeoutMs: 20_000 });
    expect(sha(r.body)).toBe(sha(bytes));
    expect(Math.max(...writes)).toBeLessThanOrEqual(SEND_BUFFER);
  });

  it('a store that fails mid-stream drops the connection (the promised length cannot be met) and reports it', async () => {
    const file = pattern(20_000);
    const store: StaticStore = {
      get: () => ({
        size: file.length,
        contentType: 'application/octet-stream',
        etag: 'x',
        body(start, end) {
          if (start >= 8000) throw new Error('flash read failed');
          return file.subarray(start, end);
        },
      }),
    };
    const { port, errors, server } = startServer({ store });
    const client = await RawClient.connect(port);
    client.write(get('/f'));
    await client.waitClosed(5000);
    expect(errors.map((e) => e.message)).toContain('flash read failed');
    expect(server.connectionsCount).toBe(0);
  });
});
