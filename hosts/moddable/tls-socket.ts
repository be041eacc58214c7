/// <reference path="../typings/moddable-tls.d.ts" />
// `embedded:io/socket/tcp/tls` on Moddable (ESP32 and the simulator): a TLS client socket
// of TCP's ECMA-419 shape on the SDK's own TLS (ssl/session, from
// $MODDABLE/modules/crypt/tls_419.json) over `embedded:io/socket/tcp`. Added to an app by
// modules/tls/manifest.json. Options: TCP's, plus `host` and `secure` (src/net/tls.ts's
// TlsSecureOptions: DER certificates and key, serverName, verify, minVersion).
//
// Why not the SDK's example class (examples/io/tcp/tlssocket): a failed handshake throws
// out of its socket callbacks, which on a device is an unhandled exception (a reboot),
// and every failure looks alike. Here every call into the TLS code is guarded; a failed
// handshake reaches onError(error) once, with an Error named "TLSError" saying why
// (certificate expired / for another name / from an unknown CA, the server's alert, ...).
//
// - Writable once the handshake is done; onWritable reports the TCP room less a record's
//   overhead, at most one record (16,384 bytes), so a write is always one record.
// - Received records are decrypted as they arrive, up to PLAIN_LIMIT bytes held for the
//   application; beyond that the TCP bytes stay unread, so the TCP window closes on the
//   peer (back-pressure), and reading resumes once the application has read.
// - TLS 1.2 only (the SDK's TLS): ECDHE-RSA / RSA key exchange with AES-GCM or AES-CBC,
//   curve P-256, RSA or ECDSA certificates.
// - The clock must be set (SNTP) before a certificate can be checked: an unset device
//   clock reads 1970, and every certificate is then "not yet valid".
import TCP from 'embedded:io/socket/tcp';
import Timer from 'timer';
import Session from 'ssl/session';
import X509 from 'x509';
import { tlsError } from 'websockets/net/tls';
import { writeSocket } from 'websockets/net/socket-owner';
import type { TlsSecureOptions } from 'websockets/net/tls';
import type { SessionSocket } from 'ssl/session';

type TCPOptions = ConstructorParameters<typeof TCP>[0];
type TimerId = ReturnType<typeof Timer.set>;

interface TLSOptions {
  address: string;
  port: number;
  host?: string;
  nodelay?: boolean;
  secure: TlsSecureOptions;
  onReadable?: (this: TLSSocket, count: number) => void;
  onWritable?: (this: TLSSocket, count: number) => void;
  onError?: (this: TLSSocket, error?: Error) => void;
}

/** Largest record payload (RFC 5246: 2^14). */
const RECORD = 16384;
/** Room kept per record for its header, nonce or IV, MAC or tag, and padding. */
const RECORD_OVERHEAD = 96;
/** Decrypted bytes held for the application before TCP input is left unread. */
const PLAIN_LIMIT = RECORD;

/** TLS alert descriptions (RFC 5246 7.2, RFC 8446 6). */
const ALERTS: Record<number, string> = {
  10: 'unexpected message', 20: 'bad record MAC', 40: 'handshake failure', 42: 'bad certificate',
  43: 'unsupported certificate', 44: 'certificate revoked', 45: 'certificate expired', 46: 'certificate unknown',
  47: 'illegal parameter', 48: 'unknown CA', 49: 'access denied', 50: 'decode error', 51: 'decrypt error',
  70: 'protocol version', 71: 'insufficient security', 80: 'internal error', 86: 'inappropriate fallback',
  90: 'user canceled', 109: 'missing extension', 112: 'unrecognized name', 116: 'certificate required',
};

type OwnedTCP = TCP & { tls?: TLSSocket };

function tcpReadable(this: TCP, count: number): void {
  (this as OwnedTCP).tls?.tcpReadable(count);
}

function tcpWritable(this: TCP, count: number): void {
  (this as OwnedTCP).tls?.tcpWritable(count);
}

function tcpError(this: TCP): void {
  (this as OwnedTCP).tls?.tcpError();
}

/**
 * What the session reads and writes through: the TCP socket, and the encrypted bytes it
 * cannot take yet. A record costs more than its plaintext (header, nonce, tag), and a
 * record can be larger than what one TCP write takes (1,536 bytes on lin): held bytes go
 * out as the TCP socket reports room.
 */
class Wire implements SessionSocket {
  /** Kept by the session: TCP bytes not read yet (set from onReadable). */
  readable = 0;
  /** Kept by the session (it subtracts what it writes); not used here. */
  writable = 0;
  /** What the TCP socket takes now. */
  room = 0;
  heldBytes = 0;
  /** A write failed: the TCP socket is dead (lin reports nothing more then). */
  failed = false;
  private seenInput = false;
  private held: Uint8Array[] = [];
  private heldAt = 0;

