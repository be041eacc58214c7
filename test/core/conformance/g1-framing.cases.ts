// Autobahn group 1: framing. Text and binary messages of the length-encoding
// boundaries (0, 125, 126, 127, 128, 65535, 65536), echoed back; plus masking
// direction, explicit keys, non-minimal length encodings and back-to-back messages.

import { F, defineCases, ev, failed, out } from './driver';
import type { Case, Delivery, Role } from './driver';
import { OP, filled, frame, fromHex, repeat } from './peer';

const BIG: readonly Delivery[] = ['whole', 'split', 'chunks997'];
const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

const cases: Case[] = [];

LENGTHS.forEach((n, i) => {
  const big = n > 4096;
  const text = repeat('*', n);
  cases.push({
    id: `1.1.${i + 1}`,
    title: `text message with payload of length ${n}`,
    options: big ? { maxMessageSize: 65536 } : {},
    deliveries: big ? BIG : undefined,
    steps: [{ frames: [F.text(text)] }],
    events: [ev.text(text)],
    out: [out.text(text)],
  });
  const bytes = filled(n, 0xfe);
  cases.push({
    id: `1.2.${i + 1}`,
    title: `binary message with payload of length ${n}`,
    options: big ? { maxMessageSize: 65536 } : {},
    deliveries: big ? BIG : undefined,
    steps: [{ frames: [F.binary(bytes)] }],
    events: [ev.binary(bytes)],
    out: [out.binary(bytes)],
  });
});

{
  const text = repeat('*', 65536);
  cases.push({
    id: '1.1.8',
    title: 'text message with payload of length 65536 sent in chops of 997 octets',
    options: { maxMessageSize: 65536 },
    deliveries: ['chunks997'],
    steps: [{ frames: [F.text(text)] }],
    events: [ev.text(text)],
    out: [out.text(text)],
  });
  const bytes = filled(65536, 0xfe);
  cases.push({
    id: '1.2.8',
    title: 'binary message with payload of length 65536 sent in chops of 997 octets',
    options: { maxMessageSize: 65536 },
    deliveries: ['chunks997'],
    steps: [{ frames: [F.binary(bytes)] }],
    events: [ev.binary(bytes)],
    out: [out.binary(bytes)],
  });
}

