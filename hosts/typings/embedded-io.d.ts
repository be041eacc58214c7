// Our own declarations of the ECMA-419 IO classes this project uses, written from the
// ECMA-419 specification and Moddable's public IO documentation (documentation/io/io.md).
// Facts the code relies on (Moddable lwip and lin implementations):
// - read() returns an ArrayBuffer of everything available, read(n) n bytes, and
//   read(buffer) fills the whole buffer and returns its byteLength; asking for more
//   than is available throws, so callers read exactly min(available, room).
// - write(buffer) throws when it exceeds the space last reported by onWritable; a write
//   never happens partially.
// - onError is called when the peer disconnects for any reason (also a clean FIN),
//   after the readable bytes have been read; no callback runs after close().

declare module 'embedded:io/socket/tcp' {
  export type BufferSource = ArrayBuffer | ArrayBufferView;

  export interface TCPOptions {
    /** IPv4 address of the remote endpoint (required unless `from`). */
    address?: string;
    port?: number;
    nodelay?: boolean;
    /** A socket returned by Listener.read(), to take over. */
    from?: TCP;
    format?: 'buffer' | 'number';
    onReadable?: (this: TCP, bytes: number) => void;
    onWritable?: (this: TCP, bytes: number) => void;
    onError?: (this: TCP, error?: unknown) => void;
  }

  export default class TCP {
    constructor(options: TCPOptions);
    read(): ArrayBuffer | undefined;
    read(count: number): ArrayBuffer | undefined;
    read(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
    /** Moddable returns the space left after the write, and nothing when the write failed. */
    write(data: BufferSource): number | void;
    close(): void;
    format: 'buffer' | 'number';
    /** Moddable extension on some platforms: the remote endpoint. */
    readonly remoteAddress?: string;
    readonly remotePort?: number;
  }
}

declare module 'embedded:io/socket/listener' {
  import type TCP from 'embedded:io/socket/tcp';

  export interface ListenerOptions {
    port?: number;
    address?: string;
    onReadable?: (this: Listener, requests: number) => void;
    onError?: (this: Listener, error?: unknown) => void;
  }

  export default class Listener {
    constructor(options: ListenerOptions);
    /** An accepted, connected socket without callbacks: pass it as `from` to new TCP(). */
    read(): TCP | undefined;
    close(): void;
  }
}

declare module 'embedded:io/socket/tcp/tls' {
  import type TCP from 'embedded:io/socket/tcp';
  import type { TCPOptions } from 'embedded:io/socket/tcp';

  /**
   * A TLS client socket of TCP's ECMA-419 shape (hosts/sim/tls.ts on Node,
   * hosts/moddable/tls-socket.ts on Moddable): writable once the handshake is done. `secure`
   * is src/net/tls.ts's TlsSecureOptions; a failed handshake calls onError(error) with an
   * Error named "TLSError".
   */
  export interface TLSOptions extends TCPOptions {
    /** Server name for SNI. */
    host?: string;
    secure?: object;
  }

  export default class TLS extends TCP {
    constructor(options: TLSOptions);
  }
}