  constructor(readonly tcp: OwnedTCP) {}

  read(buffer: Uint8Array): void {
    this.tcp.read(buffer);
    if (!this.seenInput && buffer.length > 0) {
      this.seenInput = true;
      // A TLS record starts with its type (20-23): anything else (an HTTP response) is no TLS server.
      if (buffer[0] < 20 || buffer[0] > 23) throw new Error('the server does not speak TLS (is it ws://?)');
    }
  }

  write(data: ArrayBuffer | ArrayBufferView): number {
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (!this.flush()) throw new Error('TCP write failed');
    this.writable = this.room;
    return this.room;
  }

  /** Hand the TCP socket as much of the held bytes as it takes; false once a write failed. */
  flush(): boolean {
    while (this.heldBytes > 0 && this.room > 0 && !this.failed) {
      const piece = this.held[0];
      const take = Math.min(this.room, piece.length - this.heldAt);
      let written: boolean;
      try {
        written = writeSocket(this.tcp, this.heldAt === 0 && take === piece.length ? piece : piece.subarray(this.heldAt, this.heldAt + take));
      } catch {
        written = false;
      }
      if (!written) {
        this.failed = true;
        break;
      }
      this.room -= take;
      this.heldBytes -= take;
      this.heldAt += take;
      if (this.heldAt === piece.length) {
        this.held.shift();
        this.heldAt = 0;
      }
    }
    return !this.failed;
  }
}

/** Whether `name` (lower case) is among the certificate's subjectAltNames (DNS, one leading wildcard label, or IPv4). */
function certificateNames(der: ArrayBuffer | Uint8Array, name: string): boolean {
  for (const entry of X509.decodeSAN(der) ?? []) {
    if (entry.tag === 2 && typeof entry.value === 'string') {
      const pattern = entry.value.toLowerCase();
      if (pattern === name) return true;
      const dot = name.indexOf('.');
      if (pattern.startsWith('*.') && dot > 0 && pattern.slice(1) === name.slice(dot)) return true;
    } else if (entry.tag === 7 && typeof entry.value !== 'string' && entry.value.byteLength === 4) {
      if (Array.from(new Uint8Array(entry.value)).join('.') === name) return true;
    }
  }
  return false;
}

/**
 * What is wrong with the server's own certificate (dates, name), or null. Checked besides
 * the SDK's verification, which traces the cause but throws the same error for all, and
 * (SDK 8.2.3) passes an expired leaf certificate followed by a trusted CA.
 */
function leafProblem(certs: ArrayBuffer[], serverName: string): string | null {
  const leaf = certs[0];
  if (!leaf) return 'the server sent no certificate';
  const { from, to } = X509.decodeTBS(X509.decode(leaf).tbs).validity;
  const now = Date.now();
  if (now >= to) return 'certificate expired';
  if (now <= from) return 'certificate not yet valid (is the clock set? a device needs SNTP first)';
  if (!certificateNames(leaf, serverName)) return `certificate name mismatch: it is not valid for ${serverName}`;
  return null;
}

/** A TLS error of the SDK's, in words that say what to fix. */
function explain(message: string, diagnosis: string | null): string {
  if (message === 'certificate: auth err' && diagnosis) return diagnosis;
  const alert = /^alert: (\d+), (\d+)$/.exec(message);
  if (alert) return `TLS alert from the server: ${ALERTS[Number(alert[2])] ?? `description ${alert[2]}`}`;
  if (/unsuppoorted cipher|unsupported cipher/.test(message)) return 'no cipher suite in common with the server';
  if (message === 'unsupported curve') return 'the server chose an elliptic curve other than P-256';
  return message;
}

export default class TLSSocket {
  private wire: Wire | null;
  private session: Session | null = null;
  private readonly onReadable: TLSOptions['onReadable'];
  private readonly onWritable: TLSOptions['onWritable'];
  private readonly onError: TLSOptions['onError'];
  private ready = false;
  /** The TCP connection was made (its first onWritable came). */
  private connected = false;
  /** The TCP connection is gone (its onError came). */
  private gone = false;
  private reported = false;
  /** A failure to report from the timer (found in the constructor). */
  private failure: string | null = null;
  /** Why the certificate was refused, from the verification wrapper. */
  private diagnosis: string | null = null;
  /** Decrypted records not read yet: views, the first read from `plainAt`. */
  private plain: Uint8Array[] = [];
  private plainAt = 0;
  private plainBytes = 0;
  private timer: TimerId | null = null;

