// One place for a host to install native primitives and services. The core runs
// without any of them (pure TypeScript, zero allocation per frame); a host adds what
// its engine does faster natively, and the services only it can provide (strong
// randomness, name resolution). Protocol results are identical either way.

import { setSha1 } from '../websocket/handshake';
import { setTextCodec, setUtf8Accelerator } from '../bytes/utf8';
import type { TextCodec } from '../bytes/utf8';
import { setBulkCopy, setNativeXor } from '../bytes/mask';
import type { NativeXor } from '../bytes/mask';
import { mathRandom } from '../bytes/random';
import type { RandomSource } from '../bytes/random';

/** Resolves a host name to an IPv4 address string, calling back exactly once. */
export type Resolver = (host: string, callback: (error: Error | null, address?: string) => void) => void;

export interface PlatformPrimitives {
  /** Native SHA-1 digest for the handshake's Sec-WebSocket-Accept. */
  sha1?: (data: Uint8Array) => Uint8Array;
  /** Native check that data[start, end) is valid UTF-8 (used on sequence-aligned runs). */
  utf8Check?: (data: Uint8Array, start: number, end: number) => boolean;
  /** Native string <-> UTF-8 (default: the global TextEncoder/TextDecoder when present). */
  textCodec?: TextCodec;
  /**
   * Copy payloads with TypedArray.set through a temporary view: native speed for one
   * small view per copy (on V8 and on XS far cheaper than a copy loop in JavaScript).
   */
  bulkCopy?: boolean;
  /** Native XOR masking of a byte range with a 4-byte key (Moddable: Logical.xor). */
  xorMask?: NativeXor;
  /** Strong random bytes for mask keys and handshake nonces. */
  random?: RandomSource;
  /** DNS for clients given a host name. */
  resolve?: Resolver;
  /** Monotonic milliseconds for timeouts (Date.now jumps when a device sets its clock). */
  now?: () => number;
}

// Every binding a host may replace starts as null with the default applied at use:
// after Moddable preloads a module into flash, a module binding that holds a function
// can no longer be assigned ("set clock: const"), one that holds null can.
let random: RandomSource | null = null;
let resolver: Resolver | null = null;
let clock: (() => number) | null = null;

export function installPlatform(primitives: PlatformPrimitives): void {
  if (primitives.sha1) setSha1(primitives.sha1);
  if (primitives.utf8Check) setUtf8Accelerator(primitives.utf8Check);
  if (primitives.textCodec) setTextCodec(primitives.textCodec);
  if (primitives.bulkCopy !== undefined) setBulkCopy(primitives.bulkCopy);
  if (primitives.xorMask) setNativeXor(primitives.xorMask);
  if (primitives.random) random = primitives.random;
  if (primitives.resolve) resolver = primitives.resolve;
  if (primitives.now) clock = primitives.now;
}

/** The host's monotonic clock in milliseconds. */
export function platformNow(): number {
  return clock ? clock() : Date.now();
}

/** The host's random source (Math.random until a host installs one). */
export function platformRandom(): RandomSource {
  return random ?? mathRandom;
}

/** The host's resolver, or null: then only IPv4 literals and "localhost" can be reached. */
export function platformResolver(): Resolver | null {
  return resolver;
}
