// XOR masking (RFC 6455 section 5.3), in place. Word-wise over the aligned middle:
// a quarter of the loop iterations, which matters most on an interpreter like XS.

/**
 * XOR buf[start, end) with the 4-byte key, starting at key byte `phase` (the payload
 * offset of buf[start] within its frame, mod 4). `words` must view the same ArrayBuffer
 * as `buf` from byte 0 (buf.byteOffset must be 0), or be null (a buffer without such a
 * view: byte by byte); `key` and `rotated` are 4-byte arrays and `rotatedWord` views
 * `rotated`. All are supplied by the caller so nothing is allocated.
 */
export function maskInPlace(
  buf: Uint8Array,
  words: Uint32Array | null,
  start: number,
  end: number,
  key: Uint8Array,
  phase: number,
  rotated: Uint8Array,
  rotatedWord: Uint32Array,
): void {
  if (nativeXor !== null && end - start >= NATIVE_XOR_MIN) {
    const p = phase & 3;
    rotated[0] = key[p];
    rotated[1] = key[(p + 1) & 3];
    rotated[2] = key[(p + 2) & 3];
    rotated[3] = key[(p + 3) & 3];
    nativeXor(buf, start, end, rotated);
    return;
  }
  let i = start;
  let p = phase & 3;
  while (i < end && (i & 3) !== 0) {
    buf[i++] ^= key[p];
    p = (p + 1) & 3;
  }
  const wordEnd = end - ((end - i) & 3);
  if (words && i < wordEnd) {
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

/**
 * A host's native XOR of data[start, end) with a 4-byte key repeated from data[start]
 * (Moddable: Logical.xor over a view of the range). A native call costs a view and a
 * call, so short runs stay in the loop above.
 */
export type NativeXor = (data: Uint8Array, start: number, end: number, key: Uint8Array) => void;
let nativeXor: NativeXor | null = null;
const NATIVE_XOR_MIN = 32;

export function setNativeXor(fn: NativeXor | null): void {
  nativeXor = fn;
}

/**
 * Engines with a fast native memcpy and cheap short-lived objects (V8) may copy through
 * a temporary subarray view: far faster there, but one small allocation per copy, so
 * it is off unless a host turns it on (hosts/sim does; a device keeps zero allocation).
 */
let bulkCopy = false;
const BULK_MIN = 64;

export function setBulkCopy(enabled: boolean): void {
  bulkCopy = enabled;
}

/** Platform byte order, so DataView word reads match Uint32Array word writes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Copy n bytes from src[from] to dst[at], XOR-ing with the mask key when `key` is
 * given (phase as for maskInPlace). Word-wise once dst is aligned, reading the source
 * through `srcView` (a DataView over all of src.buffer, cached by the caller) so any source
 * alignment works and nothing is allocated. dstWords views dst's buffer from byte 0.
 */
export function copyMasked(
  src: Uint8Array,
  srcView: DataView,
  from: number,
  dst: Uint8Array,
  dstWords: Uint32Array,
  at: number,
  n: number,
  key: Uint8Array | null,
  phase: number,
  rotated: Uint8Array,
  rotatedWord: Uint32Array,
): void {
  if (bulkCopy && n >= BULK_MIN) {
    dst.set(src.subarray(from, from + n), at);
    if (key) maskInPlace(dst, dstWords, at, at + n, key, phase, rotated, rotatedWord);
    return;
  }
  const end = at + n;
  let s = from;
  let d = at;
  let p = phase & 3;
  if (key) {
    while (d < end && (d & 3) !== 0) {
      dst[d++] = src[s++] ^ key[p];
      p = (p + 1) & 3;
    }
  } else {
    while (d < end && (d & 3) !== 0) dst[d++] = src[s++];
  }
  const wordEnd = end - ((end - d) & 3);
  if (d < wordEnd) {
    let k = 0;
    if (key) {
      rotated[0] = key[p];
      rotated[1] = key[(p + 1) & 3];
      rotated[2] = key[(p + 2) & 3];
      rotated[3] = key[(p + 3) & 3];
      k = rotatedWord[0];
    }
    let v = src.byteOffset + s;
    for (let w = d >> 2, last = wordEnd >> 2; w < last; w++, v += 4) dstWords[w] = srcView.getUint32(v, LITTLE_ENDIAN) ^ k;
    s += wordEnd - d;
    d = wordEnd;
  }
  if (key) {
    while (d < end) {
      dst[d++] = src[s++] ^ key[p];
      p = (p + 1) & 3;
    }
  } else {
    while (d < end) dst[d++] = src[s++];
  }
}
