// SHA-1 and base64: FIPS 180 / RFC 4648 vectors and strict-decoder rejections.
import { bytesEq, eq, hex, latin1, ok, test } from '../harness';
import { sha1 } from '../../src/bytes/sha1';
import { base64Decode, base64Encode } from '../../src/bytes/base64';

function sha1Hex(text: string): string {
  const d = sha1(latin1(text));
  let s = '';
  for (let i = 0; i < d.length; i++) s += (d[i] < 16 ? '0' : '') + d[i].toString(16);
  return s;
}

/** Deterministic bytes (xorshift32) so cases are identical under V8 and XS. */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test('sha1: FIPS 180 empty message', () => {
  eq(sha1Hex(''), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

test('sha1: FIPS 180 "abc"', () => {
  eq(sha1Hex('abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
});

test('sha1: FIPS 180 448-bit message', () => {
  eq(sha1Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
});

test('sha1: FIPS 180 896-bit message', () => {
  eq(
    sha1Hex(
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    ),
    'a49b2446a02c645bf419f995b67091253a04a259',
  );
});

test('sha1: one million "a"', () => {
  const data = new Uint8Array(1000000).fill(0x61);
  bytesEq(sha1(data), hex('34aa973cd4c4daa4f61eeb2bdbad27316534016f'));
});

test('sha1: padding boundaries (55, 56, 63, 64, 65, 119, 120, 128 bytes)', () => {
  const expected: ReadonlyArray<readonly [number, string]> = [
    [55, 'c1c8bbdc22796e28c0e15163d20899b65621d65a'],
    [56, 'c2db330f6083854c99d4b5bfb6e8f29f201be699'],
    [63, '03f09f5b158a7a8cdad920bddc29b81c18a551f5'],
    [64, '0098ba824b5c16427bd7a1122a5a442a25ec644d'],
    [65, '11655326c708d70319be2610e8a57d9a5b959d3b'],
    [119, 'ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56'],
    [120, 'f34c1488385346a55709ba056ddd08280dd4c6d6'],
    [128, 'ad5b3fdbcb526778c2839d2f151ea753995e26a0'],
  ];
  for (const [n, digest] of expected) eq(sha1Hex('a'.repeat(n)), digest, `${n} bytes`);
});

test('sha1: all 256 byte values and the quick brown fox', () => {
  const all = new Uint8Array(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  bytesEq(sha1(all), hex('4916d6bdb7f78e6803698cab32d1586ea457dfc8'));
  eq(sha1Hex('The quick brown fox jumps over the lazy dog'), '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12');
});

test('sha1: a [start, end) range equals the digest of a copy', () => {
  const data = pseudoRandom(300, 7);
  for (const [a, b] of [[0, 0], [1, 2], [3, 70], [10, 300], [64, 128], [299, 300]]) {
    bytesEq(sha1(data, a, b), sha1(data.slice(a, b)), `[${a}, ${b})`);
  }
});

test('sha1: repeated calls do not leak state between digests', () => {
  const first = sha1(latin1('abc'));
  sha1(pseudoRandom(1000, 3));
  bytesEq(sha1(latin1('abc')), first);
  eq(first.length, 20);
});

test('base64: RFC 4648 section 10 vectors', () => {
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, encoded] of vectors) {
    eq(base64Encode(latin1(plain)), encoded, plain);
    const back = base64Decode(encoded);
    ok(back, `decode ${encoded}`);
    bytesEq(back, latin1(plain), encoded);
  }
});

test('base64: round-trips for lengths 0..20', () => {
  for (let n = 0; n <= 20; n++) {
    const data = pseudoRandom(n, n + 11);
    const text = base64Encode(data);
    eq(text.length, Math.ceil(n / 3) * 4, `length for ${n}`);
    const back = base64Decode(text);
    ok(back, `decode length ${n}`);
    bytesEq(back, data, `length ${n}`);
  }
});

test('base64: every byte value, the whole alphabet, and a long input', () => {
  const all = new Uint8Array(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const back = base64Decode(base64Encode(all));
  ok(back);
  bytesEq(back, all);
  eq(base64Encode(hex('00 10 83 10 51 87 20 92 8b 30 d3 8f 41 14 93 51 55 97 61 96 9b 71 d7 9f 82 18 a3 92 59 a7 a2 9a ab b2 db af c3 1c b3 d3 5d b7 e3 9e bb f3 df bf')),
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
  const big = pseudoRandom(5000, 99); // crosses the encoder's string chunking
  const bigBack = base64Decode(base64Encode(big));
  ok(bigBack);
  bytesEq(bigBack, big);
});

test('base64: encode a [start, end) range', () => {
  const data = latin1('xxfoobarxx');
  eq(base64Encode(data, 2, 8), 'Zm9vYmFy');
  eq(base64Encode(data, 2, 3), 'Zg==');
  eq(base64Encode(data, 5, 5), '');
});

test('base64: decoder rejects wrong lengths', () => {
  for (const s of ['Z', 'Zg', 'Zg=', 'Zm9vY', 'Zm9vYg=']) eq(base64Decode(s), null, JSON.stringify(s));
});

test('base64: decoder rejects characters outside the standard alphabet', () => {
  for (const s of ['Zm9v!A==', 'Zm9 v', 'Zm9v\n', 'Zm-_', 'Zm9\u00e9', 'Zm9\u0100', '\u0000AAA']) {
    eq(base64Decode(s), null, JSON.stringify(s));
  }
});

test('base64: decoder rejects misplaced or excess padding', () => {
  for (const s of ['====', 'Z===', '=Zg=', 'Zg==Zg==', 'Z=g=', 'Zm=v']) eq(base64Decode(s), null, s);
});

test('base64: decoder rejects non-canonical trailing bits', () => {
  eq(base64Decode('Zh=='), null, 'Zh==');
  eq(base64Decode('Zm9='), null, 'Zm9=');
  ok(base64Decode('Zg=='), 'Zg== is canonical');
  ok(base64Decode('Zm8='), 'Zm8= is canonical');
});
