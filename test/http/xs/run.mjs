// node test/http/xs/run.mjs: HttpServer inside the real XS engine (xsnap), over the fake
// sockets of fake-io.ts (test/http/xs.test.ts runs it in a child process, as
// @agoric/xsnap locks down the process that loads it). Prints one JSON line:
// { passed, failures, slotsPerConnection, bufferBytesPerConnection, xs }.
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { runInXs, xsVersion } from '../../xs/xs-run.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const alias = {
  'embedded:io/socket/tcp': here('./tcp.ts'),
  'embedded:io/socket/listener': here('./listener.ts'),
  timer: here('./timer.ts'),
};
const result = await esbuild.build({
  entryPoints: [here('./entry.ts')],
  bundle: true,
  format: 'iife',
  target: 'es2022',
  platform: 'neutral',
  write: false,
  logLevel: 'silent',
  banner: { js: '"use strict";' },
  plugins: [
    {
      name: 'device-modules',
      setup(build) {
        build.onResolve({ filter: /^(embedded:io\/socket\/(tcp|listener)|timer)$/ }, (args) => ({ path: alias[args.path] }));
      },
    },
  ],
});
const code = result.outputFiles[0].text;
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
