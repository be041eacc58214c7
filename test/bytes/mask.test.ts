// Masking with a host's native XOR (installPlatform({ xorMask }), Moddable: Logical.xor
// over a view of the range) gives exactly the bytes of the pure TypeScript loop, for
// every start, length and key phase; runs shorter than the native threshold stay in the
// loop. The stand-in below does what Logical.xor does: dst[i] ^= key[i mod 4].
import { afterEach, describe, expect, it } from 'vitest';
import { copyMasked, maskInPlace, setBulkCopy, setNativeXor } from '../../src/bytes/mask';

afterEach(() => {
  setNativeXor(null);
  setBulkCopy(false);
});

const key = Uint8Array.from([0x9c, 0x21, 0x5e, 0xf0]);

function fresh(n: number): { buf: Uint8Array; words: Uint32Array } {
  const buffer = new ArrayBuffer((n + 3) & ~3);
  const buf = new Uint8Array(buffer, 0, n);
  for (let i = 0; i < n; i++) buf[i] = (i * 37 + 11) & 0xff;
  return { buf, words: new Uint32Array(buffer) };
}

function reference(n: number, start: number, end: number, phase: number): Uint8Array {
  const { buf } = fresh(n);
  for (let i = start, p = phase; i < end; i++, p++) buf[i] ^= key[p & 3];
  return buf;
}

describe('maskInPlace with a native XOR', () => {
  it('matches the TypeScript loop for every start, length and phase', () => {
    const calls: number[] = [];
    setNativeXor((data, start, end, k) => {
      calls.push(end - start);
      const view = data.subarray(start, end);
      for (let i = 0; i < view.length; i++) view[i] ^= k[i & 3];
    });
    const rotated = new Uint8Array(4);
    const rotatedWord = new Uint32Array(rotated.buffer);
    for (const n of [0, 1, 31, 32, 33, 100, 1031]) {
      for (let start = 0; start <= Math.min(n, 5); start++) {
        for (let phase = 0; phase < 4; phase++) {
          const { buf, words } = fresh(n);
          maskInPlace(buf, words, start, n, key, phase, rotated, rotatedWord);
          expect(buf, `n ${n} start ${start} phase ${phase}`).toEqual(reference(n, start, n, phase));
        }
      }
    }
    expect(calls.length).toBeGreaterThan(0);
    expect(Math.min(...calls)).toBeGreaterThanOrEqual(32); // short runs stay in JavaScript
  });

  it('copyMasked with bulk copies and a native XOR matches the loop', () => {
    setBulkCopy(true);
    setNativeXor((data, start, end, k) => {
      for (let i = start; i < end; i++) data[i] ^= k[(i - start) & 3];
    });
    const rotated = new Uint8Array(4);
    const rotatedWord = new Uint32Array(rotated.buffer);
    const src = fresh(2000).buf;
    const view = new DataView(src.buffer);
    for (const n of [1, 63, 64, 65, 1500]) {
      for (const phase of [0, 1, 3]) {
        const { buf: dst, words } = fresh(2048);
        copyMasked(src, view, 7, dst, words, 3, n, key, phase, rotated, rotatedWord);
        const expected = fresh(2048).buf;
        for (let i = 0; i < n; i++) expected[3 + i] = src[7 + i] ^ key[(phase + i) & 3];
        expect(dst, `n ${n} phase ${phase}`).toEqual(expected);
      }
    }
  });
});
