import { describe, it, expect, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { installSimPlatform } from '../../hosts/sim/platform';
import { WebSocketServer } from '../../src/net/server';
import { WebSocketClient } from '../../src/net/client';

beforeAll(() => installSimPlatform());

describe('smoke', () => {
  it('ws client <-> our server, our client <-> our server', async () => {
    const server = new WebSocketServer({ port: 0, maxMessageSize: 1 << 20, sendQueueSize: 4 << 20 });
    server.on('message', (c, data, isText) => (isText ? server.sendText(c, data as string) : server.sendBinary(c, data as Uint8Array)));
    server.start();
    const port = server.port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const got = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (d) => resolve(String(d)));
      ws.on('error', reject);
    });
    expect(got).toBe('hello');
    const big = Buffer.alloc(300000, 7);
    const echoed = await new Promise<Buffer>((resolve) => {
      ws.once('message', (d) => resolve(d as Buffer));
      ws.send(big);
    });
    expect(echoed.equals(big)).toBe(true);
    const closed = await new Promise<number>((resolve) => {
      ws.on('close', (code) => resolve(code));
      ws.close(4001, 'bye');
    });
    expect(closed).toBe(4001);

    const client = new WebSocketClient({});
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      client.on('open', () => client.sendText('über'));
      client.on('message', (d) => {
        events.push(String(d));
        client.close(1000, 'done');
      });
      client.on('close', (code, reason, clean) => {
        events.push(`close ${code} ${reason} ${clean}`);
        resolve();
      });
      client.on('error', (e) => events.push('error ' + e.message));
      client.connect(`ws://127.0.0.1:${port}/`);
    });
    expect(events).toEqual(['über', 'close 1000  true']); // the server's close echoes the code, not the reason
    server.stop();
  });
});
