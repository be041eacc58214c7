import { test, eq, ok, throws, bytesEq } from '../harness';
import { asciiText, looksLikePem, pemBlocks } from '../../src/bytes/pem';
import { isTlsError, tlsError, tlsSecureOptions } from '../../src/net/tls';
import type { TlsClientOptions } from '../../src/net/tls';

// A made-up DER "certificate" (a SEQUENCE) and its PEM: the options only move bytes.
const DER = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x07);
const PEM = '-----BEGIN CERTIFICATE-----\nMAMCAQc=\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMAMCAQk=\n-----END PRIVATE KEY-----\n';
class FakeSocket {}
const socket = FakeSocket as unknown as TlsClientOptions['socket'];

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

test('pem: every block of a label, text around them ignored; bad blocks refused', () => {
  const blocks = pemBlocks(`subject: test\n${PEM}junk\n${PEM.replace('MAMCAQc=', 'MAMCAQg=')}`, 'CERTIFICATE');
  eq(blocks.length, 2);
  bytesEq(blocks[0], DER);
  eq(blocks[1][4], 8);
  eq(pemBlocks(PEM, 'PRIVATE KEY').length, 0);
  throws(() => pemBlocks('-----BEGIN CERTIFICATE-----\nMAMCAQc=\n', 'CERTIFICATE'), /without "-----END CERTIFICATE-----"/);
  throws(() => pemBlocks('-----BEGIN CERTIFICATE-----\nMA!CAQc=\n-----END CERTIFICATE-----', 'CERTIFICATE'), /not valid base64/);
  ok(looksLikePem(latin1Bytes(`\n  ${PEM}`)));
  ok(!looksLikePem(DER));
  eq(asciiText(latin1Bytes(PEM)), PEM);
});

test('tls options: PEM text, PEM bytes and DER bytes all become DER; defaults', () => {
  const s = tlsSecureOptions({ socket, ca: [PEM, latin1Bytes(PEM), DER.buffer.slice(0), DER.subarray(0)] }, 'Example.COM');
  eq(s.ca.length, 4);
  for (const der of s.ca) bytesEq(new Uint8Array(der), DER);
  eq(s.serverName, 'example.com');
  eq(s.verify, true);
  eq(s.minVersion, 'TLSv1.2');
  eq(s.certificate.length, 0);
  eq(s.key, null);
  const whole = DER.buffer.slice(0);
  ok(tlsSecureOptions({ socket, ca: whole }, 'h').ca[0] === whole, 'a whole buffer (a device resource) is passed as it is, not copied');
});

test('tls options: serverName, insecureSkipVerify, client certificate and key, minVersion', () => {
  const s = tlsSecureOptions({ socket, serverName: 'Other.example', insecureSkipVerify: true, certificate: PEM, key: KEY_PEM, minVersion: 'TLSv1.3' }, 'h');
  eq(s.serverName, 'other.example');
  eq(s.verify, false);
  eq(s.certificate.length, 1);
  ok(s.key !== null && new Uint8Array(s.key)[4] === 9);
  eq(s.minVersion, 'TLSv1.3');
});

test('tls options: clear errors for what cannot work', () => {
  throws(() => tlsSecureOptions({ socket: undefined as unknown as TlsClientOptions['socket'] }, 'h'), /TLS socket class/);
  throws(() => tlsSecureOptions({ socket, ca: 'no PEM here' }, 'h'), /tls\.ca: no "-----BEGIN CERTIFICATE-----" block/);
  throws(() => tlsSecureOptions({ socket, ca: Uint8Array.of(1, 2, 3) }, 'h'), /neither PEM nor DER/);
  throws(() => tlsSecureOptions({ socket, ca: 42 as unknown as string }, 'h'), /PEM text or DER bytes/);
  throws(() => tlsSecureOptions({ socket, key: KEY_PEM }, 'h'), /go together/);
  throws(() => tlsSecureOptions({ socket, certificate: PEM }, 'h'), /go together/);
  throws(() => tlsSecureOptions({ socket, certificate: PEM, key: '-----BEGIN RSA PRIVATE KEY-----\nMAMCAQk=\n-----END RSA PRIVATE KEY-----\n' }, 'h'), /PKCS#1/);
  throws(() => tlsSecureOptions({ socket, certificate: PEM, key: KEY_PEM + KEY_PEM }, 'h'), /exactly one private key/);
  throws(() => tlsSecureOptions({ socket, minVersion: 'TLSv1' as 'TLSv1.2' }, 'h'), /minVersion/);
  throws(() => tlsSecureOptions({ socket, serverName: 'bad name' }, 'h'), /serverName/);
});

test('tlsError: named TLSError even where Error.prototype.name cannot be assigned over (frozen primordials)', () => {
  const descriptor = Object.getOwnPropertyDescriptor(Error.prototype, 'name')!;
  // As in a Moddable app, whose preloaded primordials are frozen (and under SES lockdown).
  const restore = !Object.isFrozen(Error.prototype) && descriptor.configurable;
  if (restore) Object.defineProperty(Error.prototype, 'name', { ...descriptor, writable: false });
  try {
    ok(!Object.getOwnPropertyDescriptor(Error.prototype, 'name')!.writable, 'Error.prototype.name is read-only here');
    const error = tlsError('TLS handshake failed: certificate expired');
    eq(error.name, 'TLSError');
    eq(error.message, 'TLS handshake failed: certificate expired');
    ok(error instanceof Error);
    ok(isTlsError(error));
    ok(!isTlsError(new Error('x')));
    ok(!isTlsError('TLSError'));
  } finally {
    if (restore) Object.defineProperty(Error.prototype, 'name', descriptor);
  }
});