  constructor(options: TLSOptions) {
    this.onReadable = options.onReadable;
    this.onWritable = options.onWritable;
    this.onError = options.onError;
    const secure = options.secure;
    try {
      if (secure.minVersion === 'TLSv1.3') throw new Error("this host's TLS (the Moddable SDK's) speaks TLS 1.2 only: minVersion TLSv1.3 cannot be met");
      const session = new Session({
        serverName: secure.serverName,
        protocolVersion: 0x303,
        verify: secure.verify,
        ...(secure.ca.length ? { certificate: secure.ca[0] } : {}),
        ...(secure.key ? { clientCertificates: secure.certificate, clientKey: secure.key } : {}),
      });
      const manager = session.certificateManager;
      for (let i = 1; i < secure.ca.length; i++) manager.register(secure.ca[i]);
      // The leaf's dates and name checked here too, and the reason kept (see leafProblem).
      // Defined on the instance: the class may be frozen, and assigning would throw.
      const verify = manager.verify;
      if (secure.verify) {
        Object.defineProperty(manager, 'verify', {
          value: (certs: ArrayBuffer[], verifyOptions: { tls_server_name?: string }): boolean => {
            let problem: string | null;
            try {
              problem = leafProblem(certs, secure.serverName);
            } catch {
              problem = 'the server\'s certificate cannot be read';
            }
            if (problem === null && verify.call(manager, certs, verifyOptions)) return true;
            this.diagnosis = problem ?? 'certificate not trusted: no trusted CA signed it';
            return false;
          },
        });
      }
      session.initiateHandshake();
      this.session = session;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failure = message === 'date validation failed' ? 'a CA certificate is outside its validity dates (or the clock is not set)' : message;
    }
    if (this.failure !== null) {
      // No callback may run inside the constructor: report from the timer.
      this.wire = null;
      this.timer = Timer.set(() => {
        this.timer = null;
        this.fail(this.failure!);
      }, 0);
      return;
    }
    const tcpOptions: TCPOptions = { address: options.address, port: options.port, onReadable: tcpReadable, onWritable: tcpWritable, onError: tcpError };
    if (options.nodelay !== undefined) (tcpOptions as { nodelay?: boolean }).nodelay = options.nodelay;
    const tcp = new TCP(tcpOptions) as OwnedTCP;
    tcp.tls = this; // no callback runs inside the constructor
    this.wire = new Wire(tcp);
  }

  /** @internal */
  tcpWritable(count: number): void {
    const wire = this.wire!;
    this.connected = true;
    wire.room = count;
    if (!wire.flush()) {
      this.tcpError(); // the TCP socket failed under the write
      return;
    }
    if (!this.ready) {
      this.step();
      return;
    }
    const room = this.room();
    if (room > 0) this.onWritable?.call(this, room);
  }

  /** @internal */
  tcpReadable(count: number): void {
    this.wire!.readable = count;
    if (!this.ready) this.step();
    if (this.ready) this.decrypt();
  }

  /** @internal The TCP connection closed or failed. */
  tcpError(): void {
    this.gone = true;
    if (!this.connected) {
      // No TCP connection at all: TCP's own error, no TLS reason.
      this.shut();
      this.report();
    }
    else if (!this.ready) this.fail('the server closed the connection during the TLS handshake');
    else if (this.plainBytes === 0) this.report();
  }

  /** ECMA-419 read: read(buffer) fills it from what onReadable reported; read(count) / read() return a new ArrayBuffer. */
  read(target?: number | ArrayBuffer | ArrayBufferView): number | ArrayBuffer | undefined {
    if (this.plainBytes === 0) return undefined;
    let out: Uint8Array;
    if (target === undefined) out = new Uint8Array(this.plainBytes);
    else if (typeof target === 'number') out = new Uint8Array(target);
    else if (ArrayBuffer.isView(target)) out = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    else out = new Uint8Array(target);
    const n = out.length;
    if (n > this.plainBytes) throw new RangeError('TLS: read beyond what is readable');
    let done = 0;
    while (done < n) {
      const record = this.plain[0];
      const take = Math.min(n - done, record.length - this.plainAt);
      out.set(record.subarray(this.plainAt, this.plainAt + take), done);
      done += take;
      this.plainAt += take;
      if (this.plainAt === record.length) {
        this.plain.shift();
        this.plainAt = 0;
      }
    }
    this.plainBytes -= n;
    // TCP input left unread for back-pressure, or the connection's end: go on from the timer.
    if (this.plainBytes < PLAIN_LIMIT && (this.wire?.readable || (this.gone && this.plainBytes === 0)) && !this.timer) {
      this.timer = Timer.set(() => {
        this.timer = null;
        if (this.ready && this.wire) this.decrypt();
        if (this.gone && this.plainBytes === 0) this.report();
      }, 0);
    }
    return typeof target === 'object' ? n : out.buffer as ArrayBuffer;
  }

