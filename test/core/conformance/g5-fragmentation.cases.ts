// Autobahn group 5: fragmentation. Control frames may be injected between the
// fragments of a message but may not be fragmented themselves; a continuation needs
// a message to continue, and a new message may not start inside a fragmented one.

import { F, closedClean, defineCases, ev, failed, out } from './driver';
import type { Case, PeerFrame } from './driver';
import { fromHex, join, utf8 } from './peer';

const cases: Case[] = [];

cases.push(
  {
    id: '5.1',
    title: 'ping in 2 fragments',
    steps: [{ frames: [F.ping('fragment1', { fin: false }), F.cont('fragment2')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '5.2',
    title: 'pong in 2 fragments',
    steps: [{ frames: [F.pong('fragment1', { fin: false }), F.cont('fragment2')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '5.3',
    title: 'text message in 2 fragments',
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.cont('fragment2')] }],
    events: [ev.text('fragment1fragment2')],
    out: [out.text('fragment1fragment2')],
  },
  {
    id: '5.4',
    title: 'text message in 2 fragments, in separate deliveries',
    steps: [{ frames: [F.text('fragment1', { fin: false })] }, { frames: [F.cont('fragment2')] }],
    events: [ev.text('fragment1fragment2')],
    out: [out.text('fragment1fragment2')],
  },
  {
    id: '5.5',
    title: 'text message in 2 fragments, in octet-wise chops',
    deliveries: ['bytes', 'whole', 'split'],
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.cont('fragment2')] }],
    events: [ev.text('fragment1fragment2')],
    out: [out.text('fragment1fragment2')],
  },
  {
    id: '5.6',
    title: 'text message in 2 fragments with a ping in between',
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.ping('pongme 2!'), F.cont('fragment2')] }],
    events: [ev.ping('pongme 2!'), ev.text('fragment1fragment2')],
    out: [out.pong('pongme 2!'), out.text('fragment1fragment2')],
  },
  {
    id: '5.7',
    title: 'ping inside fragmented text, in separate deliveries',
    steps: [{ frames: [F.text('fragment1', { fin: false })] }, { frames: [F.ping('pongme 2!')] }, { frames: [F.cont('fragment2')] }],
    events: [ev.ping('pongme 2!'), ev.text('fragment1fragment2')],
    out: [out.pong('pongme 2!'), out.text('fragment1fragment2')],
  },
  {
    id: '5.8',
    title: 'ping inside fragmented text, in octet-wise chops',
    deliveries: ['bytes', 'whole', 'split'],
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.ping('pongme 2!'), F.cont('fragment2')] }],
    events: [ev.ping('pongme 2!'), ev.text('fragment1fragment2')],
    out: [out.pong('pongme 2!'), out.text('fragment1fragment2')],
  },
);

// 5.9-5.14: continuation without a message to continue (FIN set, then FIN clear).
[true, false].forEach((fin, g) => {
  const frames = [F.cont('non-continuation payload', { fin }), F.text('Hello, world!')];
  const base = g === 0 ? 9 : 12;
  const variants: Array<[string, Partial<Case>]> = [
    ['', {}],
    [', in separate deliveries', { steps: [{ frames: [frames[0]] }, { frames: [frames[1]] }] }],
    [', in octet-wise chops', { deliveries: ['bytes', 'whole', 'split'] }],
  ];
  variants.forEach(([how, extra], i) => {
    cases.push({
      id: `5.${base + i}`,
      title: `continuation with FIN = ${fin} without a message to continue, then text${how}`,
      steps: [{ frames }],
      events: failed(1002),
      out: [out.fail(1002)],
      failAt: { frame: 0 },
      ...extra,
    });
  });
});

