// Listening for connections on `embedded:io/socket/listener`, shared by WebSocketServer
// and HttpServer: accept every socket the listener reports, tell the port actually
// bound, and close it on any host.

import Listener from 'embedded:io/socket/listener';
import type TCP from 'embedded:io/socket/tcp';

/** Listen on `port` (and `address`, where the host supports it); each new socket goes to `accept`. */
export function listen(port: number, address: string | undefined, accept: (socket: TCP) => void): Listener {
  const options: ConstructorParameters<typeof Listener>[0] = {
    port,
    onReadable(count: number) {
      while (count-- > 0) {
        const socket = this.read();
        if (socket) accept(socket);
      }
    },
  };
  if (address !== undefined) options.address = address;
  return new Listener(options);
}

/**
 * The port a listener is bound to where the host reports it (hosts/sim: useful with port
 * 0); otherwise, and without a listener, `configured`.
 */
export function boundPort(listener: Listener | null, configured: number): number {
  const bound = listener as unknown as { port?: number } | null;
  return bound?.port ?? configured;
}

/** Stop listening. close() exists on every host (Moddable's typings omit it). */
export function closeListener(listener: Listener): void {
  try {
    (listener as unknown as { close(): void }).close();
  } catch {
    // already closed
  }
}
