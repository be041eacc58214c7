import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// npm run test:moddable (test/moddable/run.mjs): the suites that run against our apps in
// the Moddable simulator. run.mjs sets MODDABLE_TARGETS (test/moddable/mode.ts), which
// points the real-peer suites at the simulator's servers instead of in-process ones.
export const MODDABLE_SUITES = [
  'test/moddable/**/*.test.ts',
  'test/interop/probes-frames.test.ts',
  'test/interop/probes-handshake.test.ts',
  'test/interop/server-ws.test.ts',
  'test/interop/server-undici.test.ts',
  'test/interop/server-python.test.ts',
  'test/interop/server-chromium.test.ts',
  'test/interop/server-raw.test.ts',
  'test/app/led-protocol.test.ts',
  'test/app/browser.test.ts',
];

export default defineConfig({
  resolve: base.resolve,
  test: {
    ...base.test,
    include: MODDABLE_SUITES,
    exclude: ['node_modules/**'],
    // One file at a time: the suites share the simulator's fixed servers and ports, and
    // one XS machine serves them all.
    fileParallelism: false,
    // The simulator's sockets move ~75 KB/s each way (a 1 MiB echo takes ~30 s).
    testTimeout: 240_000,
    hookTimeout: 60_000,
  },
});
