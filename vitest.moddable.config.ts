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
  'test/interop/client-fuzzingserver.test.ts',
  'test/interop/client-tls.test.ts',
  'test/app/led-protocol.test.ts',
  'test/app/browser.test.ts',
  'test/app/hardening.test.ts',
  'test/app/device.test.ts',
  'test/app/device-browser.test.ts',
];

// The default per-test limit: the time the measured throughput (test/moddable/run.mjs)
// needs for 4 MiB echoed, four times over, and at least 4 minutes. Tests that move more
// set their own from test/moddable/mode.ts's waitFor().
const throughput = (JSON.parse(process.env.MODDABLE_TARGETS ?? '{}') as { throughput?: number }).throughput ?? 75_000;
const testTimeout = Math.max(240_000, Math.ceil((4 * 4 * 1024 * 1024 * 1000) / throughput));

export default defineConfig({
  resolve: base.resolve,
  test: {
    ...base.test,
    include: MODDABLE_SUITES,
    exclude: ['node_modules/**'],
    // One file at a time: the suites share the simulator's fixed servers, and
    // one XS machine serves them all.
    fileParallelism: false,
    testTimeout,
    hookTimeout: 60_000,
  },
});