  /**
   * ECMA-419 write, one record per 16,384 bytes; returns the room left. Writes within the
   * room reported never fail: what the TCP socket cannot take yet (a record's overhead
   * beyond the estimate) is held and sent as it reports room.
   */
  write(data: ArrayBuffer | ArrayBufferView): number {
    const wire = this.wire;
    const session = this.session;
    if (!this.ready || !wire || !session || this.gone) throw new Error('TLS: not writable');
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    for (let at = 0; at < bytes.length; at += RECORD) session.write(wire, bytes.subarray(at, Math.min(bytes.length, at + RECORD)));
    return this.room();
  }

  /** ECMA-419 close: no callback runs afterwards. */
  close(): void {
    this.reported = true;
    this.shut();
  }

  get format(): 'buffer' {
    return 'buffer';
  }

  set format(value: string) {
    if (value !== 'buffer') throw new RangeError('TLS: only the buffer format');
  }

  /** What the application may write now: the TCP room less what is held and a record's overhead, at most a record. */
  private room(): number {
    const wire = this.wire;
    if (!wire) return 0;
    const room = wire.room - wire.heldBytes - RECORD_OVERHEAD;
    return room <= 0 ? 0 : room > RECORD ? RECORD : room;
  }

  /** Run the handshake as far as the bytes at hand take it. */
  private step(): void {
    const wire = this.wire;
    const session = this.session;
    if (!wire || !session) return;
    try {
      for (;;) {
        // The session counts down `writable` as it writes: progress shows there or in `readable`.
        const readable = wire.readable;
        const writable = (wire.writable = wire.room);
        if (session.handshake(wire)) {
          // It also stops at the server's close_notify: no connection then.
          if (session.alert) throw new Error(`alert: ${session.alert.level}, ${session.alert.description}`);
          this.ready = true;
          break;
        }
        if (wire.readable === readable && wire.writable === writable) break; // waiting for input
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.fail(wire.failed ? 'the server closed the connection during the TLS handshake' : explain(message, this.diagnosis));
      return;
    }
    if (this.ready) {
      const room = this.room();
      if (room > 0) this.onWritable?.call(this, room);
    }
  }

  /** Decrypt whole records while the application holds less than PLAIN_LIMIT; report what came. */
  private decrypt(): void {
    const wire = this.wire;
    const session = this.session;
    if (!wire || !session) return;
    const before = this.plainBytes;
    try {
      while (this.plainBytes < PLAIN_LIMIT && wire.readable > 0) {
        const record = session.read(wire);
        if (record === undefined) break; // a record not whole yet
        if (record === null) {
          // close_notify: the server is done; anything after it is ignored.
          this.gone = true;
          break;
        }
        if (record.length > 0) {
          this.plain.push(record);
          this.plainBytes += record.length;
        }
      }
    } catch (error) {
      // A bad record after the handshake (MAC failure, an alert): the connection is lost.
      this.gone = true;
      this.plain = [];
      this.plainBytes = 0;
      this.report(error instanceof Error ? error : undefined);
      return;
    }
    if (this.plainBytes > before) this.onReadable?.call(this, this.plainBytes);
    if (this.gone && this.plainBytes === 0 && this.wire) this.report();
  }

  /** Let go of the TCP socket (its late callbacks reach nobody), the session and what is held. */
  private shut(): void {
    const wire = this.wire;
    this.wire = null;
    this.session = null;
    this.plain = [];
    this.plainBytes = 0;
    if (this.timer) Timer.clear(this.timer);
    this.timer = null;
    if (wire) {
      wire.tcp.tls = undefined;
      wire.tcp.close();
    }
  }

  /** The handshake failed: close TCP and report once, with the reason. */
  private fail(reason: string): void {
    this.shut();
    if (this.reported) return;
    this.reported = true;
    this.onError?.call(this, tlsError(`TLS handshake failed: ${reason}`));
  }

  /** The connection ended after the handshake: onError once (no reason: TCP's own way). */
  private report(cause?: Error): void {
    if (this.reported) return;
    this.reported = true;
    if (cause) this.onError?.call(this, cause);
    else this.onError?.call(this);
  }
}
