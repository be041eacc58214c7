// SocketLink's read back-pressure, over the synchronous fake sockets of test/xs/fakes
// (every read boundary chosen by the test). A link reads only while its send queue has
// room for what the application may send back because of that read: in stream mode an
// echo sends each chunk as it is delivered, and one read can deliver the chunk bytes
// held from earlier reads plus a whole new chunk. Reading while the queue was merely
// "at most half full" let one read make an echo of two chunks that did not fit, and the
// echo server closed the connection with 1011 (found by npm run soak: 2 in 12,000
// connections).
import { describe, expect, it, vi } from 'vitest';
import type { FakeConn } from '../xs/fakes/fake-io';
import type { WebSocketServer } from '../../src/net/server';

vi.mock('embedded:io/socket/tcp', async () => await import('../xs/fakes/tcp'));
vi.mock('embedded:io/socket/listener', async () => await import('../xs/fakes/listener'));
vi.mock('timer', async () => await import('../xs/fakes/timer'));

const { startEchoServer } = await import('../../src/apps/echo-app');
const { installPlatform } = await import('../../src/net/platform');
const fakes = await import('../xs/fakes/fake-io');

installPlatform({ now: () => fakes.now });

const KEY = [0x37, 0xfa, 0x21, 0x3d];

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = 0x80 | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) {
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else if (ext === 8) {
    for (let i = 0; i < 4; i++) out[6 + i] = (n >>> (24 - 8 * i)) & 0xff;
  }
  const o = 2 + ext;
  out.set(KEY, o);
  for (let i = 0; i < n; i++) out[o + 4 + i] = payload[i] ^ KEY[i & 3];
  return out;
}

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

const CHUNK = 16384;
const CAPACITY = 4 * CHUNK;

/**
 * A stream-mode echo with the testee's buffers (16 KiB chunks and reads, a 64 KiB send
 * queue) and one client on a fake socket that has stopped reading. `scenario` sends its
 * frames (one c.send() is what one onReadable offers) and returns how many payload bytes
 * must come back; then the client reads again, and everything must be echoed with the
 * connection still open.
 */
function stalledEcho(port: number, scenario: (c: FakeConn, server: WebSocketServer) => number): void {
  const log: string[] = [];
  const server = startEchoServer({
    port,
    receiveMode: 'stream',
    chunkSize: CHUNK,
    readBufferSize: CHUNK,
    sendQueueSize: CAPACITY,
    maxMessageSize: 1 << 30,
    keepAliveInterval: 0,
    log: (line) => log.push(line),
  });
  try {
    const c = fakes.lastListener!.connect();
    c.grant(1 << 20);
    c.send(UPGRADE);
    expect(String.fromCharCode(...c.take().subarray(0, 12))).toBe('HTTP/1.1 101');
    c.grant(0); // the peer stops reading: echoes queue up
    const total = scenario(c, server);
    const count = payloadCounter();
    let echoed = 0;
    for (let round = 0; round < 1000 && echoed < total && !c.closed; round++) {
      c.grant(16384);
      echoed += count(c.take());
    }
    expect(log.filter((line) => /^closed/.test(line))).toEqual([]);
    expect(echoed).toBe(total);
  } finally {
    server.stop();
  }
}

describe('read back-pressure (stream-mode echo, as the testee runs it)', () => {
  it('never reads more than the send queue can take back: a chunk held across reads plus a new one still fit', () => {
    stalledEcho(7000, (c) => {
      // 1. A message whose echo fills the queue to just under half (32,604 of 65,536
      //    bytes): the link may still read.
      const x = new Uint8Array(32600).fill(0x78);
      c.send(frame(2, x));
      // 2. The first 16,376 bytes of a 16,392-byte message: held in the chunk buffer.
      const long = new Uint8Array(CHUNK + 8).fill(0x61);
      const longFrame = frame(2, long);
      c.send(longFrame.subarray(0, 8 + 16376));
      // 3. One read: the long message's last 16 bytes (a full chunk, then the last 8)
      //    and a whole 16,340-byte message: 32,732 bytes to echo from a 16,364-byte read.
      const short = new Uint8Array(16340).fill(0x62);
      const rest = new Uint8Array(16 + 8 + short.length);
      rest.set(longFrame.subarray(8 + 16376), 0);
      rest.set(frame(2, short), 16);
      c.send(rest);
      return x.length + long.length + short.length;
    });
  });

  it('counts a ping read in part as held: its pong and a message after it in the next read still fit', () => {
    stalledEcho(7001, (c, server) => {
      // 1. Fill the queue until a few hundred bytes are left.
      const x = new Uint8Array(65026).fill(0x78);
      c.send(frame(2, x));
      const q0 = server.bufferedAmount(server.listClients()[0]!);
      // What a read may take now with nothing held: the free room less the control
      // reserve (278) and two header budgets (28), as SocketLink computes it.
      const room = CAPACITY - q0 - 278 - 28;
      expect(room).toBeGreaterThan(100);
      // 2. A 77-byte ping's header and first 60 bytes: held in the control buffer.
      const ping = frame(9, new Uint8Array(77).fill(0x70));
      c.send(ping.subarray(0, 6 + 60));
      // 3. Its last 17 bytes and a whole message that, counted from a room that forgot
      //    the held ping, fits the read but not the queue once the pong went out.
      const p = room - 40;
      const message = new Uint8Array(p).fill(0x6d);
      const messageFrame = frame(2, message);
      const rest = new Uint8Array(17 + messageFrame.length);
      rest.set(ping.subarray(6 + 60), 0);
      rest.set(messageFrame, 17);
      c.send(rest);
      return x.length + p;
    });
  });
});

/** Counts the payload bytes of the server's (unmasked) data frames; frames may split across calls. */
function payloadCounter(): (bytes: Uint8Array) => number {
  let carry: number[] = [];
  return (bytes) => {
    const all = carry.concat(Array.from(bytes));
    let i = 0;
    let total = 0;
    while (i + 2 <= all.length) {
      let n = all[i + 1] & 0x7f;
      let h = 2;
      if (n === 126) {
        if (i + 4 > all.length) break;
        n = (all[i + 2] << 8) | all[i + 3];
        h = 4;
      } else if (n === 127) {
        if (i + 10 > all.length) break;
        n = all[i + 6] * 2 ** 24 + (all[i + 7] << 16) + (all[i + 8] << 8) + all[i + 9];
        h = 10;
      }
      if (i + h + n > all.length) break;
      if ((all[i] & 0x0f) <= 2) total += n;
      i += h + n;
    }
    carry = all.slice(i);
    return total;
  };
}
