// Autobahn group 6: UTF-8 handling. Text messages must be valid UTF-8 (RFC 6455
// 8.1); the connection fails with 1007 FAST: right after the first byte that cannot
// be part of valid UTF-8 (not at the message end), and nothing of the message is
// delivered. Each Autobahn 6.5-6.23 vector (Markus Kuhn's UTF-8 stress test, as in
// autobahntestsuite/case/case6_x_x.py) is sent as one frame, as one frame per byte
// and split into two frames at every byte boundary; each shape is delivered whole,
// byte by byte (checking the fail-fast position) and split at a seeded random point.

import { F, defineCases, defineVariants, ev, failed, out } from './driver';
import type { Case, PeerFrame } from './driver';
import { test, fail } from '../../harness';
import { checkUtf8, fromHex, isUtf8, join, toHex, utf8 } from './peer';

const cases: Case[] = [];

const KOSME = fromHex('cebae1bdb9cf83cebcceb5');
const HELLO = utf8('Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!');
const EDITED = utf8('edited');

// --- 6.1 - 6.4 ------------------------------------------------------------------------

function bytewise(message: Uint8Array): PeerFrame[] {
  const frames: PeerFrame[] = [];
  for (let i = 0; i < message.length; i++) {
    const fin = i === message.length - 1;
    const piece = message.slice(i, i + 1);
    frames.push(i === 0 ? F.text(piece, { fin }) : F.cont(piece, { fin }));
  }
  return frames;
}

cases.push(
  {
    id: '6.1.1',
    title: 'text message of length 0',
    steps: [{ frames: [F.text('')] }],
    events: [ev.text('')],
    out: [out.text('')],
  },
  {
    id: '6.1.2',
    title: 'fragmented text message of 3 empty fragments',
    steps: [{ frames: [F.text('', { fin: false }), F.cont('', { fin: false }), F.cont('')] }],
    events: [ev.text('')],
    out: [out.text('')],
  },
  {
    id: '6.1.3',
    title: 'fragmented text message of 3 fragments, first and last empty',
    steps: [{ frames: [F.text('', { fin: false }), F.cont('middle frame payload', { fin: false }), F.cont('')] }],
    events: [ev.text('middle frame payload')],
    out: [out.text('middle frame payload')],
  },
  {
    id: '6.2.1',
    title: 'valid UTF-8 with multi-byte code points in one fragment',
    steps: [{ frames: [F.text(HELLO)] }],
    events: [ev.text(HELLO)],
    out: [out.text(HELLO)],
  },
  {
    id: '6.2.2',
    title: 'valid UTF-8 in 2 fragments, split on a code point boundary',
    steps: [{ frames: [F.text(HELLO.slice(0, 10), { fin: false }), F.cont(HELLO.slice(10))] }],
    events: [ev.text(HELLO)],
    out: [out.text(HELLO)],
  },
  {
    id: '6.2.3',
    title: 'valid UTF-8 in 1-byte fragments (split inside code points)',
    steps: [{ frames: bytewise(HELLO) }],
    events: [ev.text(HELLO)],
    out: [out.text(HELLO)],
  },
  {
    id: '6.2.4',
    title: 'valid UTF-8 (kosme) in 1-byte fragments',
    steps: [{ frames: bytewise(KOSME) }],
    events: [ev.text(KOSME)],
    out: [out.text(KOSME)],
  },
);