// Masking direction: a client must mask, a server must not (RFC 6455 5.1) -> 1002.
cases.push(
  {
    id: '1.3.1',
    title: 'text frame with the wrong masking (masked from a server, unmasked from a client)',
    steps: [{ frames: [F.text('Hello', { masking: 'wrong' }), F.text('never')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '1.3.2',
    title: 'ping with the wrong masking',
    steps: [{ frames: [F.ping('ping', { masking: 'wrong' })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '1.3.3',
    title: 'close with the wrong masking',
    steps: [{ frames: [F.close(1000, '', { masking: 'wrong' })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '1.3.4',
    title: 'continuation with the wrong masking after a correct first fragment',
    steps: [{ frames: [F.text('Hel', { fin: false }), F.cont('lo', { masking: 'wrong' })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 1 },
  },
  {
    id: '1.3.5',
    title: 'valid message, then a wrongly masked binary frame',
    steps: [{ frames: [F.text('first'), F.binary(fromHex('0102'), { masking: 'wrong' })] }],
    events: [ev.text('first'), ...failed(1002)],
    out: [out.text('first'), out.fail(1002)],
    failAt: { frame: 1 },
  },
);

// Explicit masking keys (only used where the peer masks, i.e. toward a server).
cases.push(
  {
    id: '1.4.1',
    title: 'masking key 00000000',
    steps: [{ frames: [F.text('Hello, world!', { key: fromHex('00000000') })] }],
    events: [ev.text('Hello, world!')],
    out: [out.text('Hello, world!')],
  },
  {
    id: '1.4.2',
    title: 'masking key ffffffff',
    steps: [{ frames: [F.binary(fromHex('00ff55aa0102030405'), { key: fromHex('ffffffff') })] }],
    events: [ev.binary(fromHex('00ff55aa0102030405'))],
    out: [out.binary(fromHex('00ff55aa0102030405'))],
  },
  {
    id: '1.4.3',
    title: 'same masking key on consecutive frames',
    steps: [{ frames: [F.text('abc', { key: fromHex('37fa213d') }), F.text('defgh', { key: fromHex('37fa213d') })] }],
    events: [ev.text('abc'), ev.text('defgh')],
    out: [out.text('abc'), out.text('defgh')],
  },
);

// Non-minimal length encodings: senders must use the minimal form, receivers accept any.
cases.push(
  {
    id: '1.5.1',
    title: '5-byte text with a 16-bit length field',
    steps: [{ frames: [F.text('Hello', { lengthEncoding: '16' })] }],
    events: [ev.text('Hello')],
    out: [out.text('Hello')],
  },
  {
    id: '1.5.2',
    title: '5-byte text with a 64-bit length field',
    steps: [{ frames: [F.text('Hello', { lengthEncoding: '64' })] }],
    events: [ev.text('Hello')],
    out: [out.text('Hello')],
  },
  {
    id: '1.5.3',
    title: '200-byte binary with a 64-bit length field',
    steps: [{ frames: [F.binary(filled(200, 0x5a), { lengthEncoding: '64' })] }],
    events: [ev.binary(filled(200, 0x5a))],
    out: [out.binary(filled(200, 0x5a))],
  },
  {
    id: '1.5.4',
    title: 'empty text with a 16-bit length field',
    steps: [{ frames: [F.text('', { lengthEncoding: '16' })] }],
    events: [ev.text('')],
    out: [out.text('')],
  },
);

// Several messages in one delivery; payload lengths around the 4-byte mask word.
{
  const lengths: Uint8Array[] = [];
  for (let n = 1; n <= 17; n++) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (n * 31 + i * 7) & 0xff;
    lengths.push(b);
  }
  cases.push(
    {
      id: '1.6.1',
      title: 'three text messages back to back',
      steps: [{ frames: [F.text('one'), F.text('two'), F.text('three')] }],
      events: [ev.text('one'), ev.text('two'), ev.text('three')],
      out: [out.text('one'), out.text('two'), out.text('three')],
    },
    {
      id: '1.6.2',
      title: 'text, binary and text interleaved',
      steps: [{ frames: [F.text('a'), F.binary(fromHex('00')), F.text('\u00e9')] }],
      events: [ev.text('a'), ev.binary(fromHex('00')), ev.text('\u00e9')],
      out: [out.text('a'), out.binary(fromHex('00')), out.text('\u00e9')],
    },
    {
      id: '1.6.3',
      title: 'binary messages of lengths 1 to 17 (unmasking across word boundaries)',
      steps: [{ frames: lengths.map((b) => F.binary(b)) }],
      events: lengths.map((b) => ev.binary(b)),
      out: lengths.map((b) => out.binary(b)),
    },
    {
      id: '1.6.4',
      title: 'messages in separate deliveries',
      steps: [{ frames: [F.text('first')] }, { frames: [F.binary(fromHex('cafe'))] }, { frames: [F.text('third')] }],
      events: [ev.text('first'), ev.binary(fromHex('cafe')), ev.text('third')],
      out: [out.text('first'), out.binary(fromHex('cafe')), out.text('third')],
    },
  );
}

// Frames arriving in the same read as the end of the opening handshake.
const hello = (role: Role): Uint8Array => frame({ opcode: OP.text, payload: 'Hello', mask: role === 'server' ? fromHex('a1b2c3d4') : false });
cases.push(
  {
    id: '1.7.1',
    title: 'first frame in the same read as the handshake',
    coalesce: true,
    deliveries: ['whole'],
    steps: [{ frames: [F.text('Hello')] }],
    events: [ev.text('Hello')],
    out: [out.text('Hello')],
  },
  {
    id: '1.7.2',
    title: 'several frames in the same read as the handshake, then more',
    coalesce: true,
    steps: [{ frames: [F.ping('p'), F.text('a', { fin: false }), F.cont('b')] }, { frames: [F.binary(fromHex('ff'))] }],
    events: [ev.ping('p'), ev.text('ab'), ev.binary(fromHex('ff'))],
    out: [out.pong('p'), out.text('ab'), out.binary(fromHex('ff'))],
  },
  {
    id: '1.7.3',
    title: 'invalid frame in the same read as the handshake',
    coalesce: true,
    deliveries: ['whole'],
    steps: [{ frames: [F.text('x', { rsv: 4 }), F.text('never')] }],
    events: failed(1002),
    out: [out.fail(1002)],
  },
  {
    id: '1.7.4',
    title: 'first bytes of a frame in the same read as the handshake, the rest later',
    coalesce: true,
    steps: [{ raw: (role) => hello(role).slice(0, 1) }, { raw: (role) => hello(role).slice(1) }],
    events: [ev.text('Hello')],
    out: [out.text('Hello')],
  },
);

defineCases(cases);
