// Types of scripts/tls-certs.mjs for the TypeScript tests.
export interface ServerIdentity {
  /** PEM: the leaf, then its CA. */
  cert: string;
  /** PEM (PKCS#8). */
  key: string;
}

export interface TestPki {
  folder: string;
  /** PEM of the CA that signed everything below but `unknownCa`. */
  ca: string;
  /** For localhost and 127.0.0.1. */
  server: ServerIdentity;
  /** Signed by the CA for wrong.example only. */
  wrongName: ServerIdentity;
  /** For localhost and 127.0.0.1, expired a day ago. */
  expired: ServerIdentity;
  /** For localhost and 127.0.0.1, signed by a CA nobody trusts. */
  unknownCa: ServerIdentity;
  /** A client certificate (clientAuth) signed by the CA, and its key. */
  client: ServerIdentity;
  /** Paths of the files above, for peers that read files (python, the testee, the example build). */
  files: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>;
}

/** TLS settings of the test servers: what the Moddable SDK's TLS speaks (TLS 1.2, ECDHE-RSA with AES-128-GCM on P-256). */
export const SDK_COMPATIBLE: {
  readonly minVersion: 'TLSv1.2';
  readonly maxVersion: 'TLSv1.2';
  readonly ciphers: 'ECDHE-RSA-AES128-GCM-SHA256';
  readonly ecdhCurve: 'prime256v1';
};

/** The certificates, made once per process. */
export function testPki(): TestPki;
