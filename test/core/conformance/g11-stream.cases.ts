// Group 11 (not an Autobahn group): streaming delivery (mode 'stream'). Messages
// arrive as chunks of at most chunkSize bytes; `first` marks a message's first chunk
// and `last` its final one; continuation chunks carry the message's type; text is
// validated as it streams, so invalid UTF-8 in a later chunk fails with 1007 after
// the earlier chunks were delivered. The recorder (driver.ts) checks the flags, the
// types and the chunk sizes, and reassembles each message (event `stream <type> ...`;
// a message cut by the close shows as `partial <type> ...`).

import { F, closedClean, defineCases, ev, failed, out } from './driver';
import type { Case, PeerFrame } from './driver';
import { checkUtf8, decodeUtf8, fromHex, isUtf8, join, repeat, utf8 } from './peer';

const cases: Case[] = [];
const SMALL = { mode: 'stream' as const, chunkSize: 4 };

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + 5) & 0xff;
  return b;
}

function fragments(opcode: 'text' | 'binary', data: Uint8Array, size: number): PeerFrame[] {
  const frames: PeerFrame[] = [];
  for (let at = 0; at < data.length || at === 0; at += size) {
    const piece = data.slice(at, Math.min(data.length, at + size));
    const fin = at + size >= data.length;
    frames.push(at === 0 ? (opcode === 'text' ? F.text(piece, { fin }) : F.binary(piece, { fin })) : F.cont(piece, { fin }));
    if (data.length === 0) break;
  }
  return frames;
}

/** The partial message reported at the close must be a prefix of the valid part of `message`. */
function partialPrefixOf(message: Uint8Array): Case['check'] {
  return (r) => {
    const partial = r.events.find((e) => e.indexOf('partial text ') === 0);
    if (!partial) return;
    const text = JSON.parse(partial.slice('partial text '.length)) as string;
    const verdict = checkUtf8(message);
    let end = verdict.error >= 0 ? verdict.error : message.length;
    while (end > 0 && !isUtf8(message, 0, end)) end--;
    const validPart = decodeUtf8(message, 0, end) ?? '';
    if (validPart.indexOf(text) !== 0) throw new Error(`partial ${JSON.stringify(text)} is not a prefix of ${JSON.stringify(validPart)}`);
  };
}

const HELLO = utf8('Hello World!');
const KOSME = utf8('\u03ba\u1f79\u03c3\u03bc\u03b5');

