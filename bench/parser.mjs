// npm run bench:parser — our FrameParser against ws's Receiver, same inputs, same
// process, then our parser alone inside the XS engine with its deterministic meters.
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Receiver } from 'ws';
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
const wsVersion = createRequire(import.meta.url)('ws/package.json').version;

const here = fileURLToPath(new URL('.', import.meta.url));
const quick = process.argv.includes('--quick');
const TOTAL = quick ? 1 << 20 : 4 << 20; // wire bytes per input and round
const READ = 16384; // socket read size
const ROUNDS = quick ? 3 : 7;

async function importTs(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const out = join(dir, 'bundle.mjs');
  await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', outfile: out, logLevel: 'error' });
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const entry = join(here, 'node-entry.ts');
writeFileSync(entry, "export { makeInputs } from './inputs';\nexport { parseWithOurs } from './ours';\nexport { setUtf8Accelerator } from '../src/bytes/utf8';\nexport { setBulkCopy } from '../src/bytes/mask';\n");
const { makeInputs, parseWithOurs, setUtf8Accelerator, setBulkCopy } = await importTs(entry);
// What hosts/sim installs on Node: the native validator ws also uses.
const nativeUtf8 = (data, start, end) => isUtf8(data.subarray(start, end));
rmSync(entry);

function parseWithWs(input, buffers) {
  const count = { messages: 0, bytes: 0, errors: 0 };
  const receiver = new Receiver({ isServer: input.role === 'server', maxPayload: input.maxMessage, skipUTF8Validation: false });
  receiver.on('message', (data) => {
    count.messages++;
    count.bytes += data.length;
  });
  receiver.on('error', () => count.errors++);
  for (const b of buffers) receiver.write(b);
  return count;
}

function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { ns: Number(process.hrtime.bigint() - t0), result };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes, ns) => bytes / (1 << 20) / (ns / 1e9);

console.log(`Parser throughput, Node ${process.version}, ws ${wsVersion} (no bufferutil: ws unmasks in JS, validates UTF-8 with Node's native isUtf8)`);
console.log(`input: ~${TOTAL >> 20} MiB of frames per input, fed in ${READ}-byte reads; median of ${ROUNDS} alternating runs\n`);
const rows = [];
for (const input of makeInputs(TOTAL, READ)) {
  // ws unmasks in place, so it gets a fresh copy of the reads for every run.
  const copyReads = () => input.reads.map((r) => Buffer.from(r));
  const ours = [];
  const hooked = [];
  const theirs = [];
  // Both parse the same bytes; check they agree before timing.
  const a = parseWithOurs(input, 1);
  const b = parseWithWs(input, copyReads());
  if (a.messages !== input.messages || b.messages !== input.messages || a.bytes !== b.bytes || a.errors || b.errors) {
    throw new Error(`${input.name}: parsers disagree (ours ${JSON.stringify(a)}, ws ${JSON.stringify(b)})`);
  }
  const check = (c) => {
    if (c.messages !== input.messages || c.errors) throw new Error(`${input.name}: a timed run went wrong: ${JSON.stringify(c)}`);
  };
  for (let r = 0; r < ROUNDS; r++) {
    const mine = timeIt(() => parseWithOurs(input, 1));
    check(mine.result);
    ours.push(mine.ns);
    setUtf8Accelerator(nativeUtf8);
    setBulkCopy(true);
    const h = timeIt(() => parseWithOurs(input, 1));
    setUtf8Accelerator(null);
    setBulkCopy(false);
    check(h.result);
    hooked.push(h.ns);
    const buffers = copyReads();
    const other = timeIt(() => parseWithWs(input, buffers));
    check(other.result);
    theirs.push(other.ns);
  }
  const o = mib(input.bytes, median(ours));
  const w = mib(input.bytes, median(theirs));
  const h = mib(input.bytes, median(hooked));
  rows.push({ name: input.name, ours: o, hooked: h, ws: w, ratio: o / w, hookedRatio: h / w, msgs: (input.messages / median(ours)) * 1e9 });
}
const pad = (s, n) => String(s).padEnd(n);
console.log(pad('input', 42) + pad('ours MiB/s', 12) + pad('ws MiB/s', 10) + pad('ratio', 7) + pad('sim MiB/s', 13) + pad('ratio', 7) + 'ours msg/s');
for (const r of rows) {
  console.log(
    pad(r.name, 42) + pad(r.ours.toFixed(0), 12) + pad(r.ws.toFixed(0), 10) + pad(r.ratio.toFixed(2), 7) +
      pad(r.hooked.toFixed(0), 13) + pad(r.hookedRatio.toFixed(2), 7) + r.msgs.toFixed(0),
  );
}
console.log('(ours: pure TypeScript, zero allocation per frame, as on the device; sim: with the native primitives hosts/sim installs on Node through installPlatform: TypedArray.set copies and buffer.isUtf8, which ws uses too)');
console.log(`lowest ratio: pure TypeScript ${Math.min(...rows.map((r) => r.ratio)).toFixed(2)}, with the sim host's primitives ${Math.min(...rows.map((r) => r.hookedRatio)).toFixed(2)} (goal >= 1.00)`);

