// PEM (RFC 7468) to DER: certificates and keys arrive as PEM text more often than not
// (a file, a resource, a string in the app), and both TLS hosts take DER.

import { base64Decode } from './base64';

/**
 * The DER bytes of every PEM block labelled `label` in `text` ("CERTIFICATE",
 * "PRIVATE KEY"), in order. Text outside blocks is ignored (RFC 7468 allows
 * explanatory text). Throws a clear Error for an unterminated block or bad base64.
 */
export function pemBlocks(text: string, label: string): Uint8Array[] {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const blocks: Uint8Array[] = [];
  let at = text.indexOf(begin);
  while (at >= 0) {
    const from = at + begin.length;
    const to = text.indexOf(end, from);
    if (to < 0) throw new Error(`PEM: "${begin}" without "${end}"`);
    const der = base64Decode(text.slice(from, to).replace(/[\s]/g, ''));
    if (!der || der.length === 0) throw new Error(`PEM: the ${label} block is not valid base64`);
    blocks.push(der);
    at = text.indexOf(begin, to + end.length);
  }
  return blocks;
}

/** Whether bytes (a file or a resource) hold PEM text rather than DER: DER starts with 0x30, PEM with '-'. */
export function looksLikePem(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return i + 5 <= bytes.length && bytes[i] === 0x2d && bytes[i + 4] === 0x2d; // "-----"
}

/** Latin-1 text of bytes (PEM is ASCII). */
export function asciiText(bytes: Uint8Array): string {
  // 64 characters per call: each argument takes a slot of the JavaScript stack, and a
  // device's whole stack is a few hundred slots (a resource's PEM is kilobytes).
  let text = '';
  for (let i = 0; i < bytes.length; i += 64) text += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 64)));
  return text;
}
