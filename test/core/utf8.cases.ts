import { test, eq, ok, bytesEq, hex } from '../harness';
import { Utf8Validator, Utf8Writer, isValidUtf8, utf8Length, encodeUtf8, decodeUtf8, setTextCodec, textCodec } from '../../src/bytes/utf8';
import { FrameEncoder } from '../../src/websocket/encoder';
import { FrameParser } from '../../src/websocket/parser';

const valid: Array<[string, string]> = [
  ['empty', ''],
  ['ascii', '48656c6c6f'],
  ['2-byte min U+0080', 'c280'],
  ['2-byte max U+07FF', 'dfbf'],
  ['3-byte min U+0800', 'e0a080'],
  ['3-byte before surrogates U+D7FF', 'ed9fbf'],
  ['3-byte after surrogates U+E000', 'ee8080'],
  ['3-byte max U+FFFF', 'efbfbf'],
  ['4-byte min U+10000', 'f0908080'],
  ['4-byte max U+10FFFF', 'f48fbfbf'],
  ['Hello-µ@ßöäüàá-UTF-8!!', '48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121'],
  ['kosme', 'cebae1bdb9cf83cebcceb5'],
];
// [name, hex, index of the first byte that must be rejected (fail-fast)]
const invalid: Array<[string, string, number]> = [
  ['lone continuation', '80', 0],
  ['overlong 2-byte C0', 'c0af', 0],
  ['overlong 2-byte C1', 'c1bf', 0],
  ['overlong 3-byte', 'e080af', 1],
  ['overlong 4-byte', 'f08080af', 1],
  ['surrogate D800', 'eda080', 1],
  ['surrogate DFFF', 'edbfbf', 1],
  ['above U+10FFFF', 'f4908080', 1],
  ['F5 lead', 'f5808080', 0],
  ['FF byte', 'ff', 0],
  ['kosme then bad', 'cebae1bdb9cf83cebcceb5eda080656469746564', 12],
  ['truncated then ascii', 'e08041', 1],
  ['2-byte lead then ascii', 'c241', 1],
];

for (const [name, bytes] of valid) {
  test(`utf8: valid ${name}`, () => {
    const data = hex(bytes);
    ok(isValidUtf8(data), 'isValidUtf8');
    const v = new Utf8Validator();
    for (let i = 0; i < data.length; i++) eq(v.update(data, i, i + 1), -1, `byte ${i}`);
    ok(v.complete, 'complete');
  });
}

for (const [name, bytes, at] of invalid) {
  test(`utf8: invalid ${name} fails at byte ${at}`, () => {
    const data = hex(bytes);
    ok(!isValidUtf8(data), 'isValidUtf8');
    eq(new Utf8Validator().update(data, 0, data.length), at, 'whole');
    const v = new Utf8Validator();
    let failedAt = -1;
    for (let i = 0; i < data.length && failedAt < 0; i++) failedAt = v.update(data, i, i + 1);
    eq(failedAt, at, 'byte by byte');
  });
}

test('utf8: truncated sequence is incomplete, not invalid', () => {
  const v = new Utf8Validator();
  eq(v.update(hex('f0 90 80'), 0, 3), -1);
  ok(!v.complete);
  eq(v.update(hex('80'), 0, 1), -1);
  ok(v.complete);
});

test('utf8: validator stays rejected after a failure', () => {
  const v = new Utf8Validator();
  eq(v.update(hex('ff'), 0, 1), 0);
  eq(v.update(hex('41'), 0, 1), 0);
  v.reset();
  eq(v.update(hex('41'), 0, 1), -1);
});

/** Run a case with the native codec (when the engine has one) and with the TypeScript paths. */
function bothCodecs(name: string, body: () => void): void {
  test(`${name} (native codec if any)`, body);
  test(`${name} (TypeScript codec)`, () => {
    const saved = textCodec();
    setTextCodec(null);
    try {
      body();
    } finally {
      setTextCodec(saved);
    }
  });
}

bothCodecs('utf8: encoder text fragments round trip through the parser', () => {
  const text = 'x\u00e9\u20ac\ud83d\ude00 end \ud800';
  const expected = 'x\u00e9\u20ac\ud83d\ude00 end \ufffd';
  for (const fragment of [0, 1, 2, 3, 5, 7]) {
    const wire: number[] = [];
    const encoder = new FrameEncoder({ role: 'server', maxFragmentSize: fragment, bufferSize: 128 }, (d, s, e) => {
      for (let i = s; i < e; i++) wire.push(d[i]);
    });
    encoder.text(text);
    const got: string[] = [];
    const parser = new FrameParser({ role: 'client' }, {
      onMessage: (type, d, s, e) => got.push(type + ':' + decodeUtf8(d, s, e)),
      onChunk() {},
      onPing() {},
      onPong() {},
      onClose() {},
      onError: (code) => got.push('error ' + code),
    });
    parser.push(new Uint8Array(wire));
    eq(got.join('|'), 'text:' + expected, `fragment ${fragment}`);
  }
});

bothCodecs('utf8: encode/decode round trip including astral and lone surrogates', () => {
  const text = 'a\u00e9\u20ac\ud83d\ude00z';
  const bytes = encodeUtf8(text);
  bytesEq(bytes, hex('61 c3a9 e282ac f09f9880 7a'));
  eq(utf8Length(text), bytes.length);
  eq(decodeUtf8(bytes), text);
  bytesEq(encodeUtf8('\ud800x'), hex('efbfbd 78'), 'lone high surrogate becomes U+FFFD');
  bytesEq(encodeUtf8('\udc00'), hex('efbfbd'), 'lone low surrogate becomes U+FFFD');
  eq(utf8Length('\ud800x'), 4);
});

test('utf8: writer splits code points across any buffer size', () => {
  const text = 'x\u00e9\u20ac\ud83d\ude00\u0800end';
  const whole = encodeUtf8(text);
  for (let size = 1; size <= 6; size++) {
    const w = new Utf8Writer();
    w.reset(text);
    const out = new Uint8Array(whole.length);
    let o = 0;
    const chunk = new Uint8Array(size);
    while (!w.done) {
      const n = w.fill(chunk, 0, size);
      out.set(chunk.subarray(0, n), o);
      o += n;
    }
    eq(o, whole.length, `size ${size}`);
    bytesEq(out, whole, `size ${size}`);
  }
});

test('utf8: decode of long text crosses the internal chunk size', () => {
  let text = '';
  for (let i = 0; i < 3000; i++) text += String.fromCharCode(0x41 + (i % 26), 0x3b1 + (i % 20));
  eq(decodeUtf8(encodeUtf8(text)), text);
});