// --- XS: deterministic meters -------------------------------------------------
const { bundle, runInXs, xsVersion } = await import('../test/xs/xs-run.mjs');
const xsCode = await bundle(join(here, 'xs-entry.ts'));
const XS_TOTAL = 256 << 10;
const XS_ROUNDS = 2;
const results = [];
const decoder = new TextDecoder();
// One fresh worker per input: currentHeapCount then shows the slots that input's
// parsing allocated (setup allocation is measured alone with rounds = 0).
async function xsRun(only, rounds) {
  const reports = [];
  const { meterUsage } = await runInXs(`globalThis.BENCH = ${JSON.stringify({ totalBytes: XS_TOTAL, readSize: READ, rounds, only })};\n${xsCode}`, {
    onCommand: (bytes) => {
      reports.push(JSON.parse(decoder.decode(bytes)));
    },
    stdout: 'inherit',
    stderr: 'inherit',
  });
  return { reports, slots: meterUsage.currentHeapCount };
}
console.log(`\nUnder XS (${await xsVersion()}): ~${XS_TOTAL >> 10} KiB per input x ${XS_ROUNDS} rounds, deterministic meters`);
console.log(pad('input', 44) + pad('computrons/MiB', 16) + pad('computrons/msg', 16) + 'slots allocated/MiB');
const inputCount = makeInputs(XS_TOTAL, READ).length;
for (let i = 0; i < inputCount; i++) {
  // Two runs that differ only in the number of rounds: the difference in slots is
  // what parsing more frames allocated, free of setup and parser construction.
  const base = await xsRun(i, 1);
  const run = await xsRun(i, 1 + XS_ROUNDS);
  const r = run.reports[0];
  const b0 = base.reports[0];
  if (!r || r.errors || r.messages === 0) throw new Error(`XS run of input ${i} failed: ${JSON.stringify(run.reports)}`);
  const perMiB = r.computrons / (r.bytes / (1 << 20));
  const slotsPerMiB = (run.slots - base.slots) / ((r.bytes - b0.bytes) / (1 << 20));
  results.push({ name: r.name, perMiB, perMsg: r.computrons / r.messages, slotsPerMiB });
  console.log(pad(r.name, 44) + pad(perMiB.toFixed(0), 16) + pad((r.computrons / r.messages).toFixed(0), 16) + slotsPerMiB.toFixed(1));
}
console.log('\n(computrons: the 1+N-round run, per MiB and per message; reads go through one fixed receive buffer, as on a device. Slots are 32-byte XS value cells;');
console.log(' currentHeapCount rises with every slot allocated until a GC, and these runs stay below the first GC;');
console.log(' slots/MiB compares runs of 1 and ' + (1 + XS_ROUNDS) + ' rounds, so setup and construction cancel out.)');
