// Autobahn group 3: reserved bits. No extension is negotiated, so any RSV bit
// fails the connection with 1002 (RFC 6455 5.2); frames after the bad one are never
// delivered, messages before it are.

import { F, defineCases, ev, failed, out } from './driver';
import type { Case, PeerFrame } from './driver';
import { fromHex } from './peer';

const cases: Case[] = [];

cases.push(
  {
    id: '3.1',
    title: 'text with RSV = 1',
    steps: [{ frames: [F.text('Hello, world!', { rsv: 1 })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '3.2',
    title: 'small text, then text with RSV = 2, then ping',
    steps: [{ frames: [F.text('Hello, world!'), F.text('Hello, world!', { rsv: 2 }), F.ping()] }],
    events: [ev.text('Hello, world!'), ...failed(1002)],
    out: [out.text('Hello, world!'), out.fail(1002)],
    failAt: { frame: 1 },
  },
  {
    id: '3.3',
    title: 'small text, then text with RSV = 3, then ping, in octet-wise chops',
    deliveries: ['bytes', 'whole', 'split'],
    steps: [{ frames: [F.text('Hello, world!'), F.text('Hello, world!', { rsv: 3 }), F.ping()] }],
    events: [ev.text('Hello, world!'), ...failed(1002)],
    out: [out.text('Hello, world!'), out.fail(1002)],
    failAt: { frame: 1 },
  },
  {
    id: '3.4',
    title: 'small text, then text with RSV = 4, then ping, in separate deliveries',
    steps: [{ frames: [F.text('Hello, world!')] }, { frames: [F.text('Hello, world!', { rsv: 4 })] }, { frames: [F.ping()] }],
    events: [ev.text('Hello, world!'), ...failed(1002)],
    out: [out.text('Hello, world!'), out.fail(1002)],
    failAt: { frame: 1 },
  },
  {
    id: '3.5',
    title: 'binary with RSV = 5',
    steps: [{ frames: [F.binary(fromHex('00010203040506070809fafbfcfdfeff'), { rsv: 5 })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '3.6',
    title: 'ping with RSV = 6',
    steps: [{ frames: [F.ping('Hello, world!', { rsv: 6 })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '3.7',
    title: 'close with RSV = 7',
    steps: [{ frames: [F.close(1000, '', { rsv: 7 })] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
);

// The full matrix: every RSV combination on every frame kind, between a valid message
// (delivered) and a valid message after it (never delivered).
const kinds: Array<[string, (rsv: number) => PeerFrame[], number]> = [
  ['text', (rsv) => [F.text('bad', { rsv })], 0],
  ['binary', (rsv) => [F.binary(fromHex('0102'), { rsv })], 0],
  ['ping', (rsv) => [F.ping('p', { rsv })], 0],
  ['pong', (rsv) => [F.pong('p', { rsv })], 0],
  ['close', (rsv) => [F.close(1000, 'bye', { rsv })], 0],
  ['continuation', (rsv) => [F.text('frag', { fin: false }), F.cont('ment', { rsv })], 1],
  ['empty text', (rsv) => [F.text('', { rsv })], 0],
];
kinds.forEach(([kind, bad, at], k) => {
  for (let rsv = 1; rsv <= 7; rsv++) {
    const bits = [rsv & 4 ? 'RSV1' : '', rsv & 2 ? 'RSV2' : '', rsv & 1 ? 'RSV3' : ''].filter((b) => b).join('+');
    cases.push({
      id: `3.${8 + k}.${rsv}`,
      title: `${kind} frame with ${bits} after a valid message, next message never delivered`,
      steps: [{ frames: [F.text('valid'), ...bad(rsv), F.text('never'), F.ping('never')] }],
      events: [ev.text('valid'), ...failed(1002)],
      out: [out.text('valid'), out.fail(1002)],
      failAt: { frame: 1 + at },
    });
  }
});

defineCases(cases);
