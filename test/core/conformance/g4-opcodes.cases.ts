// Autobahn group 4: reserved opcodes. Non-control 3-7 and control B-F are undefined
// without an extension and fail the connection with 1002 (RFC 6455 5.2), whether
// alone, after a valid message, or inside a fragmented message.

import { F, defineCases, ev, failed, out } from './driver';
import type { Case } from './driver';

const cases: Case[] = [];
const DATA_OPS = [3, 4, 5, 6, 7];
const CONTROL_OPS = [0xb, 0xc, 0xd, 0xe, 0xf];

// Autobahn 4.1.1-4.1.5 and 4.2.1-4.2.5.
[DATA_OPS, CONTROL_OPS].forEach((ops, g) => {
  const kind = g === 0 ? 'non-control' : 'control';
  ops.forEach((op, i) => {
    const name = op.toString(16).toUpperCase();
    const id = `4.${g + 1}.${i + 1}`;
    if (i === 0) {
      cases.push({
        id,
        title: `reserved ${kind} opcode ${name}`,
        steps: [{ frames: [F.op(op)] }],
        events: failed(1002),
        out: [out.fail(1002)],
        failAt: { frame: 0 },
      });
    } else if (i === 1) {
      cases.push({
        id,
        title: `reserved ${kind} opcode ${name} with payload`,
        steps: [{ frames: [F.op(op, 'reserved opcode payload')] }],
        events: failed(1002),
        out: [out.fail(1002)],
        failAt: { frame: 0 },
      });
    } else {
      cases.push({
        id,
        title: `small text, then reserved ${kind} opcode ${name}${i > 2 ? ' with payload' : ''}, then ping${i === 4 ? ', in octet-wise chops' : ''}`,
        deliveries: i === 4 ? ['bytes', 'whole', 'split'] : undefined,
        steps: [{ frames: [F.text('Hello, world!'), F.op(op, i > 2 ? 'reserved opcode payload' : ''), F.ping()] }],
        events: [ev.text('Hello, world!'), ...failed(1002)],
        out: [out.text('Hello, world!'), out.fail(1002)],
        failAt: { frame: 1 },
      });
    }
  });
});

const ALL = DATA_OPS.concat(CONTROL_OPS);

// Each reserved opcode between two valid messages: the first delivered, the second never.
ALL.forEach((op, i) => {
  const name = op.toString(16).toUpperCase();
  cases.push({
    id: `4.3.${i + 1}`,
    title: `reserved opcode ${name} between two messages, the second never delivered`,
    steps: [{ frames: [F.binary(new Uint8Array([op])), F.op(op, 'xyz'), F.text('never'), F.ping('never')] }],
    events: [ev.binary(new Uint8Array([op])), ...failed(1002)],
    out: [out.binary(new Uint8Array([op])), out.fail(1002)],
    failAt: { frame: 1 },
  });
});

// Each reserved opcode inside a fragmented text message: the message is never delivered.
ALL.forEach((op, i) => {
  const name = op.toString(16).toUpperCase();
  cases.push({
    id: `4.4.${i + 1}`,
    title: `reserved opcode ${name} inside a fragmented text message`,
    steps: [{ frames: [F.text('frag', { fin: false }), F.op(op, '', { fin: op < 8 ? false : true }), F.cont('ment')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 1 },
  });
});

// Reserved opcodes with FIN clear (a "fragment" of an unknown message type).
ALL.forEach((op, i) => {
  const name = op.toString(16).toUpperCase();
  cases.push({
    id: `4.5.${i + 1}`,
    title: `reserved opcode ${name} with FIN clear, then a continuation`,
    steps: [{ frames: [F.op(op, 'a', { fin: false }), F.cont('b')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  });
});

defineCases(cases);
