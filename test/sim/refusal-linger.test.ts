// A refused handshake (431 here) must reach the client intact. Closing a socket while
// the client's request is still unread or still arriving makes TCP reset the
// connection, and a reset can destroy the response before the client reads it (seen in
// the Moddable simulator, whose sockets read 1,536 bytes per 20 ms). So after a
// refusal the server keeps reading and dropping input until the client closes, or for
// at most a second, then closes with a FIN.
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installSimPlatform } from '../../hosts/sim/platform';
import { startEchoServer } from '../../src/apps/echo-app';
import type { WebSocketServer } from '../../src/net/server';

const servers: WebSocketServer[] = [];
const sockets: net.Socket[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => installSimPlatform());
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.stop();
});

/** How long the server lingers after a refusal at most (REFUSAL_LINGER in src/net/socket-link.ts). */
const LINGER = 1000;

interface Outcome {
  response: string;
  error: string | null;
  /** ms from the response's arrival to the server's FIN, or null if none came. */
  finAfter: number | null;
  /** ms from the first write (before the server could arm its linger) to the FIN, or null. */
  finAfterWrite: number | null;
  /**
   * The FIN came before a timer of this process that was due no later than the server's
   * linger deadline (armed before the request was written, a little shorter than LINGER):
   * the server and this test share one event loop, whose timers fire in due order, so a
   * FIN sent when the linger ran out could not have come first.
   */
  finBeforeLinger: boolean;
}

/** Send an oversized head in two writes (the second after the 431 arrived), watch the close. */
async function oversizedHead(port: number, closeAfterResponse: boolean): Promise<Outcome> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let response = '';
  let error: string | null = null;
  let respondedAt = 0;
  let finAt = 0;
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  socket.on('end', () => (finAt = performance.now()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.setNoDelay(true);
  const responded = new Promise<void>((resolve) =>
    socket.on('data', (d: Buffer) => {
      response += d.toString('latin1');
      if (!respondedAt && response.includes('\r\n\r\n')) {
        respondedAt = performance.now();
        resolve();
      }
    }),
  );
  const filler = (n: number): string => Array.from({ length: n }, (_, i) => `x-filler-${i}: ${'v'.repeat(60)}\r\n`).join('');
  let lingerDue = false;
  const sentinel = setTimeout(() => (lingerDue = true), LINGER - 10);
  let finBeforeLinger = false;
  socket.on('end', () => (finBeforeLinger = !lingerDue));
  const writeAt = performance.now();
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${filler(50)}`);
  await responded;
  // More of the request arrives after the server has answered.
  socket.write(filler(80));
  if (closeAfterResponse) {
    await sleep(50);
    socket.end();
  }
  await Promise.race([closed, sleep(10_000)]); // a safety net: the linger is 1 s
  clearTimeout(sentinel);
  return { response, error, finAfter: finAt ? finAt - respondedAt : null, finAfterWrite: finAt ? finAt - writeAt : null, finBeforeLinger };
}

describe('after refusing a handshake, the server reads and drops input before closing', () => {
  it('the 431 arrives and the connection ends with a FIN, not a reset, within ~1 s', async () => {
    const server = startEchoServer({ port: 0, maxHeaderSize: 2048, keepAliveInterval: 0 });
    servers.push(server);
    const outcome = await oversizedHead(server.port!, false);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 431 /);
    expect(outcome.error).toBeNull();
    expect(outcome.finAfter).not.toBeNull(); // it closed by itself (the client never does)...
    expect(outcome.finAfterWrite!).toBeGreaterThanOrEqual(LINGER - 2); // ...once it had waited for the client for the linger
    expect(outcome.finBeforeLinger).toBe(false); // (so the check below can tell the two apart)
  });

  it('a client that closes after reading the response is answered with a FIN at once', async () => {
    const server = startEchoServer({ port: 0, maxHeaderSize: 2048, keepAliveInterval: 0 });
    servers.push(server);
    const outcome = await oversizedHead(server.port!, true);
    expect(outcome.response).toMatch(/^HTTP\/1\.1 431 /);
    expect(outcome.error).toBeNull();
    expect(outcome.finAfter).not.toBeNull();
    expect(outcome.finBeforeLinger).toBe(true); // on the client's FIN, not when the linger ran out
  });
});
