// Routing ECMA-419 socket callbacks to the object that owns the socket, without a closure
// per socket: the callbacks are these shared module functions, called with this = the
// socket (ECMA-419), and they find their owner on the socket. In XS each closure costs
// ~11 heap slots per connection, and the Atom Lite's whole heap is 4,928 slots.

import TCP from 'embedded:io/socket/tcp';

type TCPOptions = ConstructorParameters<typeof TCP>[0];
/** An ECMA-419 socket class of TCP's shape: TCP itself, or a TLS socket (wss://). */
export type SocketClass = new (options: TCPOptions) => TCP;

/** What a socket's readable, writable and error callbacks are delivered to. */
export interface SocketOwner {
  onSocketReadable(count: number): void;
  onSocketWritable(count: number): void;
  /** `error`: what the socket reported, if anything (a TLS socket's handshake failure: see net/tls). */
  onSocketError(error?: unknown): void;
}

type OwnedSocket = TCP & { owner?: SocketOwner };

function ownerReadable(this: TCP, count: number): void {
  (this as OwnedSocket).owner?.onSocketReadable(count);
}

function ownerWritable(this: TCP, count: number): void {
  (this as OwnedSocket).owner?.onSocketWritable(count);
}

function ownerError(this: TCP, error?: unknown): void {
  (this as OwnedSocket).owner?.onSocketError(error);
}

/** A new socket (or one taken over with `from`) whose callbacks go to `owner`. */
export function openOwnedSocket(options: TCPOptions, owner: SocketOwner, Socket: SocketClass = TCP): TCP {
  const socket = new Socket({ ...options, onReadable: ownerReadable, onWritable: ownerWritable, onError: ownerError });
  // No callback runs inside the constructor, so the owner is in place before the first.
  (socket as OwnedSocket).owner = owner;
  return socket;
}

/** Detach the owner: a callback that still arrives (closing, handed off) reaches nobody. */
export function disownSocket(socket: TCP): void {
  (socket as OwnedSocket).owner = undefined;
}

/** Close a socket; one the host has already closed (after an error, or taken over) throws, and is fine. */
export function closeSocket(socket: TCP): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

// Moddable's socket modules (lin, lwip) return the space left after a write, and nothing
// when the write failed: they trace "write failed", and lin never reports that error
// afterwards, so a socket would be written again and again (until SIGPIPE, unblocked).
// Once the host has shown it returns a count, a write that returns none has failed.
let hostCountsSpace = false;

/**
 * socket.write(bytes); false when the host reports that the write failed. It returns
 * rather than throws: a debug build stops in xsbug at every throw.
 */
export function writeSocket(socket: TCP, bytes: ArrayBuffer | ArrayBufferView): boolean {
  // Moddable's typings narrow write() to its ByteBuffer; a flash view or bytes are both fine.
  const left: unknown = socket.write(bytes as Uint8Array<ArrayBuffer>);
  if (typeof left === 'number') hostCountsSpace = true;
  else if (hostCountsSpace) return false;
  return true;
}
