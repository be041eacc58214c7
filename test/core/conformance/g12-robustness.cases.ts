// Group 12 (not an Autobahn group; Autobahn's 12/13 are compression, not negotiated
// here): the application's handlers. src/websocket/parser.ts requires that parser handlers
// never throw "(the connection layer guards user code)", so an exception thrown by an
// application callback must not lose or reorder frames, and the outcome must not depend
// on how the bytes were chunked. The connection reports the exception through the
// handler's `error` callback (recorded as `error <message>`) and carries on; failing the
// connection with 1011 (internal error) is accepted as well.

import { F, defineCases, ev, failed, out } from './driver';
import type { Case, Role } from './driver';
import { OP, fromHex, frame, join } from './peer';

const cases: Case[] = [];

cases.push(
  {
    id: '12.1',
    title: 'message handler throws: the next message in the same read is neither lost nor order-dependent',
    throwOn: { handler: 'message', call: 1 },
    steps: [{ frames: [F.text('one'), F.text('two')] }, { frames: [F.text('three')] }],
    events: [ev.text('one'), 'error application message handler failure', ev.text('two'), ev.text('three')],
    out: [out.text('one'), out.text('two'), out.text('three')],
    alternatives: [{ events: [ev.text('one'), 'error *', ...failed(1011)], out: [out.text('one'), out.fail(1011)] }],
  },
  {
    id: '12.2',
    title: 'ping handler throws: the message after the ping in the same read is neither lost nor order-dependent',
    throwOn: { handler: 'ping', call: 1 },
    steps: [{ frames: [F.ping('p'), F.text('after')] }, { frames: [F.text('later')] }],
    events: [ev.ping('p'), 'error application ping handler failure', ev.text('after'), ev.text('later')],
    out: [out.pong('p'), out.text('after'), out.text('later')],
    alternatives: [{ events: [ev.ping('p'), 'error *', ...failed(1011)], out: [out.pong('p'), out.fail(1011)] }],
  },
  {
    id: '12.3',
    title: 'application calls close() from the message handler: later frames of the same read still processed',
    steps: [{ frames: [F.text('bye'), F.ping('late'), F.close(1000)] }],
    echo: false,
    onMessage: (c) => c.close(1000, 'app'),
    events: [ev.text('bye'), ev.ping('late'), ...['close 1000 true ""', 'end@server']],
    out: [out.close(1000, 'app')],
  },
  {
    id: '12.5',
    title: 'pong handler throws: the rest of the read is still processed',
    throwOn: { handler: 'pong', call: 1 },
    steps: [{ frames: [F.pong('a'), F.ping('b'), F.binary(fromHex('0c'))] }],
    events: [ev.pong('a'), 'error application pong handler failure', ev.ping('b'), ev.binary(fromHex('0c'))],
    out: [out.pong('b'), out.binary(fromHex('0c'))],
    alternatives: [{ events: [ev.pong('a'), 'error *', ...failed(1011)], out: [out.fail(1011)] }],
  },
  {
    id: '12.6',
    title: 'close handler throws on a peer close: the close is still echoed and the transport handled',
    throwOn: { handler: 'close', call: 1 },
    steps: [{ frames: [F.close(1001, 'away')] }],
    events: [ev.close(1001, 'away', true), 'error application close handler failure', 'end@server'],
    out: [out.close(1001)],
  },
  {
    id: '12.7',
    title: 'close handler throws on a protocol error: the transport is still ended',
    throwOn: { handler: 'close', call: 1 },
    steps: [{ frames: [F.text('x', { rsv: 1 })] }],
    events: [ev.fail(1002), 'error application close handler failure', 'end failed'],
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
);

// A frame split across two reads, right after a message whose handler throws: the
// second read must still be parsed as the rest of that frame. If the rest of the first
// read is dropped, the second read is parsed as a new frame and the peer can smuggle a
// frame inside a payload: here a binary message whose payload bytes on the wire form
// the frame `text "hello"`.
{
  const outerKey = fromHex('0f1e2d3c');
  const embedded = (role: Role): Uint8Array => frame({ opcode: OP.text, payload: 'hello', mask: role === 'server' ? fromHex('11223344') : false });
  const outerPayload = (role: Role): Uint8Array => {
    const e = embedded(role);
    return role === 'server' ? e.map((b, i) => b ^ outerKey[i & 3]) : e; // masked on the wire = embedded frame
  };
  const one = (role: Role): Uint8Array => frame({ opcode: OP.text, payload: 'one', mask: role === 'server' ? fromHex('01020304') : false });
  const outer = (role: Role): Uint8Array => frame({ opcode: OP.binary, payload: outerPayload(role), mask: role === 'server' ? outerKey : false });
  const headerLength = (role: Role): number => outer(role).length - outerPayload(role).length;
  cases.push({
    id: '12.4',
    title: 'message handler throws with the next frame split across reads: no desynchronisation, no frame injection',
    throwOn: { handler: 'message', call: 1 },
    steps: [
      { raw: (role) => join([one(role), outer(role).slice(0, headerLength(role))]) },
      { raw: (role) => outer(role).slice(headerLength(role)) },
    ],
    events: (role) => [ev.text('one'), 'error application message handler failure', ev.binary(outerPayload(role))],
    out: (role) => [out.text('one'), out.binary(outerPayload(role))],
    alternatives: [{ events: [ev.text('one'), 'error *', ...failed(1011)], out: [out.text('one'), out.fail(1011)] }],
  });
}

defineCases(cases);
