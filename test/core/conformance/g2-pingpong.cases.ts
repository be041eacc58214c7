// Autobahn group 2: pings and pongs. A ping is answered with a pong carrying the
// same payload (while open); unsolicited pongs are reported and otherwise ignored;
// control payloads over 125 bytes fail the connection with 1002.

import { F, closedClean, defineCases, ev, failed, out } from './driver';
import type { Case } from './driver';
import { filled, fromHex, utf8 } from './peer';

const cases: Case[] = [];
const BINARY = fromHex('00fffefdfcfb00ff');
const P125 = filled(125, 0xfe);
const P126 = filled(126, 0xfe);

cases.push(
  {
    id: '2.1',
    title: 'ping without payload',
    steps: [{ frames: [F.ping()] }],
    events: [ev.ping()],
    out: [out.pong()],
  },
  {
    id: '2.2',
    title: 'ping with small text payload',
    steps: [{ frames: [F.ping('Hello, world!')] }],
    events: [ev.ping('Hello, world!')],
    out: [out.pong('Hello, world!')],
  },
  {
    id: '2.3',
    title: 'ping with small binary (non UTF-8) payload',
    steps: [{ frames: [F.ping(BINARY)] }],
    events: [ev.ping(BINARY)],
    out: [out.pong(BINARY)],
  },
  {
    id: '2.4',
    title: 'ping with binary payload of 125 octets',
    steps: [{ frames: [F.ping(P125)] }],
    events: [ev.ping(P125)],
    out: [out.pong(P125)],
  },
  {
    id: '2.5',
    title: 'ping with binary payload of 126 octets',
    steps: [{ frames: [F.ping(P126), F.text('never')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '2.6',
    title: 'ping with binary payload of 125 octets, sent in octet-wise chops',
    deliveries: ['bytes', 'whole', 'split'],
    steps: [{ frames: [F.ping(P125)] }],
    events: [ev.ping(P125)],
    out: [out.pong(P125)],
  },
  {
    id: '2.7',
    title: 'unsolicited pong without payload',
    steps: [{ frames: [F.pong()] }],
    events: [ev.pong()],
    out: [],
  },
  {
    id: '2.8',
    title: 'unsolicited pong with payload',
    steps: [{ frames: [F.pong('unsolicited pong payload')] }],
    events: [ev.pong('unsolicited pong payload')],
    out: [],
  },
  {
    id: '2.9',
    title: 'unsolicited pong, then ping: only the ping is answered',
    steps: [{ frames: [F.pong('unsolicited pong payload'), F.ping('ping payload')] }],
    events: [ev.pong('unsolicited pong payload'), ev.ping('ping payload')],
    out: [out.pong('ping payload')],
  },
);

{
  const pings = [];
  const evs = [];
  const pongs = [];
  for (let i = 0; i < 10; i++) {
    pings.push(F.ping(`payload-${i}`));
    evs.push(ev.ping(`payload-${i}`));
    pongs.push(out.pong(`payload-${i}`));
  }
  cases.push(
    {
      id: '2.10',
      title: '10 pings are answered by 10 pongs in order',
      steps: [{ frames: pings }],
      events: evs,
      out: pongs,
    },
    {
      id: '2.11',
      title: '10 pings in octet-wise chops are answered by 10 pongs in order',
      deliveries: ['bytes', 'whole', 'split'],
      steps: [{ frames: pings }],
      events: evs,
      out: pongs,
    },
  );
}

cases.push(
  {
    id: '2.12',
    title: 'pong with payload of 126 octets',
    steps: [{ frames: [F.pong(P126)] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '2.13',
    title: 'ping of 126 octets with a 16-bit length, after a valid ping',
    steps: [{ frames: [F.ping('ok'), F.ping(P126, { lengthEncoding: '16' })] }],
    events: [ev.ping('ok'), ...failed(1002)],
    out: [out.pong('ok'), out.fail(1002)],
    failAt: { frame: 1 },
  },
  {
    id: '2.14',
    title: 'ping between two messages',
    steps: [{ frames: [F.text('before'), F.ping('in between'), F.binary(fromHex('a0'))] }],
    events: [ev.text('before'), ev.ping('in between'), ev.binary(fromHex('a0'))],
    out: [out.text('before'), out.pong('in between'), out.binary(fromHex('a0'))],
  },
  {
    id: '2.15',
    title: 'ping after our close is reported but not answered',
    steps: [{ act: (c) => c.close(1000) }, { frames: [F.ping('late'), F.close(1000)] }],
    events: [ev.ping('late'), ...closedClean(1000)],
    out: [out.close(1000)],
  },
  {
    id: '2.16',
    title: 'pong of 125 octets is reported intact',
    steps: [{ frames: [F.pong(P125)] }],
    events: [ev.pong(P125)],
    out: [],
  },
  {
    id: '2.17',
    title: 'ping payload split across deliveries with the header in the first',
    steps: [{ frames: [F.ping(utf8('\u03ba\u1f79\u03c3\u03bc\u03b5'))] }],
    deliveries: ['bytes', 'split', 'whole'],
    events: [ev.ping(utf8('\u03ba\u1f79\u03c3\u03bc\u03b5'))],
    out: [out.pong(utf8('\u03ba\u1f79\u03c3\u03bc\u03b5'))],
  },
  {
    id: '2.18',
    title: 'ping answered before the message after it is delivered',
    steps: [{ frames: [F.ping('p1'), F.text('m'), F.ping('p2')] }],
    events: [ev.ping('p1'), ev.text('m'), ev.ping('p2')],
    out: [out.pong('p1'), out.text('m'), out.pong('p2')],
  },
  {
    id: '2.19',
    title: 'our own ping is sent and the peer pong reported',
    steps: [{ act: (c) => c.ping(fromHex('01020304')) }, { frames: [F.pong(fromHex('01020304'))] }],
    events: [ev.pong(fromHex('01020304'))],
    out: [out.ping(fromHex('01020304'))],
  },
);

// Keep-alive (our pings after silence): interval 1000 ms, answer within 500 ms.
const KEEP = { keepAliveInterval: 1000, keepAliveTimeout: 500 };
const KEEPALIVE_FAILS = ['close 1006 false *', 'end'];
cases.push(
  {
    id: '2.20',
    title: 'keep-alive: a ping after the interval of silence, answered pongs keep the connection open',
    options: KEEP,
    steps: [
      { advance: 999 },
      { act: (_c, d) => d.output().length },
      { advance: 1 },
      { frames: [F.pong(fromHex('00000001'))] },
      { advance: 1000 },
      { frames: [F.pong(fromHex('00000002'))] },
    ],
    events: [ev.pong(fromHex('00000001')), ev.pong(fromHex('00000002'))],
    out: [out.ping(fromHex('00000001')), out.ping(fromHex('00000002'))],
    settle: KEEPALIVE_FAILS,
    check: (r) => {
      if (r.returns[0] !== 0) throw new Error('keep-alive ping sent before the interval');
    },
  },
  {
    id: '2.21',
    title: 'keep-alive: no answer within keepAliveTimeout fails with 1006',
    options: KEEP,
    steps: [{ advance: 1000 }, { advance: 499 }, { act: (c) => c.state }, { advance: 1 }],
    events: KEEPALIVE_FAILS,
    out: [out.ping(fromHex('00000001'))],
    check: (r) => {
      if (r.returns[0] !== 1) throw new Error(`state before the keep-alive deadline: ${String(r.returns[0])}`);
    },
  },
  {
    id: '2.22',
    title: 'keep-alive: inbound data postpones the ping',
    options: KEEP,
    steps: [{ advance: 900 }, { frames: [F.text('x')] }, { advance: 900 }, { act: (_c, d) => d.output().length }, { advance: 100 }],
    events: [ev.text('x')],
    out: [out.text('x'), out.ping(fromHex('00000001'))],
    settle: KEEPALIVE_FAILS,
    check: (r, role) => {
      // Only the echo of 'x' was written 1800 ms in: 2 + 1 bytes (+ 4 key bytes from a client).
      if (r.returns[0] !== (role === 'client' ? 7 : 3)) throw new Error(`output before the postponed ping: ${String(r.returns[0])} bytes`);
    },
  },
  {
    id: '2.23',
    title: 'keep-alive stops after our close',
    options: KEEP,
    steps: [{ act: (c) => c.close(1000) }, { advance: 1000 }, { frames: [F.close(1000)] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },  {
    id: '2.24',
    title: 'keep-alive: output still reaching the peer postpones the pong deadline; without it, 1006',
    options: KEEP,
    steps: [
      { advance: 1000 },
      { advance: 400 },
      { act: (c) => c.outputProgressed() },
      { advance: 499 },
      { act: (c) => c.state },
      { advance: 1 },
    ],
    events: KEEPALIVE_FAILS,
    out: [out.ping(fromHex('00000001'))],
    check: (r) => {
      if (r.returns[1] !== 1) throw new Error(`state 899 ms after the ping: ${String(r.returns[1])}, expected 1 (open)`);
    },
  },
);

defineCases(cases);