cases.push(
  {
    id: '5.15',
    title: 'text in 2 fragments, then continuation FIN = false without a message, then text',
    steps: [
      {
        frames: [
          F.text('fragment1', { fin: false }),
          F.cont('fragment2'),
          F.cont('fragment3', { fin: false }),
          F.text('fragment4'),
        ],
      },
    ],
    events: [ev.text('fragment1fragment2'), ...failed(1002)],
    out: [out.text('fragment1fragment2'), out.fail(1002)],
    failAt: { frame: 2 },
  },
  {
    id: '5.16',
    title: 'twice: continuation FIN = false without a message, text FIN = false, continuation FIN = true',
    steps: [
      {
        frames: [
          F.cont('fragment1', { fin: false }),
          F.text('fragment2', { fin: false }),
          F.cont('fragment3'),
          F.cont('fragment1', { fin: false }),
          F.text('fragment2', { fin: false }),
          F.cont('fragment3'),
        ],
      },
    ],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '5.17',
    title: 'twice: continuation FIN = true without a message, text FIN = false, continuation FIN = true',
    steps: [
      {
        frames: [
          F.cont('fragment1'),
          F.text('fragment2', { fin: false }),
          F.cont('fragment3'),
          F.cont('fragment1'),
          F.text('fragment2', { fin: false }),
          F.cont('fragment3'),
        ],
      },
    ],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 0 },
  },
  {
    id: '5.18',
    title: 'new text message inside a fragmented text message',
    steps: [{ frames: [F.text('fragment1', { fin: false }), F.text('fragment2')] }],
    events: failed(1002),
    out: [out.fail(1002)],
    failAt: { frame: 1 },
  },
);

{
  const frames: PeerFrame[] = [
    F.text('fragment1', { fin: false }),
    F.cont('fragment2', { fin: false }),
    F.ping('pongme 1!'),
    F.cont('fragment3', { fin: false }),
    F.ping('pongme 2!'),
    F.cont('fragment4', { fin: false }),
    F.cont('fragment5'),
  ];
  const message = 'fragment1fragment2fragment3fragment4fragment5';
  cases.push(
    {
      id: '5.19',
      title: 'text in 5 fragments with pings in between, each in its own delivery',
      steps: frames.map((f) => ({ frames: [f] })),
      events: [ev.ping('pongme 1!'), ev.ping('pongme 2!'), ev.text(message)],
      out: [out.pong('pongme 1!'), out.pong('pongme 2!'), out.text(message)],
    },
    {
      id: '5.20',
      title: 'text in 5 fragments with pings in between, in octet-wise chops',
      deliveries: ['bytes', 'whole', 'split'],
      steps: [{ frames }],
      events: [ev.ping('pongme 1!'), ev.ping('pongme 2!'), ev.text(message)],
      out: [out.pong('pongme 1!'), out.pong('pongme 2!'), out.text(message)],
    },
  );
}

