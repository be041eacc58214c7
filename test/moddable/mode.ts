// Where the real-peer suites find the server they test. Under `npm test` (no
// MODDABLE_TARGETS) everything runs in-process on Node, exactly as the suites were
// written. npm run test:moddable (test/moddable/run.mjs) sets MODDABLE_TARGETS to the
// apps it started in the Moddable simulator (mcsim): the suites then talk to those
// instead, and the few tests that cannot apply there are skipped with their reason
// printed (and collected for run.mjs's summary).

import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestRunner, it } from 'vitest';

export interface LedBuild {
  /** The debug mc.so built from the root manifest.json. */
  so: string;
  /** Its config port (mcconfig ... port=N). */
  port: number;
  /** Its config token, if any. */
  token?: string;
}

export interface ModdableTargets {
  /** ws:// URL of the echo app's control channel (hosts/moddable/echo/main.ts). */
  control: string;
  /** ws:// URL of the echo app's stream echo (test/moddable/echo.test.ts). */
  echo: string;
  /** The LED app builds: `default` (no token) and `token`. */
  led: { default: LedBuild; token: LedBuild };
  /** The wss:// client suite's app (hosts/moddable/tls-client): its mc.so and control port. */
  tlsClient: { so: string; port: number };
  /** The X display mcsim windows go to (Xvfb). */
  display: string;
  /** Bytes per second through the echo app one way (the slower of text and binary), measured by run.mjs at the start of the run. */
  throughput: number;
  /** JSON lines of skipped tests and their reasons (read by run.mjs). */
  skipLog?: string;
}

const raw = process.env.MODDABLE_TARGETS;
export const MODDABLE: ModdableTargets | null = raw ? (JSON.parse(raw) as ModdableTargets) : null;
/** True when the suites run against the Moddable simulator. */
export const onModdable = MODDABLE !== null;

/**
 * Bytes per second the suites' default waits (5 s on Node) are sized for: the default
 * wait covers moving ~7.5 MB at this rate.
 */
const REFERENCE_RATE = 1_500_000;

/**
 * Factor for the suites' default waits: 1 on Node; in the simulator, from the throughput
 * run.mjs measured at the start of this run (Moddable's lin sockets are polled every
 * 20 ms with a 1,536-byte buffer: about 75 KB/s each way, a factor of ~20), never a
 * constant tuned on one machine.
 */
export const WAIT_SCALE = MODDABLE ? Math.max(2, Math.ceil(REFERENCE_RATE / MODDABLE.throughput)) : 1;

/**
 * How long a test may wait for `bytes` to travel to the server and back: on Node 30 s
 * (only a hang fails it); in the simulator the default wait plus four times what the
 * measured throughput needs for them. The throughput is one way (the stream echo run.mjs measures with passes bytes back as
 * they come); an echo in message mode receives the whole message before it answers, so
 * it needs 2 x bytes at that rate. The margin covers a machine that gets busier after
 * the measurement.
 */
export function waitFor(bytes: number): number {
  // On Node a bound on hanging, not on speed: a 2 MB echo through Python's websockets
  // took over 5 s on this project's 2-core machine while a soak ran beside the suite.
  if (!MODDABLE) return 30_000;
  return 5000 * WAIT_SCALE + Math.ceil((4 * 2 * bytes * 1000) / MODDABLE.throughput);
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function note(kind: string, name: string, reason: string): void {
  let file = '';
  try {
    file = relative(ROOT, TestRunner.getCurrentSuite().file.filepath);
  } catch {
    // outside collection
  }
  console.log(`[moddable] skipped ${kind} "${name}" (${file}): ${reason}`);
  if (MODDABLE?.skipLog) appendFileSync(MODDABLE.skipLog, JSON.stringify({ file, name, reason }) + '\n');
}

/** `it`, or under test:moddable `it.skip` with `reason` printed: for tests that cannot apply to the simulator. */
export function inProcessOnly(reason: string): typeof it {
  if (!onModdable) return it;
  return new Proxy(it.skip, {
    apply(target, self, args: unknown[]) {
      note('test', String(args[0]), reason);
      return Reflect.apply(target, self, args) as unknown;
    },
  }) as unknown as typeof it;
}
