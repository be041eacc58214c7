// `embedded:io/socket/tcp/tls` for the Node simulator: the ECMA-419 TCP socket of
// ./tcp.ts with TLS under it (node:tls), so the client's wss:// code runs as on a device.
// Options: TCP's, plus `host` (the name for SNI) and `secure` (src/net/tls.ts's
// TlsSecureOptions: DER certificates and key, serverName, verify, minVersion).
// - The socket becomes writable once the TLS handshake is done ('secureConnect'); the
//   certificate is checked against `secure.ca` (Node's own CA list when empty) and
//   `secure.serverName` (DNS name or IP address), unless `secure.verify` is false.
// - A handshake that fails after the TCP connection was made (certificate refused, an
//   alert, a protocol error, the peer closing) reports onError(error) with an Error named
//   "TLSError" whose message says why; anything else reports as TCP does.

import net from 'node:net';
import tls from 'node:tls';
import SimTCP from './tcp';
import type { Dialled, SimTCPOptions } from './tcp';
import { tlsError } from '../../src/net/tls';
import type { TlsSecureOptions } from '../../src/net/tls';

export interface SimTLSOptions extends SimTCPOptions {
  host?: string;
  secure?: TlsSecureOptions;
}

function pem(der: ArrayBuffer, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** The reason a handshake failed, in words that say what to fix. */
export function handshakeFailure(error: Error & { code?: string }, serverName: string): string {
  const code = error.code ?? '';
  let why: string;
  if (UNTRUSTED.has(code)) why = `certificate not trusted: no trusted CA signed it (${code})`;
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') why = `certificate name mismatch: it is not valid for ${serverName}`;
  else if (code === 'CERT_HAS_EXPIRED') why = 'certificate expired';
  else if (code === 'CERT_NOT_YET_VALID') why = 'certificate not yet valid';
  else if (/alert/i.test(error.message)) why = `TLS alert from the server: ${/alert ([a-z ]+)/i.exec(error.message)?.[1] ?? error.message}`;
  else if (code === 'ECONNRESET' || code === 'EPIPE') why = 'the server closed the connection during the TLS handshake';
  else if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') why = 'the server does not speak TLS (is it ws://?)';
  else why = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message; // OpenSSL's phrase without its file and line
  return `TLS handshake failed: ${why}`;
}

export default class SimTLS extends SimTCP {
  constructor(options: SimTLSOptions) {
    super(options);
  }

  protected override dial(address: string, port: number, options: SimTLSOptions): Dialled {
    const secure = options.secure;
    if (!secure) throw new TypeError('TLS: options.secure required');
    const serverName = secure.serverName || options.host || address;
    const socket = tls.connect({
      host: address,
      port,
      // RFC 6066: no SNI for an IP address; the certificate is still checked against it.
      ...(net.isIP(serverName) ? {} : { servername: serverName }),
      ...(secure.ca.length ? { ca: secure.ca.map((der) => pem(der, 'CERTIFICATE')) } : {}),
      ...(secure.certificate.length ? { cert: secure.certificate.map((der) => pem(der, 'CERTIFICATE')).join('') } : {}),
      ...(secure.key ? { key: pem(secure.key, 'PRIVATE KEY') } : {}),
      minVersion: secure.minVersion,
      rejectUnauthorized: secure.verify,
      checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(serverName, certificate),
    });
    socket.setNoDelay(options.nodelay === true);
    let tcpConnected = false;
    let secured = false;
    socket.once('connect', () => (tcpConnected = true));
    socket.once('secureConnect', () => (secured = true));
    return {
      socket,
      ready: 'secureConnect',
      describeFailure: (error) => (tcpConnected && !secured ? tlsError(handshakeFailure(error, serverName)) : undefined),
    };
  }
}