// Beyond Autobahn's numbering: more fragmentation shapes.
{
  const hello = 'Hello, world!';
  const oneByte: PeerFrame[] = [];
  for (let i = 0; i < hello.length; i++) {
    const fin = i === hello.length - 1;
    oneByte.push(i === 0 ? F.text(hello[i], { fin }) : F.cont(hello[i], { fin }));
  }
  const bin1 = fromHex('0001020304');
  cases.push(
    {
      id: '5.21',
      title: 'close inside a fragmented text message: closed cleanly, message never delivered',
      steps: [{ frames: [F.text('fragment1', { fin: false }), F.close(1000, 'mid-message'), F.cont('fragment2')] }],
      events: closedClean(1000, 'mid-message'),
      out: [out.close(1000)],
    },
    {
      id: '5.22',
      title: 'text message in 1-byte fragments',
      steps: [{ frames: oneByte }],
      events: [ev.text(hello)],
      out: [out.text(hello)],
    },
    {
      id: '5.23',
      title: 'empty first and middle fragments',
      steps: [{ frames: [F.text('', { fin: false }), F.cont('', { fin: false }), F.cont('abc')] }],
      events: [ev.text('abc')],
      out: [out.text('abc')],
    },
    {
      id: '5.24',
      title: 'text message made only of empty fragments',
      steps: [{ frames: [F.text('', { fin: false }), F.cont('', { fin: false }), F.cont('')] }],
      events: [ev.text('')],
      out: [out.text('')],
    },
    {
      id: '5.25',
      title: 'empty last fragment',
      steps: [{ frames: [F.binary(bin1, { fin: false }), F.cont(new Uint8Array(0))] }],
      events: [ev.binary(bin1)],
      out: [out.binary(bin1)],
    },
    {
      id: '5.26',
      title: 'binary message in fragments with a ping after each fragment',
      steps: [
        {
          frames: [
            F.binary(fromHex('01'), { fin: false }),
            F.ping('1'),
            F.cont(fromHex('0203'), { fin: false }),
            F.ping('2'),
            F.cont(fromHex('040506')),
            F.ping('3'),
          ],
        },
      ],
      events: [ev.ping('1'), ev.ping('2'), ev.binary(fromHex('010203040506')), ev.ping('3')],
      out: [out.pong('1'), out.pong('2'), out.binary(fromHex('010203040506')), out.pong('3')],
    },
    {
      id: '5.27',
      title: 'close frame with FIN clear',
      steps: [{ frames: [F.close(1000, '', { fin: false })] }],
      events: failed(1002),
      out: [out.fail(1002)],
      failAt: { frame: 0 },
    },
    {
      id: '5.28',
      title: 'fragmented close inside a fragmented message',
      steps: [{ frames: [F.text('a', { fin: false }), F.close(1000, '', { fin: false }), F.cont('b')] }],
      events: failed(1002),
      out: [out.fail(1002)],
      failAt: { frame: 1 },
    },
    {
      id: '5.29',
      title: 'binary message started, then a new binary frame',
      steps: [{ frames: [F.binary(fromHex('01'), { fin: false }), F.binary(fromHex('02'))] }],
      events: failed(1002),
      out: [out.fail(1002)],
      failAt: { frame: 1 },
    },
    {
      id: '5.30',
      title: 'text message started, then a binary frame with FIN clear',
      steps: [{ frames: [F.text('a', { fin: false }), F.binary(fromHex('02'), { fin: false }), F.cont('c')] }],
      events: failed(1002),
      out: [out.fail(1002)],
      failAt: { frame: 1 },
    },
    {
      id: '5.31',
      title: 'pong inside a fragmented message',
      steps: [{ frames: [F.text('frag', { fin: false }), F.pong('unsolicited'), F.cont('ment')] }],
      events: [ev.pong('unsolicited'), ev.text('fragment')],
      out: [out.text('fragment')],
    },
    {
      id: '5.32',
      title: 'two fragmented messages of different types back to back',
      steps: [
        {
          frames: [
            F.binary(fromHex('aa'), { fin: false }),
            F.cont(fromHex('bb')),
            F.text('x', { fin: false }),
            F.cont('y', { fin: false }),
            F.cont('z'),
          ],
        },
      ],
      events: [ev.binary(fromHex('aabb')), ev.text('xyz')],
      out: [out.binary(fromHex('aabb')), out.text('xyz')],
    },
    {
      id: '5.33',
      title: 'continuation after a complete unfragmented message',
      steps: [{ frames: [F.text('whole'), F.cont('orphan')] }],
      events: [ev.text('whole'), ...failed(1002)],
      out: [out.text('whole'), out.fail(1002)],
      failAt: { frame: 1 },
    },
    {
      id: '5.34',
      title: 'fragments splitting multi-byte characters',
      steps: [
        {
          frames: [
            F.text(utf8('\u00e9\u20ac').subarray(0, 1), { fin: false }),
            F.cont(utf8('\u00e9\u20ac').subarray(1, 3), { fin: false }),
            F.cont(utf8('\u00e9\u20ac').subarray(3)),
          ],
        },
      ],
      events: [ev.text('\u00e9\u20ac')],
      out: [out.text('\u00e9\u20ac')],
    },
    {
      id: '5.35',
      title: 'ping, pong and ping between three fragments',
      steps: [
        {
          frames: [
            F.text('a', { fin: false }),
            F.ping('1'),
            F.pong('2'),
            F.cont('b', { fin: false }),
            F.ping(''),
            F.cont('c'),
          ],
        },
      ],
      events: [ev.ping('1'), ev.pong('2'), ev.ping(''), ev.text('abc')],
      out: [out.pong('1'), out.pong(''), out.text('abc')],
    },
    {
      id: '5.36',
      title: 'fragmented message with a masked 64-bit-length middle fragment',
      steps: [
        {
          frames: [
            F.binary(fromHex('01'), { fin: false }),
            F.cont(join([fromHex('0203'), fromHex('04')]), { fin: false, lengthEncoding: '64' }),
            F.cont(fromHex('05')),
          ],
        },
      ],
      events: [ev.binary(fromHex('0102030405'))],
      out: [out.binary(fromHex('0102030405'))],
    },
  );
}

defineCases(cases);
