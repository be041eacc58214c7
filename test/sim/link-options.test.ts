// Buffer options no connection could work with are refused when the client or server
// is created (a RangeError naming the option), not discovered later as sends that
// silently never fit. The smallest accepted send queue still carries a message.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { installSimPlatform } from '../../hosts/sim/platform';
import { WebSocketClient } from '../../src/net/client';
import { WebSocketServer } from '../../src/net/server';
import { MIN_SEND_QUEUE } from '../../src/net/socket-link';
import { startEchoServer } from '../../src/apps/echo-app';

const servers: WebSocketServer[] = [];
beforeAll(() => installSimPlatform());
afterEach(() => {
  for (const server of servers.splice(0)) server.stop();
});

describe('link options', () => {
  it('the minimum send queue is the control-frame reserve plus one framed byte', () => {
    expect(MIN_SEND_QUEUE).toBe(2 * (125 + 14) + 14 + 1);
  });

  it.each([
    ['sendQueueSize', MIN_SEND_QUEUE - 1, /sendQueueSize must be a whole number >= 293/],
    ['sendQueueSize', 278, /sendQueueSize/],
    ['sendQueueSize', 1000.5, /sendQueueSize/],
    ['readBufferSize', 0, /readBufferSize must be a whole number >= 1/],
    ['readBufferSize', Number.NaN, /readBufferSize/],
  ])('%s = %s throws a RangeError from both constructors', (name, value, message) => {
    expect(() => new WebSocketServer({ [name]: value })).toThrow(RangeError);
    expect(() => new WebSocketServer({ [name]: value })).toThrow(message);
    expect(() => new WebSocketClient({ [name]: value })).toThrow(RangeError);
    expect(() => new WebSocketClient({ [name]: value })).toThrow(message);
  });

  it('a server with the minimum send queue echoes a 1-byte message to a ws client', async () => {
    const server = startEchoServer({ port: 0, sendQueueSize: MIN_SEND_QUEUE, keepAliveInterval: 0 });
    servers.push(server);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(Buffer.from([42]));
    expect([...(await echoed)]).toEqual([42]);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(1000);
    expect(await closed).toBe(1000);
  });
});