cases.push(
  {
    id: '11.1',
    title: 'stream: one-frame text in chunks of 4',
    options: SMALL,
    steps: [{ frames: [F.text(HELLO)] }],
    events: [ev.stream('text', HELLO)],
    out: [],
  },
  {
    id: '11.2',
    title: 'stream: one-frame binary in chunks of 4 (not a multiple)',
    options: SMALL,
    steps: [{ frames: [F.binary(pattern(10))] }],
    events: [ev.stream('binary', pattern(10))],
    out: [],
  },
  {
    id: '11.3',
    title: 'stream: fragmented text, continuation chunks are typed text',
    options: SMALL,
    steps: [{ frames: [F.text('Hello', { fin: false }), F.cont(' ', { fin: false }), F.cont('World!')] }],
    events: [ev.stream('text', 'Hello World!')],
    out: [],
  },
  {
    id: '11.4',
    title: 'stream: fragmented binary, continuation chunks are typed binary',
    options: SMALL,
    steps: [{ frames: fragments('binary', pattern(23), 5) }],
    events: [ev.stream('binary', pattern(23))],
    out: [],
  },
  {
    id: '11.5',
    title: 'stream: a binary message larger than chunkSize x 10 is delivered intact',
    options: { mode: 'stream', chunkSize: 8 },
    steps: [{ frames: fragments('binary', pattern(1000), 100) }],
    events: [ev.stream('binary', pattern(1000))],
    out: [],
  },
  {
    id: '11.6',
    title: 'stream: a text larger than chunkSize x 10 with characters split across chunks',
    options: { mode: 'stream', chunkSize: 7 },
    steps: [{ frames: fragments('text', utf8(repeat('\u00e9\u20ac\ud83d\ude00x', 20)), 33) }],
    events: [ev.stream('text', repeat('\u00e9\u20ac\ud83d\ude00x', 20))],
    out: [],
  },
  {
    id: '11.7',
    title: 'stream: invalid UTF-8 in a later chunk fails with 1007 right at the bad byte',
    options: SMALL,
    steps: [{ frames: [F.text(join([utf8('Hello Worl'), fromHex('ff21')]))] }],
    events: ['partial text *', ...failed(1007)],
    out: [out.fail(1007)],
    failAt: { frame: 0, payload: 10 },
    check: partialPrefixOf(join([utf8('Hello Worl'), fromHex('ff21')])),
  },
  {
    id: '11.8',
    title: 'stream: invalid UTF-8 in a later fragment after valid chunks',
    options: SMALL,
    steps: [{ frames: [F.text(KOSME, { fin: false }), F.cont(fromHex('41eda080'), { fin: false }), F.cont('edited')] }],
    events: [ev.partial('text', KOSME), ...failed(1007)],
    out: [out.fail(1007)],
    failAt: { frame: 1, payload: 2 },
  },
  {
    id: '11.9',
    title: 'stream: text ending inside a UTF-8 sequence fails with 1007 and no last chunk',
    options: SMALL,
    steps: [{ frames: [F.text(fromHex('6162636465e282'))] }],
    events: ['partial text *', ...failed(1007)],
    out: [out.fail(1007)],
    failAt: { frame: 0, payload: 6 },
    check: partialPrefixOf(fromHex('6162636465e282')),
  },
  {
    id: '11.10',
    title: 'stream: ping between fragments is answered while the message streams',
    options: SMALL,
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.ping('pongme'), F.cont('fragment2')] }],
    events: [ev.ping('pongme'), ev.stream('text', 'fragment1fragment2')],
    out: [out.pong('pongme')],
  },
  {
    id: '11.11',
    title: 'stream: an empty text message is one chunk, first and last',
    options: SMALL,
    steps: [{ frames: [F.text('')] }],
    events: [ev.stream('text', '')],
    out: [],
  },
  {
    id: '11.12',
    title: 'stream: consecutive messages each start with a first chunk',
    options: SMALL,
    steps: [{ frames: [F.text('abcdefg'), F.binary(pattern(9)), F.text('h', { fin: false }), F.cont('ij')] }],
    events: [ev.stream('text', 'abcdefg'), ev.stream('binary', pattern(9)), ev.stream('text', 'hij')],
    out: [],
  },
  {
    id: '11.13',
    title: 'stream: empty final fragment ends the message',
    options: SMALL,
    steps: [{ frames: [F.binary(pattern(6), { fin: false }), F.cont(new Uint8Array(0))] }],
    events: [ev.stream('binary', pattern(6))],
    out: [],
  },
  {
    id: '11.14',
    title: 'stream: chunkSize 1 with multi-byte text',
    options: { mode: 'stream', chunkSize: 1 },
    steps: [{ frames: [F.text(KOSME)] }],
    events: [ev.stream('text', KOSME)],
    out: [],
  },
  {
    id: '11.15',
    title: 'stream: default options accept a 100000-byte message (no default size limit)',
    options: { mode: 'stream' },
    deliveries: ['whole', 'split', 'chunks997'],
    steps: [{ frames: [F.binary(pattern(100000))] }],
    events: [ev.stream('binary', pattern(100000))],
    out: [],
  },
  {
    id: '11.16',
    title: 'stream: close after a streamed message',
    options: SMALL,
    steps: [{ frames: [F.text('abcdef'), F.close(1000, 'done')] }],
    events: [ev.stream('text', 'abcdef'), ...closedClean(1000, 'done')],
    out: [out.close(1000)],
  },
  {
    id: '11.17',
    title: 'stream: close in the middle of a streamed message',
    options: SMALL,
    steps: [{ frames: [F.text('abcdef', { fin: false }), F.close(1000)] }],
    events: [ev.partial('text', 'abcdef'), ...closedClean(1000)],
    out: [out.close(1000)],
  },
  {
    id: '11.18',
    title: 'stream: protocol error after chunks were delivered (new message inside a fragmented one)',
    options: SMALL,
    steps: [{ frames: [F.binary(pattern(9), { fin: false }), F.text('x')] }],
    events: [ev.partial('binary', pattern(9)), ...failed(1002)],
    out: [out.fail(1002)],
    failAt: { frame: 1 },
  },
);

defineCases(cases);
