// Throwaway certificates for the wss:// suites and the wss-client example (examples/run.mjs),
// made at run time with Debian's openssl
// in a temporary folder (removed at exit): a test CA and what it signs, and a second CA
// nobody trusts. RSA 2048 and SHA-256: what the Moddable SDK's TLS verifies (its
// ssl/cert) as well as Node and Python. Servers send their chain with the CA in it: the
// SDK verifies a chain by the issuer's key found in it, then that issuer against the
// CAs it trusts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** TLS settings of the test servers: what the Moddable SDK's TLS speaks (TLS 1.2, ECDHE-RSA with AES-128-GCM on P-256). */
export const SDK_COMPATIBLE = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
  ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
  ecdhCurve: 'prime256v1',
};

let made = null;
let serial = Date.now() % 1e9; // distinct serial numbers, whatever the clock

function openssl(folder, args) {
  execFileSync('openssl', args, { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] });
}

function leaf(folder, name, signer, san, usage, days) {
  openssl(folder, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  const ext = [`extendedKeyUsage=${usage}`, 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid', san ? `subjectAltName=${san}` : ''].filter(Boolean);
  writeFileSync(join(folder, `${name}.ext`), ext.join('\n') + '\n');
  // -days -1: notAfter a day before now (OpenSSL 3.0 has no -not_before).
  openssl(folder, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-set_serial', String(++serial), '-days', String(days), '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  const read = (file) => readFileSync(join(folder, file), 'utf8');
  return { cert: read(`${name}.pem`) + read(`${signer}.pem`), key: read(`${name}.key`) };
}

function authority(folder, name) {
  openssl(folder, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-sha256',
    '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectKeyIdentifier=hash',
    '-addext', 'authorityKeyIdentifier=keyid:always',
  ]);
}

/** The certificates, made once per process. */
export function testPki() {
  if (made) return made;
  const folder = mkdtempSync(join(tmpdir(), 'ws-tls-'));
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  authority(folder, 'test-ca');
  authority(folder, 'unknown-ca');
  const local = 'DNS:localhost,IP:127.0.0.1';
  const server = leaf(folder, 'server', 'test-ca', local, 'serverAuth', 30);
  const client = leaf(folder, 'client', 'test-ca', '', 'clientAuth', 30);
  writeFileSync(join(folder, 'server-chain.pem'), server.cert);
  // The CA as a device resource would be named (examples/wss-client reads ca.pem or ca.der).
  writeFileSync(join(folder, 'ca.pem'), readFileSync(join(folder, 'test-ca.pem')));
  made = {
    folder,
    ca: readFileSync(join(folder, 'test-ca.pem'), 'utf8'),
    server,
    wrongName: leaf(folder, 'wrong-name', 'test-ca', 'DNS:wrong.example', 'serverAuth', 30),
    expired: leaf(folder, 'expired', 'test-ca', local, 'serverAuth', -1),
    unknownCa: leaf(folder, 'unknown', 'unknown-ca', local, 'serverAuth', 30),
    client,
    files: {
      ca: join(folder, 'ca.pem'),
      serverCert: join(folder, 'server-chain.pem'),
      serverKey: join(folder, 'server.key'),
      clientCert: join(folder, 'client.pem'),
      clientKey: join(folder, 'client.key'),
    },
  };
  return made;
}
