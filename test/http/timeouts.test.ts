// HttpServer (sim host, real sockets on 127.0.0.1): requestTimeout (408), idleTimeout
// (silent close of idle keep-alive and silent new connections), stalled readers.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, destroyClients, get, sampleStore, sleep, startServer, stopServers, waitFor } from './helpers';
import { MemoryStore } from '../../src/http/static-store';

afterEach(() => {
  destroyClients();
  stopServers();
});

describe('requestTimeout', () => {
  it('a head sent byte by byte that then stalls gets 408 and is closed within requestTimeout of its first byte', async () => {
    const requestTimeout = 1000;
    const { port, requests } = startServer({ store: sampleStore(), requestTimeout, idleTimeout: 5000 });
    const start = performance.now(); // before the first byte
    const client = await RawClient.connect(port);
    // A head that never ends, a byte every 10 ms: 3 s and more of bytes still arriving.
    const partial = 'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'y'.repeat(300);
    let written = 0;
    for (const ch of partial) {
      if (client.closed || client.pending.length > 0) break;
      client.write(ch);
      written++;
      await sleep(10);
    }
    const r = await client.response({ timeoutMs: 10_000 });
    expect(r.status).toBe(408);
    expect(r.reason).toBe('Request Timeout');
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(10_000);
    expect(client.closedAt! - start).toBeGreaterThanOrEqual(requestTimeout - 20); // not before requestTimeout
    // ...and counted from the first byte, not restarted by each one: cut off while bytes were
    // still coming (this process's writes and the server's timer share one event loop).
    expect(written).toBeLessThan(partial.length);
    expect(requests).toEqual([{ method: '', path: '', status: 408 }]);
  });

  it('a slow head that completes in time is served; the timer restarts for the next request', async () => {
    const requestTimeout = 1000;
    const { port } = startServer({ store: sampleStore(), requestTimeout, idleTimeout: 5000 });
    const client = await RawClient.connect(port);
    for (let round = 0; round < 2; round++) {
      // idle for longer than requestTimeout first: only a timer restarted by this head can
      // let it through
      if (round > 0) await sleep(requestTimeout + 100);
      const text = get('/style.css');
      const piece = Math.ceil(text.length / 5);
      for (let i = 0; i < text.length; i += piece) {
        client.write(text.slice(i, i + piece));
        await sleep(25); // 5 pieces: ~125 ms per head
      }
      const r = await client.response();
      expect(r.status).toBe(200);
    }
    expect(client.closed).toBe(false);
  });

  it('empty lines alone do not start a request (the idle timeout closes such a connection silently)', async () => {
    const { port } = startServer({ store: sampleStore(), requestTimeout: 300, idleTimeout: 800 });
    const start = performance.now(); // before the server can have accepted (and armed a timer)
    const client = await RawClient.connect(port);
    client.write('\r\n');
    await sleep(100);
    client.write('\r\n');
    await client.waitClosed(10_000);
    expect(client.closedAt! - start).toBeGreaterThan(700); // idleTimeout, not requestTimeout (300)
    expect(client.pending.length).toBe(0);
  });
});

describe('idleTimeout', () => {
  it('an idle keep-alive connection is closed silently after idleTimeout', async () => {
    const idleTimeout = 1000;
    const { port, server } = startServer({ store: sampleStore(), idleTimeout });
    const client = await RawClient.connect(port);
    expect((await client.request(get('/style.css'))).status).toBe(200);
    const answered = performance.now();
    await sleep(idleTimeout / 4);
    expect(client.closed).toBe(false);
    const again = performance.now(); // before the server answers (and re-arms the idle timer)
    expect((await client.request(get('/style.css'))).status).toBe(200); // activity: the idle clock restarts
    await client.waitClosed(10_000);
    // from the second answer: a clock left running from the first would close a quarter earlier
    expect(client.closedAt! - again).toBeGreaterThanOrEqual(idleTimeout - 20);
    expect(client.closedAt! - answered).toBeGreaterThan(idleTimeout);
    expect(client.pending.length).toBe(0); // no response, just the close
    await waitFor(() => server.connectionsCount === 0, 'released');
  });

  it('a new connection that sends nothing is closed after idleTimeout', async () => {
    const { port } = startServer({ store: sampleStore(), idleTimeout: 500 });
    const start = performance.now(); // before the server can have accepted (and armed the timer)
    const client = await RawClient.connect(port);
    await client.waitClosed(10_000);
    expect(client.closedAt! - start).toBeGreaterThanOrEqual(480);
    expect(client.pending.length).toBe(0);
  });

  it('a client that stops reading a large response is dropped after idleTimeout without progress', async () => {
    const big = new Uint8Array(48 << 20); // more than the loopback socket buffers hold
    const { port, errors, server } = startServer({ store: new MemoryStore({ '/big.bin': big }), idleTimeout: 700 });
    const client = await RawClient.connect(port);
    client.socket.pause(); // never read
    client.write(get('/big.bin'));
    await waitFor(() => server.connectionsCount === 1, 'connection');
    await waitFor(() => server.connectionsCount === 0, 'stalled connection dropped', 15_000);
    expect(errors.some((e) => /stopped reading/.test(e.message))).toBe(true);
  }, 30_000);
});
