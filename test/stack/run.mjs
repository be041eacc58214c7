// node test/stack/run.mjs: how much of XS's JavaScript stack the deepest call chain of
// test/stack/entry.ts uses (the echo app, the LED app behind the HTTP server, the client,
// over the fake sockets of test/xs/fakes, every host callback started PAD frames deep).
// xsnap has a 4096-slot stack and aborts the worker when it overflows; the largest PAD
// that completes, against the largest PAD an empty callback in the same script allows
// (STEP = 0: only entry.ts's calibration step padded), gives the slots the chain takes,
// counted in frames of pad() and converted to slots by a script that only recurses.
// Prints one JSON line:
// { passed, failures, slots, slotsPerFrame, pad, padEmpty, xs }.
// (test/stack/stack.test.ts runs it in a child process: @agoric/xsnap locks down the
// process that loads it.)
import { bundle, runInXs, xsVersion } from '../xs/xs-run.mjs';

const code = await bundle(new URL('./entry.ts', import.meta.url), { fakeDevice: true });
const empty = `"use strict"; function pad(n, f) { if (n === 0) f(); else pad(n - 1, f); } pad(PAD, () => {}); issueCommand(new ArrayBuffer(0));`;
const decoder = new TextDecoder();

/** The report of `script` run PAD frames deep (only step `step` if given), or null when XS's stack overflowed. */
async function attempt(script, pad, step) {
  let report = null;
  try {
    await runInXs(`globalThis.PAD = ${pad}; globalThis.STEP = ${step};\n${script}`, {
      onCommand: (bytes) => void (report = bytes.length ? JSON.parse(decoder.decode(bytes)) : {}),
      stdout: 'ignore',
      stderr: 'pipe',
      timeoutMs: 60_000,
    });
  } catch (error) {
    if (/stack overflow/.test(String(error && error.message))) return null;
    throw error;
  }
  if (!report) throw new Error(`no report at PAD ${pad}`);
  return report;
}

/** The largest PAD at which `script` completes (binary search; the stack is deterministic). */
async function deepest(script, step) {
  let lo = 0;
  let hi = 1024;
  if (!(await attempt(script, lo, step))) throw new Error('overflows with no padding');
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await attempt(script, mid, step)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const first = await attempt(code, 0);
// A script that only recurses fills the stack with frames of pad(): slots per frame.
const slotsPerFrame = 4096 / ((await deepest(empty)) + 1);
const padEmpty = await deepest(code, 0);
const pad = await deepest(code);
console.log(
  JSON.stringify({
    passed: first.passed,
    failures: first.failures,
    pad,
    padEmpty,
    slotsPerFrame: Math.round(slotsPerFrame * 10) / 10,
    slots: Math.round((padEmpty - pad) * slotsPerFrame),
    xs: await xsVersion(),
  }),
);
