// Refusing a connection politely (503 when a server is full): send the response, but
// read and discard the request first, bounded in size and time, because closing a
// socket with unread input resets the connection under the response.

import TCP from 'embedded:io/socket/tcp';
import Timer from 'timer';
import { closeSocket, writeSocket } from './socket-owner';

const LF = 0x0a;
const CR = 0x0d;

export interface RefuseOptions {
  /** The request head was already read (an HTTP server's hand-off). */
  requestRead?: boolean;
  /** Stop waiting for the end of the head after this many bytes. */
  maxHead: number;
  /** Close after this long (ms) whatever happened. */
  linger: number;
}

/** Take over `socket`, write `response` when the socket allows, then close it. */
export function refuse(socket: TCP, response: Uint8Array, options: RefuseOptions): void {
  let answered = false;
  let requestRead = options.requestRead ?? false;
  let done = false;
  let atLineStart = false; // after LF (optionally followed by CR): a blank line ends the head
  let total = 0;
  let scratch: Uint8Array | null = null;
  const finish = (tcp: TCP): void => {
    if (done) return;
    done = true;
    Timer.clear(guard);
    closeSocket(tcp);
  };
  const tcp: TCP = new TCP({
    from: socket,
    onWritable(count: number) {
      if (answered || count < response.length) return;
      answered = true;
      let ok: boolean;
      try {
        ok = writeSocket(this, response);
      } catch {
        ok = false;
      }
      if (!ok) {
        finish(this);
        return;
      }
      if (requestRead) finish(this);
    },
    onReadable(count: number) {
      try {
        while (count > 0 && !done) {
          scratch ??= new Uint8Array(64);
          const n = count < scratch.length ? count : scratch.length;
          this.read(n === scratch.length ? scratch : scratch.subarray(0, n));
          count -= n;
          for (let i = 0; i < n && !requestRead; i++) {
            const byte = scratch[i];
            if (byte === LF) {
              if (atLineStart) requestRead = true;
              else atLineStart = true;
            } else if (byte !== CR || !atLineStart) atLineStart = false;
          }
          total += n;
          if (total >= options.maxHead) requestRead = true; // enough: stop waiting for the end
          if (requestRead && answered) finish(this);
        }
      } catch {
        finish(this);
      }
    },
    onError() {
      finish(this);
    },
  });
  const guard = Timer.set(() => finish(tcp), options.linger);
}
