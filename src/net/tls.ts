// wss:// for WebSocketClient: the application's TLS options, checked and turned into the
// `host` and `secure` options of an ECMA-419 TLS socket (`embedded:io/socket/tcp/tls`:
// the same shape as TCP, so SocketLink reads and writes it unchanged). The socket class
// comes from the application, so an app that never uses wss:// never loads TLS.

import { asciiText, looksLikePem, pemBlocks } from '../bytes/pem';

/** PEM text, or DER or PEM bytes (an ArrayBuffer, a view, or a Moddable resource). */
export type TlsData = string | ArrayBuffer | ArrayBufferView | { readonly byteLength: number };

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsClientOptions {
  /**
   * The host's TLS socket class: `import TLS from 'embedded:io/socket/tcp/tls'` (on
   * Moddable add modules/tls/manifest.json; the sim host provides it over node:tls).
   */
  socket: new (options: never) => unknown;
  /** Trusted CA certificates (PEM may hold several). Default: none beyond what the host trusts itself. */
  ca?: TlsData | readonly TlsData[];
  /** Name sent for SNI and checked against the certificate. Default: the URL's host. */
  serverName?: string;
  /** Accept any certificate from anyone. For a bench on a closed network only: anyone in the path can read and change the traffic. */
  insecureSkipVerify?: boolean;
  /** Client certificate chain, leaf first, where the server asks for one. */
  certificate?: TlsData | readonly TlsData[];
  /** The client certificate's private key, PKCS#8 ("BEGIN PRIVATE KEY"). */
  key?: TlsData;
  /** Oldest TLS version accepted. Default 'TLSv1.2' (older ones are broken). */
  minVersion?: TlsVersion;
}

/** What a TLS socket receives as `secure`: every certificate and key as DER. */
export interface TlsSecureOptions {
  serverName: string;
  verify: boolean;
  ca: ArrayBuffer[];
  certificate: ArrayBuffer[];
  key: ArrayBuffer | null;
  minVersion: TlsVersion;
}

/**
 * How a TLS socket reports a failed TLS handshake (certificate refused, alert, protocol
 * error, TLS version): onError(error) with an Error of this name whose message says why.
 * The client then reports close code 1015 with that reason.
 */
export const TLS_ERROR_NAME = 'TLSError';

export function tlsError(reason: string): Error {
  const error = new Error(reason);
  // Defined, not assigned: where Error.prototype is frozen (a Moddable app's preloaded
  // primordials) assigning `name` throws (the "override mistake").
  Object.defineProperty(error, 'name', { value: TLS_ERROR_NAME, writable: true, configurable: true });
  return error;
}

export function isTlsError(error: unknown): error is Error {
  return error instanceof Error && error.name === TLS_ERROR_NAME;
}

function bytesOf(data: TlsData, what: string): Uint8Array {
  if (typeof data === 'string') throw new Error(`${what}: not PEM`); // callers handle strings
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data && typeof data.byteLength === 'number') return new Uint8Array(data as ArrayBuffer);
  throw new TypeError(`${what}: expected PEM text or DER bytes`);
}

/** The DER items of one PEM/DER value: every `label` block of PEM, or the bytes as they are. */
function derItems(data: TlsData, label: string, what: string): ArrayBuffer[] {
  if (typeof data === 'string' || looksLikePem(bytesOf(data, what))) {
    const blocks = pemBlocks(typeof data === 'string' ? data : asciiText(bytesOf(data, what)), label);
    if (blocks.length === 0) throw new Error(`${what}: no "-----BEGIN ${label}-----" block`);
    return blocks.map((block) => block.buffer as ArrayBuffer);
  }
  const bytes = bytesOf(data, what);
  if (bytes.length === 0 || bytes[0] !== 0x30) throw new Error(`${what}: neither PEM nor DER (DER starts with 0x30)`);
  // A whole buffer (or resource) is passed as it is: a device keeps it in flash.
  return [bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer];
}

function listOf(value: TlsData | readonly TlsData[] | undefined): readonly TlsData[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly TlsData[]) : [value as TlsData];
}

/** Check the options and build the socket's `secure` (throws a clear Error, synchronously from connect()). */
export function tlsSecureOptions(options: TlsClientOptions, host: string): TlsSecureOptions {
  if (typeof options.socket !== 'function') {
    throw new TypeError("tls.socket must be the host's TLS socket class (import TLS from 'embedded:io/socket/tcp/tls')");
  }
  const minVersion = options.minVersion ?? 'TLSv1.2';
  if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') throw new RangeError(`tls.minVersion must be 'TLSv1.2' or 'TLSv1.3', got ${String(minVersion)}`);
  const serverName = options.serverName ?? host;
  if (typeof serverName !== 'string' || !/^[A-Za-z0-9.-]+$/.test(serverName)) throw new Error(`tls.serverName: invalid name ${JSON.stringify(serverName)}`);
  const ca: ArrayBuffer[] = [];
  for (const item of listOf(options.ca)) ca.push(...derItems(item, 'CERTIFICATE', 'tls.ca'));
  const certificate: ArrayBuffer[] = [];
  for (const item of listOf(options.certificate)) certificate.push(...derItems(item, 'CERTIFICATE', 'tls.certificate'));
  let key: ArrayBuffer | null = null;
  if (options.key !== undefined) {
    if (typeof options.key === 'string' && options.key.indexOf('-----BEGIN RSA PRIVATE KEY-----') >= 0) {
      throw new Error('tls.key: a PKCS#1 key; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)');
    }
    const keys = derItems(options.key, 'PRIVATE KEY', 'tls.key');
    if (keys.length !== 1) throw new Error('tls.key: exactly one private key');
    key = keys[0];
  }
  if ((key === null) !== (certificate.length === 0)) throw new Error('tls.certificate and tls.key go together');
  // No `ca` is not an error: a host may trust CAs of its own (Node's list, the SDK's resources).
  const verify = options.insecureSkipVerify !== true;
  return { serverName: serverName.toLowerCase(), verify, ca, certificate, key, minVersion };
}
