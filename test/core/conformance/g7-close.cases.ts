// Autobahn group 7: the closing handshake. A peer close is echoed with the same code
// (an empty close with an empty close), reported with wasClean = true, and nothing after
// it is processed; a server ends TCP at once, a client waits for the server to close
// (and ends itself after closeTimeout). Invalid close frames fail with 1002/1007.
// Also our own close: answered (clean), never answered (1006 after closeTimeout),
// transport loss (1006, wasClean false) and abort.

import { F, closedClean, defineCases, ev, failed, out } from './driver';
import type { Case } from './driver';
import { filled, fromHex, join, repeat, utf8 } from './peer';

const cases: Case[] = [];

// --- 7.1: basic close behaviour --------------------------------------------------------

cases.push(
  {
    id: '7.1.1',
    title: 'text message echoed, then a normal close',
    steps: [{ frames: [F.text('Hello World!'), F.close(1000)] }],
    events: [ev.text('Hello World!'), ...closedClean(1000)],
    out: [out.text('Hello World!'), out.close(1000)],
  },
  {
    id: '7.1.2',
    title: 'two close frames: the second is ignored',
    steps: [{ frames: [F.close(1000), F.close(1000)] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.1.3',
    title: 'close, then ping: no pong',
    steps: [{ frames: [F.close(1000), F.ping('Hello World!')] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.1.4',
    title: 'close, then text: not delivered',
    steps: [{ frames: [F.close(1000), F.text('Hello World!')] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.1.5',
    title: 'message fragment, close, then the rest of the message: never delivered',
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.close(1000), F.cont('fragment2')] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.1.6',
    title: 'large text message, then close, then ping',
    steps: [{ frames: [F.text(repeat('BAsd7&jh23', 409)), F.close(1000), F.ping('Hello World!')] }],
    events: [ev.text(repeat('BAsd7&jh23', 409)), ...closedClean(1000)],
    out: [out.text(repeat('BAsd7&jh23', 409)), out.close(1000)],
  },
);

// --- 7.3: close frame payloads ------------------------------------------------------------

const R123 = repeat('*', 123);
const R124 = repeat('*', 124);
cases.push(
  {
    id: '7.3.1',
    title: 'close with empty payload is answered with an empty close',
    steps: [{ frames: [F.close()] }],
    events: closedClean(1005),
    out: [out.close()],
  },
  {
    id: '7.3.2',
    title: 'close with 1-byte payload',
    steps: [{ frames: [F.op(0x8, fromHex('03'))] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0, payload: 0 },
  },
  {
    id: '7.3.3',
    title: 'close with status code only',
    steps: [{ frames: [F.close(1000)] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.3.4',
    title: 'close with code 1000 and a reason',
    steps: [{ frames: [F.close(1000, 'Hello World!')] }],
    events: closedClean(1000, 'Hello World!'),
    out: [out.close(1000)],
  },
  {
    id: '7.3.5',
    title: 'close with code 1000 and a reason of 123 bytes',
    steps: [{ frames: [F.close(1000, R123)] }],
    events: closedClean(1000, R123),
    out: [out.close(1000)],
  },
  {
    id: '7.3.6',
    title: 'close with code 1000 and a reason of 124 bytes (payload over 125)',
    steps: [{ frames: [F.close(1000, R124)] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '7.3.7',
    title: 'close with a multi-byte UTF-8 reason',
    steps: [{ frames: [F.close(1001, '\u03ba\u1f79\u03c3\u03bc\u03b5 \ud83d\ude00')] }],
    events: closedClean(1001, '\u03ba\u1f79\u03c3\u03bc\u03b5 \ud83d\ude00'),
    out: [out.close(1001)],
  },
  {
    id: '7.3.8',
    title: 'close with a reason of 123 bytes of 3-byte characters (41 x U+20AC)',
    steps: [{ frames: [F.close(1000, repeat('\u20ac', 41))] }],
    events: closedClean(1000, repeat('\u20ac', 41)),
    out: [out.close(1000)],
  },
);

// --- 7.5: invalid UTF-8 in the reason --------------------------------------------------------

cases.push(
  {
    id: '7.5.1',
    title: 'close with invalid UTF-8 in the reason',
    steps: [{ frames: [F.close(1000, join([fromHex('cebae1bdb9cf83cebcceb5eda080'), utf8('edited')]))] }],
    events: failed(1007),
    out: [out.fail(1007)],
    failAt: { frame: 0, payload: 21 },
  },
  {
    id: '7.5.2',
    title: 'close with a reason ending inside a UTF-8 sequence',
    steps: [{ frames: [F.close(1000, fromHex('41e282'))] }],
    events: failed(1007),
    out: [out.fail(1007)],
    failAt: { frame: 0, payload: 4 },
  },
  {
    id: '7.5.3',
    title: 'close with an overlong NUL in the reason',
    steps: [{ frames: [F.close(1000, fromHex('c080'))] }],
    events: failed(1007),
    out: [out.fail(1007)],
    failAt: { frame: 0, payload: 3 },
  },
);

// --- 7.7 / 7.9 / 7.13: close codes ----------------------------------------------------------

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
VALID.forEach((code, i) => {
  cases.push({
    id: `7.7.${i + 1}`,
    title: `close with valid code ${code} is echoed`,
    steps: [{ frames: [F.close(code, 'reason')] }],
    events: closedClean(code, 'reason'),
    out: [out.close(code)],
  });
});

const INVALID = [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999];
INVALID.forEach((code, i) => {
  cases.push({
    id: `7.9.${i + 1}`,
    title: `close with invalid code ${code}`,
    steps: [{ frames: [F.close(code)] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0, payload: 1 },
  });
});
[5000, 65535].forEach((code, i) => {
  cases.push({
    id: `7.13.${i + 1}`,
    title: `close with invalid code ${code}`,
    steps: [{ frames: [F.close(code, 'reason')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0, payload: 7 },
  });
});

// --- 7.20: our close -----------------------------------------------------------------------

const TIMEOUT = 5000; // the default closeTimeout
cases.push(
  {
    id: '7.20.1',
    title: 'our close answered by the peer: clean close with the peer code',
    steps: [{ act: (c) => c.close(1000, 'bye') }, { frames: [F.close(1000)] }],
    events: closedClean(1000),
    out: [out.close(1000, 'bye')],
  },
  {
    id: '7.20.2',
    title: 'our close answered with an empty close: code 1005',
    steps: [{ act: (c) => c.close(4000, 'custom') }, { frames: [F.close()] }],
    events: closedClean(1005),
    out: [out.close(4000, 'custom')],
  },
  {
    id: '7.20.3',
    title: 'our close answered with a different code: the peer code is reported',
    steps: [{ act: (c) => c.close(1000) }, { frames: [F.close(1001, 'going')] }],
    events: closedClean(1001, 'going'),
    out: [out.close(1000)],
  },
  {
    id: '7.20.4',
    title: 'after our close, a message from the peer is delivered but not echoed',
    steps: [{ act: (c) => c.close(1000) }, { frames: [F.text('late'), F.close(1000)] }],
    events: [ev.text('late'), ...closedClean(1000)],
    out: [out.close(1000)],
  },
  {
    id: '7.20.5',
    title: 'close timeout: the peer never answers our close',
    steps: [
      { act: (c) => c.close(1000) },
      { act: (c, d) => (c.nextTimeout() === d.clock + TIMEOUT ? 'deadline ok' : `deadline ${c.nextTimeout() - d.clock}`) },
      { advance: TIMEOUT - 1 },
      { frames: [F.text('still closing')] },
      { advance: 1 },
    ],
    events: [ev.text('still closing'), 'close 1006 false *', 'end'],
    out: [out.close(1000)],
    check: (r) => {
      if (r.returns[1] !== 'deadline ok') throw new Error(`close deadline: ${String(r.returns[1])}`);
    },
  },
  {
    id: '7.20.6',
    title: 'close timeout with a custom closeTimeout of 100 ms',
    options: { closeTimeout: 100 },
    steps: [{ act: (c) => c.close(3000, 'x') }, { advance: 99 }, { act: (c) => c.state }, { advance: 1 }],
    events: ['close 1006 false *', 'end'],
    out: [out.close(3000, 'x')],
    check: (r) => {
      if (r.returns[1] !== 2) throw new Error(`state before the deadline: ${String(r.returns[1])}, expected 2 (closing)`);
    },
  },
  {
    id: '7.20.7',
    title: 'after our close, a protocol violation fails without a second close frame',
    steps: [{ act: (c) => c.close(1000) }, { frames: [F.text('x', { rsv: 4 })] }],
    events: failed(1002),
    out: [out.close(1000)],
  },
  {
    id: '7.20.8',
    title: 'close called twice sends one close frame',
    steps: [{ act: (c) => c.close(1000, 'one') }, { act: (c) => c.close(1001, 'two') }, { frames: [F.close(1000)] }],
    events: closedClean(1000),
    out: [out.close(1000, 'one')],
  },
  {
    id: '7.20.9',
    title: 'sending after our close returns false and writes nothing',
    steps: [
      { act: (c) => c.close(1000) },
      { act: (c) => [c.sendText('no'), c.sendBinary(new Uint8Array(1)), c.ping()] },
      { frames: [F.close(1000)] },
      { act: (c) => [c.sendText('no'), c.ping()] },
    ],
    events: closedClean(1000),
    out: [out.close(1000)],
    check: (r) => {
      if (JSON.stringify(r.returns.slice(1)) !== '[[false,false,false],[false,false]]') throw new Error(`returns ${JSON.stringify(r.returns)}`);
    },
  },
  {
    id: '7.20.10',
    title: 'close with a 123-byte reason is sent; 124 bytes or an invalid code throw and send nothing',
    steps: [
      { act: (c) => attempt(() => c.close(1000, R124)) },
      { act: (c) => attempt(() => c.close(1005)) },
      { act: (c) => attempt(() => c.close(999)) },
      { act: (c) => attempt(() => c.close(1000, R123)) },
      { frames: [F.close(1000)] },
    ],
    events: closedClean(1000),
    out: [out.close(1000, R123)],
    check: (r) => {
      if (JSON.stringify(r.returns) !== '["RangeError","RangeError","RangeError","ok"]') {
        throw new Error(`returns ${JSON.stringify(r.returns)}`);
      }
    },
  },  {
    id: '7.20.11',
    title: 'output still reaching the peer restarts the close timeout (our close behind queued data)',
    options: { closeTimeout: 100 },
    steps: [
      { act: (c) => c.close(1000) },
      { advance: 90 },
      { act: (c) => c.outputProgressed() },
      { advance: 90 },
      { act: (c) => c.state },
      { frames: [F.close(1000)] },
    ],
    events: closedClean(1000),
    out: [out.close(1000)],
    check: (r) => {
      if (r.returns[2] !== 2) throw new Error(`state 180 ms after close: ${String(r.returns[2])}, expected 2 (closing)`);
    },
  },
  {
    id: '7.20.12',
    title: 'once output stops reaching the peer, the close timeout runs out closeTimeout later',
    options: { closeTimeout: 100 },
    steps: [
      { act: (c) => c.close(1000) },
      { advance: 50 },
      { act: (c) => c.outputProgressed() },
      { advance: 99 },
      { act: (c) => c.state },
      { advance: 1 },
    ],
    events: ['close 1006 false *', 'end'],
    out: [out.close(1000)],
    check: (r) => {
      if (r.returns[2] !== 2) throw new Error(`state before the restarted deadline: ${String(r.returns[2])}`);
    },
  },
);

function attempt(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof RangeError ? 'RangeError' : String(error);
  }
}

// --- 7.21: transport loss and abort ------------------------------------------------------------

cases.push(
  {
    id: '7.21.1',
    title: 'transport lost while open: 1006, wasClean false, no close frame',
    steps: [{ frames: [F.text('hi')] }, { transportClosed: true }],
    events: [ev.text('hi'), ev.close(1006, '', false)],
    out: [out.text('hi')],
  },
  {
    id: '7.21.2',
    title: 'transport lost inside a fragmented message and a frame header: the message is never delivered',
    steps: [{ frames: [F.text('fragment1', { fin: false })] }, { raw: fromHex('80') }, { transportClosed: true }],
    events: [ev.close(1006, '', false)],
    out: [],
  },
  {
    id: '7.21.3',
    title: 'transport lost while closing (our close unanswered): 1006',
    steps: [{ act: (c) => c.close(1000) }, { transportClosed: true }],
    events: [ev.close(1006, '', false)],
    out: [out.close(1000)],
  },
  {
    id: '7.21.4',
    title: 'transport closed by the server after a clean close: reported once',
    steps: [{ frames: [F.close(1000, 'done')] }, { transportClosed: true }],
    events: closedClean(1000, 'done'),
    out: [out.close(1000)],
  },
  {
    id: '7.21.5',
    title: 'abort: 1006, transport ended, nothing written',
    steps: [{ frames: [F.ping('x')] }, { act: (c) => c.abort() }, { frames: [F.text('after')] }],
    events: [ev.ping('x'), 'close 1006 false *', 'end'],
    out: [out.pong('x')],
  },
  {
    id: '7.21.6',
    title: 'bytes after the transport was lost are ignored',
    steps: [{ transportClosed: true }, { frames: [F.text('ghost'), F.ping('ghost')] }],
    events: [ev.close(1006, '', false)],
    out: [],
  },
  {
    id: '7.21.7',
    title: 'transport lost halfway through a partial header',
    steps: [{ raw: fromHex('81') }, { transportClosed: true }],
    events: [ev.close(1006, '', false)],
    out: [],
  },
);

// --- 7.22: data after the close and the client linger ------------------------------------------

cases.push(
  {
    id: '7.22.1',
    title: 'a client waits closeTimeout for the server to close TCP, a server ends at once',
    steps: [{ frames: [F.close(1000)] }, { advance: TIMEOUT - 1 }, { act: (_c, d) => d.events.slice() }, { advance: 1 }],
    events: [ev.close(1000, '', true), 'end'],
    out: [out.close(1000)],
    settle: [],
    check: (r, role) => {
      const before = JSON.stringify(r.returns[0]);
      const expected = JSON.stringify(role === 'server' ? [ev.close(1000, '', true), 'end'] : [ev.close(1000, '', true)]);
      if (before !== expected) throw new Error(`events 1 ms before closeTimeout: ${before}, expected ${expected}`);
    },
  },
  {
    id: '7.22.2',
    title: 'an invalid frame after the close frame is ignored (no 1002, still clean)',
    steps: [{ frames: [F.close(1000), F.text('bad', { rsv: 7 }), F.op(0xb)] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.22.3',
    title: 'binary after close is not delivered',
    steps: [{ frames: [F.close(1000)] }, { frames: [F.binary(filled(10, 1))] }],
    events: closedClean(1000),
    out: [out.close(1000)],
  },
  {
    id: '7.22.4',
    title: 'close in the same delivery as a message and a ping',
    steps: [{ frames: [F.ping('a'), F.binary(fromHex('00')), F.close(3000, 'app')] }],
    events: [ev.ping('a'), ev.binary(fromHex('00')), ...closedClean(3000, 'app')],
    out: [out.pong('a'), out.binary(fromHex('00')), out.close(3000)],
  },
  {
    id: '7.22.5',
    title: 'close with invalid code after a message: the message stays delivered',
    steps: [{ frames: [F.text('ok'), F.close(1006)] }],
    events: [ev.text('ok'), ...failed(1002)],
    out: [out.text('ok'), out.fail(1002)],
    failAt: { frame: 1, payload: 1 },
  },
);

defineCases(cases);
