// Our declarations of the Moddable SDK's TLS modules that hosts/moddable/tls-socket.ts
// uses (the SDK has no typings for them), written from their public sources in
// $MODDABLE/modules/crypt (ssl/session_419.js, ssl/cert.js, etc/x509.js): only what we call.
// Referenced by path from tls-socket.ts, so mcconfig's builds see them too.

declare module 'ssl/session' {
  /** What a session reads and writes through: an ECMA-419 TCP socket with two counters it keeps itself. */
  export interface SessionSocket {
    readable: number;
    writable: number;
    read(buffer: Uint8Array): unknown;
    write(data: ArrayBuffer | ArrayBufferView): unknown;
  }

  export interface SessionOptions {
    /** SNI name; also the name the certificate is checked against. */
    serverName?: string;
    /** 0x303: TLS 1.2 (the highest the SDK speaks). */
    protocolVersion?: number;
    /** Default true. */
    verify?: boolean;
    /** A trusted CA certificate (DER). */
    certificate?: ArrayBuffer;
    /** Client certificate chain (DER), sent when the server asks. */
    clientCertificates?: ArrayBuffer[];
    /** The client certificate's key, PKCS#8 DER. */
    clientKey?: ArrayBuffer;
    /** Session resumption cache (default on). */
    cache?: boolean;
  }

  export interface CertificateManager {
    verify(certs: ArrayBuffer[], options: { tls_server_name?: string }): boolean;
    /** Trust one more CA (throws when it is outside its validity dates). */
    register(cert: ArrayBuffer): void;
  }

  export default class Session {
    constructor(options: SessionOptions);
    certificateManager: CertificateManager;
    /** The alert that ended the session, if one did (close_notify does not throw). */
    alert?: { level: number; description: number };
    initiateHandshake(): void;
    /** One handshake step: true once done (or an alert ended it). Throws a TLSError on failure. */
    handshake(socket: SessionSocket): boolean;
    /** The next record's application data; undefined until one is whole; null after close_notify. */
    read(socket: SessionSocket): Uint8Array | null | undefined;
    /** Encrypt and send up to 16,384 bytes; returns the room left. */
    write(socket: SessionSocket, data: Uint8Array): number;
    /** Send close_notify. */
    close(socket: SessionSocket): void;
  }
}

declare module 'x509' {
  export interface Certificate {
    tbs: ArrayBuffer;
  }
  export interface SubjectAltName {
    /** 2: dNSName (value: string); 7: iPAddress (value: bytes). */
    tag: number;
    value: string | ArrayBuffer;
  }
  const X509: {
    decode(der: ArrayBuffer | Uint8Array): Certificate;
    decodeTBS(tbs: ArrayBuffer): { validity: { from: number; to: number } };
    decodeSAN(der: ArrayBuffer | Uint8Array): SubjectAltName[] | undefined;
  };
  export default X509;
}
