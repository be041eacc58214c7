// HttpServer (sim host, real sockets on 127.0.0.1): requestTimeout (408), idleTimeout
// (silent close of idle keep-alive and silent new connections), stalled readers.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, destroyClients, get, sampleStore, sleep, startServer, stopServers, waitFor } from './helpers';
import { MemoryStore } from '../../src/static-store';

afterEach(() => {
  destroyClients();
  stopServers();
});

const SLACK = 400; // timer and scheduling slack (ms)

describe('requestTimeout', () => {
  it('a head sent byte by byte that then stalls gets 408 and is closed within requestTimeout of its first byte', async () => {
    const requestTimeout = 1000;
    const { port, requests } = startServer({ store: sampleStore(), requestTimeout, idleTimeout: 5000 });
    const client = await RawClient.connect(port);
    const partial = 'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes'; // never finished
    const start = performance.now();
    for (const ch of partial) {
      client.write(ch);
      await sleep(10);
    }
    expect(client.closed).toBe(false);
    const r = await client.response({ timeoutMs: requestTimeout + SLACK });
    expect(r.status).toBe(408);
    expect(r.reason).toBe('Request Timeout');
    expect(r.headers.connection).toBe('close');
    await client.waitClosed(SLACK);
    const elapsed = client.closedAt! - start;
    expect(elapsed).toBeGreaterThanOrEqual(requestTimeout - 20);
    expect(elapsed).toBeLessThan(requestTimeout + SLACK);
    expect(requests).toEqual([{ method: '', path: '', status: 408 }]);
  });

  it('a slow head that completes in time is served; the timer restarts for the next request', async () => {
    const { port } = startServer({ store: sampleStore(), requestTimeout: 1000, idleTimeout: 5000 });
    const client = await RawClient.connect(port);
    for (let round = 0; round < 2; round++) {
      const text = get('/style.css');
      for (let i = 0; i < text.length; i += 4) {
        client.write(text.slice(i, i + 4));
        await sleep(25); // ~10 pieces: ~250 ms per head, 500 ms over both
      }
      const r = await client.response();
      expect(r.status).toBe(200);
    }
    expect(client.closed).toBe(false);
  });

  it('empty lines alone do not start a request (the idle timeout closes such a connection silently)', async () => {
    const { port } = startServer({ store: sampleStore(), requestTimeout: 300, idleTimeout: 800 });
    const client = await RawClient.connect(port);
    const start = performance.now();
    client.write('\r\n');
    await sleep(100);
    client.write('\r\n');
    await client.waitClosed(800 + SLACK);
    expect(client.closedAt! - start).toBeGreaterThan(700);
    expect(client.pending.length).toBe(0);
  });
});

describe('idleTimeout', () => {
  it('an idle keep-alive connection is closed silently after idleTimeout', async () => {
    const idleTimeout = 600;
    const { port, server } = startServer({ store: sampleStore(), idleTimeout });
    const client = await RawClient.connect(port);
    expect((await client.request(get('/style.css'))).status).toBe(200);
    const answered = performance.now();
    await sleep(idleTimeout / 2);
    expect(client.closed).toBe(false);
    expect((await client.request(get('/style.css'))).status).toBe(200); // activity: the idle clock restarts
    const again = performance.now();
    await client.waitClosed(idleTimeout + SLACK);
    expect(client.closedAt! - again).toBeGreaterThanOrEqual(idleTimeout - 20);
    expect(client.closedAt! - answered).toBeGreaterThan(idleTimeout);
    expect(client.pending.length).toBe(0); // no response, just the close
    await waitFor(() => server.connectionsCount === 0, 'released');
  });

  it('a new connection that sends nothing is closed after idleTimeout', async () => {
    const { port } = startServer({ store: sampleStore(), idleTimeout: 500 });
    const client = await RawClient.connect(port);
    const start = performance.now();
    await client.waitClosed(500 + SLACK);
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
