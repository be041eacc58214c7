// XOR masking (RFC 6455 section 5.3), in place. Word-wise over the aligned middle:
// a quarter of the loop iterations, which matters most on an interpreter like XS.

/**
 * XOR buf[start, end) with the 4-byte key, starting at key byte `phase` (the payload
 * offset of buf[start] within its frame, mod 4). `words` must view the same ArrayBuffer
 * as `buf` from byte 0 (buf.byteOffset must be 0); `key` and `rotated` are 4-byte arrays
 * and `rotatedWord` views `rotated`. All are supplied by the caller so nothing is allocated.
 */
export function maskInPlace(
  buf: Uint8Array,
  words: Uint32Array,
  start: number,
  end: number,
  key: Uint8Array,
  phase: number,
  rotated: Uint8Array,
  rotatedWord: Uint32Array,
): void {
  let i = start;
  let p = phase & 3;
  while (i < end && (i & 3) !== 0) {
    buf[i++] ^= key[p];
    p = (p + 1) & 3;
  }
  const wordEnd = end - ((end - i) & 3);
  if (i < wordEnd) {
    rotated[0] = key[p];
    rotated[1] = key[(p + 1) & 3];
    rotated[2] = key[(p + 2) & 3];
    rotated[3] = key[(p + 3) & 3];
    const k = rotatedWord[0];
    for (let w = i >> 2, last = wordEnd >> 2; w < last; w++) words[w] ^= k;
    i = wordEnd; // a whole number of words keeps the phase unchanged
  }
  while (i < end) {
    buf[i++] ^= key[p];
    p = (p + 1) & 3;
  }
}
