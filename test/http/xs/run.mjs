// node test/http/xs/run.mjs: HttpServer inside the real XS engine (xsnap), over the fake
// sockets of test/xs/fakes/fake-io.ts (test/http/xs.test.ts runs it in a child process, as
// @agoric/xsnap locks down the process that loads it). Prints one JSON line:
// { passed, failures, slotsPerConnection, bufferBytesPerConnection, xs }.
import { bundle, runInXs, xsVersion } from '../../xs/xs-run.mjs';

const code = await bundle(new URL('./entry.ts', import.meta.url), { fakeDevice: true });
const decoder = new TextDecoder();

async function run(memoryConnections) {
  let report = null;
  const { meterUsage } = await runInXs(`globalThis.SCENARIO = ${JSON.stringify({ memoryConnections })};\n${code}`, {
    onCommand: (bytes) => void (report = JSON.parse(decoder.decode(bytes))),
    stdout: 'inherit',
    timeoutMs: 120_000,
  });
  if (!report) throw new Error('no report from XS');
  return { ...report, slots: meterUsage.currentHeapCount };
}

const one = await run(1);
const four = await run(4);
console.log(
  JSON.stringify({
    passed: one.passed,
    failures: [...one.failures, ...four.failures.filter((f) => !one.failures.includes(f))],
    open: [one.open, four.open],
    timers: [one.timers, four.timers],
    slotsPerConnection: (four.slots - one.slots) / 3,
    bufferBytesPerConnection: 512 + 2048,
    xs: await xsVersion(),
  }),
);
