// One place for a host to install native primitives. The core runs without any of
// them (pure TypeScript, zero allocation per frame); a host adds what its engine does
// faster natively. Results are identical either way: only speed and allocation differ.

import { setSha1 } from './handshake';
import { setTextCodec, setUtf8Accelerator } from './utf8';
import type { TextCodec } from './utf8';
import { setBulkCopy } from './mask';

export interface PlatformPrimitives {
  /** Native SHA-1 digest for the handshake's Sec-WebSocket-Accept. */
  sha1?: (data: Uint8Array) => Uint8Array;
  /** Native check that data[start, end) is valid UTF-8 (used on sequence-aligned runs). */
  utf8Check?: (data: Uint8Array, start: number, end: number) => boolean;
  /** Native string <-> UTF-8 (default: the global TextEncoder/TextDecoder when present). */
  textCodec?: TextCodec;
  /** Copy payloads with TypedArray.set through a temporary view (fast on V8, allocates). */
  bulkCopy?: boolean;
}

export function installPlatform(primitives: PlatformPrimitives): void {
  if (primitives.sha1) setSha1(primitives.sha1);
  if (primitives.utf8Check) setUtf8Accelerator(primitives.utf8Check);
  if (primitives.textCodec) setTextCodec(primitives.textCodec);
  if (primitives.bulkCopy !== undefined) setBulkCopy(primitives.bulkCopy);
}