{
  const bad = join([KOSME, fromHex('eda080'), EDITED]); // invalid at byte 12 (a0)
  cases.push(
    {
      id: '6.3.1',
      title: 'invalid UTF-8 (surrogate) in one fragment',
      steps: [{ frames: [F.text(bad)] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 0, payload: 12 },
    },
    {
      id: '6.3.2',
      title: 'invalid UTF-8 (surrogate) in 1-byte fragments',
      steps: [{ frames: bytewise(bad) }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 12, payload: 0 },
    },
  );
  const P2 = fromHex('f4908080'); // U+110000: invalid at its second byte
  const whole = join([KOSME, P2, EDITED]);
  cases.push(
    {
      id: '6.4.1',
      title: 'fail fast: 3 fragments, the 2nd holds the invalid code point, in separate deliveries',
      steps: [{ frames: [F.text(KOSME, { fin: false })] }, { frames: [F.cont(P2, { fin: false })] }, { frames: [F.cont(EDITED)] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 1, payload: 1 },
    },
    {
      id: '6.4.2',
      title: 'fail fast: 3 fragments, the invalid byte alone in the 2nd',
      steps: [
        { frames: [F.text(join([KOSME, fromHex('f4')]), { fin: false })] },
        { frames: [F.cont(fromHex('90'), { fin: false })] },
        { frames: [F.cont(join([fromHex('8080'), EDITED]))] },
      ],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 1, payload: 0 },
    },
    {
      id: '6.4.3',
      title: 'fail fast: one frame in 3 chops, the close comes before the 3rd chop',
      steps: [{ frames: [F.text(whole)] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 0, payload: 12 },
    },
    {
      id: '6.4.4',
      title: 'fail fast: one frame in octet-wise chops',
      deliveries: ['bytes', 'whole', 'split'],
      steps: [{ frames: [F.text(join([KOSME, fromHex('f490'), fromHex('8080'), EDITED]))] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 0, payload: 12 },
    },
  );
}

// --- 6.5 - 6.23: the stress-test vectors -----------------------------------------------

type Vector = [valid: boolean, hex: string];

function range(from: number, to: number, sep = ''): string {
  let s = '';
  for (let b = from; b < to; b++) s += b.toString(16) + sep;
  return s;
}

const INCOMPLETE = ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf'];

const NONCHARACTERS: Vector[] = [
  [true, 'efbfbe'],
  [true, 'efbfbf'],
];
for (const z1 of ['f0', 'f1', 'f2', 'f3', 'f4']) {
  for (const z2 of ['8f', '9f', 'af', 'bf']) {
    if (z1 === 'f4' && z2 !== '8f') continue;
    for (const z3 of ['be', 'bf']) {
      const zz = z1 + z2 + 'bf' + z3;
      if (zz !== 'f08fbfbe' && zz !== 'f08fbfbf') NONCHARACTERS.push([true, zz]);
    }
  }
}

const prefixes: Vector[] = [];
for (let i = 1; i <= KOSME.length; i++) prefixes.push([[2, 5, 7, 9, 11].indexOf(i) >= 0, toHex(KOSME.subarray(0, i))]);

const GROUPS: Array<[string, Vector[]]> = [
  [
    'some valid UTF-8 sequences',
    [
      [true, toHex(utf8('hello$world'))],
      [true, toHex(utf8('hello\u00a2world'))],
      [true, toHex(utf8('hello\u20acworld'))],
      [true, toHex(utf8('hello\ud852\udf62world'))],
      [true, toHex(KOSME)],
    ],
  ],
  ['all prefixes of a valid UTF-8 string with multi-byte code points', prefixes],
  [
    'first possible sequence of a certain length',
    [
      [true, '00'],
      [true, 'c280'],
      [true, 'e0a080'],
      [true, 'f0908080'],
    ],
  ],
  [
    'first possible sequence length 5/6 (invalid code points)',
    [
      [false, 'f888808080'],
      [false, 'fc8480808080'],
    ],
  ],
  [
    'last possible sequence of a certain length',
    [
      [true, '7f'],
      [true, 'dfbf'],
      [true, 'efbfbf'],
      [true, 'f48fbfbf'],
    ],
  ],
  [
    'last possible sequence length 4/5/6 (invalid code points)',
    [
      [false, 'f7bfbfbf'],
      [false, 'fbbfbfbfbf'],
      [false, 'fdbfbfbfbfbf'],
    ],
  ],
  [
    'other boundary conditions',
    [
      [true, 'ed9fbf'],
      [true, 'ee8080'],
      [true, 'efbfbd'],
      [true, 'f48fbfbf'],
      [false, 'f4908080'],
    ],
  ],
  [
    'unexpected continuation bytes',
    [
      [false, '80'],
      [false, 'bf'],
      [false, '80bf'],
      [false, '80bf80'],
      [false, '80bf80bf'],
      [false, '80bf80bf80'],
      [false, '80bf80bf80bf'],
      [false, range(0x80, 0xbf)],
    ],
  ],
  [
    'lonely start characters',
    [
      [false, range(0xc0, 0xdf, '20')],
      [false, range(0xe0, 0xef, '20')],
      [false, range(0xf0, 0xf7, '20')],
      [false, range(0xf8, 0xfb, '20')],
      [false, range(0xfc, 0xfd, '20')],
    ],
  ],
  ['sequences with last continuation byte missing', INCOMPLETE.map((h): Vector => [false, h])],
  ['concatenation of incomplete sequences', [[false, INCOMPLETE.join('')]]],
  [
    'impossible bytes',
    [
      [false, 'fe'],
      [false, 'ff'],
      [false, 'fefeffff'],
    ],
  ],
  [
    'overlong ASCII character',
    [
      [false, 'c0af'],
      [false, 'e080af'],
      [false, 'f08080af'],
      [false, 'f8808080af'],
      [false, 'fc80808080af'],
    ],
  ],
  [
    'maximum overlong sequences',
    [
      [false, 'c1bf'],
      [false, 'e09fbf'],
      [false, 'f08fbfbf'],
      [false, 'f887bfbfbf'],
      [false, 'fc83bfbfbfbf'],
    ],
  ],
  [
    'overlong representation of NUL',
    [
      [false, 'c080'],
      [false, 'e08080'],
      [false, 'f0808080'],
      [false, 'f880808080'],
      [false, 'fc8080808080'],
    ],
  ],
  [
    'single UTF-16 surrogates',
    ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'].map((h): Vector => [false, h]),
  ],
  [
    'paired UTF-16 surrogates',
    [
      'eda080edb080',
      'eda080edbfbf',
      'edadbfedb080',
      'edadbfedbfbf',
      'edae80edb080',
      'edae80edbfbf',
      'edafbfedb080',
      'edafbfedbfbf',
    ].map((h): Vector => [false, h]),
  ],
  ['non-character code points (valid UTF-8)', NONCHARACTERS],
  [
    'Unicode specials (replacement char etc.)',
    ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'].map((h): Vector => [true, h]),
  ],
];

/** One shape of a message: fragment boundaries as offsets into the message. */
function shape(message: Uint8Array, cuts: number[]): PeerFrame[] {
  const bounds = [0, ...cuts, message.length];
  const frames: PeerFrame[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = message.slice(bounds[i], bounds[i + 1]);
    const fin = i + 2 === bounds.length;
    frames.push(i === 0 ? F.text(piece, { fin }) : F.cont(piece, { fin }));
  }
  return frames;
}

/** The variant of one vector in one shape, with the expected fail-fast position. */
function variant(id: string, label: string, message: Uint8Array, cuts: number[]): Case & { label: string } {
  const frames = shape(message, cuts);
  const base = { id: `${id} ${label}`, title: label, label, steps: [{ frames }] };
  const verdict = checkUtf8(message);
  if (verdict.error < 0 && !verdict.incomplete) return { ...base, events: [ev.text(message)], out: [out.text(message)] };
  // Where does the failure show: the offending byte, or the last byte of the message.
  const at = verdict.error >= 0 ? verdict.error : message.length - 1;
  const bounds = [0, ...cuts, message.length];
  let f = 0;
  while (!(at >= bounds[f] && at < bounds[f + 1])) f++;
  return { ...base, events: failed(1007), out: [out.fail(1007)], failAt: { frame: f, payload: at - bounds[f] } };
}

const mislabelled: string[] = [];

GROUPS.forEach(([title, vectors], g) => {
  vectors.forEach(([valid, hexText], j) => {
    const id = `6.${g + 5}.${j + 1}`;
    const message = fromHex(hexText);
    if (valid !== isUtf8(message)) {
      mislabelled.push(`${id} ${hexText} (labelled ${valid ? 'valid' : 'invalid'})`);
    }
    const variants = [variant(id, 'one frame', message, [])];
    if (message.length > 1) {
      const all: number[] = [];
      for (let k = 1; k < message.length; k++) {
        all.push(k);
        variants.push(variant(id, `split at ${k}`, message, [k]));
      }
      variants.push(variant(id, 'one frame per byte', message, all));
    }
    const hexShown = hexText.length > 24 ? `${hexText.slice(0, 24)}... (${message.length} bytes)` : hexText;
    defineVariants(id, `${title}: ${valid ? 'valid' : 'invalid'} ${hexShown}`, variants);
  });
});

test('autobahn 6.x test data: Autobahn validity labels agree with the test validator', () => {
  if (mislabelled.length) fail(`disagreement on ${mislabelled.join(', ')}`);
});

// --- Beyond Autobahn: UTF-8 around control frames and message boundaries ------------------

{
  const euro = utf8('\u20ac'); // e2 82 ac
  cases.push(
    {
      id: '6.24.1',
      title: 'code point split across fragments with a ping between its bytes',
      steps: [{ frames: [F.text(euro.slice(0, 1), { fin: false }), F.ping('p'), F.cont(euro.slice(1))] }],
      events: [ev.ping('p'), ev.text('\u20ac')],
      out: [out.pong('p'), out.text('\u20ac')],
    },
    {
      id: '6.24.2',
      title: 'invalid continuation in the fragment after a ping',
      steps: [{ frames: [F.text(fromHex('41e2'), { fin: false }), F.ping('p'), F.cont(fromHex('28a1'))] }],
      events: [ev.ping('p'), ...failed(1007)],
      out: [out.pong('p'), out.fail(1007)],
      failAt: { frame: 2, payload: 0 },
    },
    {
      id: '6.24.3',
      title: 'message ends inside a sequence: failure on its last byte, not before',
      steps: [{ frames: [F.text('abc', { fin: false }), F.cont(fromHex('41f09f98'))] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 1, payload: 3 },
    },
    {
      id: '6.24.4',
      title: 'message ends inside a sequence with an empty final fragment',
      steps: [{ frames: [F.text(fromHex('41c3'), { fin: false }), F.cont('')] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 1 },
    },
    {
      id: '6.24.5',
      title: 'invalid UTF-8 in a binary message is not checked',
      steps: [{ frames: [F.binary(fromHex('eda080c0afff'))] }],
      events: [ev.binary(fromHex('eda080c0afff'))],
      out: [out.binary(fromHex('eda080c0afff'))],
    },
    {
      id: '6.24.6',
      title: 'invalid UTF-8 in a ping payload is not checked',
      steps: [{ frames: [F.ping(fromHex('eda080c0afff'))] }],
      events: [ev.ping(fromHex('eda080c0afff'))],
      out: [out.pong(fromHex('eda080c0afff'))],
    },
    {
      id: '6.24.7',
      title: 'valid message, then invalid UTF-8 in the next one',
      steps: [{ frames: [F.text('\u00fcber'), F.text(fromHex('6f6bc328'))] }],
      events: [ev.text('\u00fcber'), ...failed(1007)],
      out: [out.text('\u00fcber'), out.fail(1007)],
      failAt: { frame: 1, payload: 3 },
    },
    {
      id: '6.24.8',
      title: 'a sequence incomplete at a message end does not carry into the next message',
      steps: [{ frames: [F.text(fromHex('c3')), F.text(fromHex('a9'))] }],
      events: failed(1007),
      out: [out.fail(1007)],
      failAt: { frame: 0, payload: 0 },
    },
    {
      id: '6.24.9',
      title: 'a binary message between text fragments cannot reset the UTF-8 state (1002 first)',
      steps: [{ frames: [F.text(fromHex('e2'), { fin: false }), F.binary(fromHex('82ac'))] }],
      events: failed(1002),
      out: [out.fail(1002)],
      failAt: { frame: 1 },
    },
    {
      id: '6.24.10',
      title: 'the UTF-8 state is reset between messages after a valid one',
      steps: [{ frames: [F.text('\u20ac'), F.text(fromHex('82ac'))] }],
      events: [ev.text('\u20ac'), ...failed(1007)],
      out: [out.text('\u20ac'), out.fail(1007)],
      failAt: { frame: 1, payload: 0 },
    },
  );
}

defineCases(cases);
