// Reusable helpers to run bundled TypeScript inside the real XS engine, using
// the xsnap worker that @agoric/xsnap compiles from source on `npm install`.
//
//   import { bundle, runInXs, xsVersion } from '../test/xs/xs-run.mjs';
//   const code = await bundle(new URL('./my-entry.ts', import.meta.url));
//   const { meterUsage } = await runInXs(code, {
//     onCommand: (bytes) => { ...; return new Uint8Array(); }, // optional
//     meteringLimit: 0,                                        // optional
//   });
//
// Used by test/xs/run-xs.mjs (core test catalogue) and by the benchmarks.
//
// --- What the meters mean (xsnap 0.15.0 / XS 13.3.0, METER_TYPE 'xs-meter-36') ---
// runInXs() returns the `meterUsage` of the single `evaluate(code)` crank, as
// parsed by @agoric/xsnap from the "." reply that xsnap-worker.c's
// fxWriteOkay() prints:
//
//   compute (computrons): the XS meter index `the->meterIndex`. It is reset to
//     0 when the crank starts (xsBeginCrank) and read when it ends
//     (xsEndCrank), so it covers exactly this evaluate: the top-level script,
//     everything it calls, host round trips through issueCommand, and the
//     promise jobs drained by fxRunLoop before the reply. It counts +1 per
//     bytecode dispatched by the interpreter (xsRun.c, mxBreak / loop head),
//     +1 per property define/delete and per stack check done on each call
//     (mxMeterOne in mxDefine*, mxDeleteAll, mxOverflow), +1 per
//     typed-array/DataView element read or write (fxUint8Getter/Setter...),
//     +1 per number<->string conversion in the API, plus bulk charges in native built-ins proportional to their
//     work (mxMeterSome): TypedArray set/copyWithin 2 per byte moved, reverse
//     4 per element; String indexOf/includes/startsWith/endsWith/concat/pad/
//     repeat/trim/fromCharCode/normalize/toUpperCase... per character; Array
//     push/pop/shift/unshift/splice/slice/concat/fill/map/filter per element,
//     sort per comparison; BigInt toString per digit. Source parsing and
//     compiling and garbage collection are NOT metered (instantiating
//     top-level declarations is). It is a deterministic, machine-independent
//     work count, not time. 32-bit unsigned: wraps above 4,294,967,295.
//     Measured here: evaluate('1') = 30; `for (i<1e5) s+=i` = 15/iteration;
//     summing a Uint8Array = 20/element.
//     Finer grain from inside XS: the xsnap global `resetMeter(limit, index)`
//     returns the computrons counted since the crank start / previous
//     resetMeter, then sets the crank limit (0 = unlimited) and the counter;
//     so `resetMeter(0, 0)` before and after a section yields its cost (the
//     final `compute` then only counts what ran after the last call).
//
//   allocate: `the->allocatedSpace` (xsnapPlatform.c adjustSpaceMeter), in
//     bytes. It is CUMULATIVE over the worker's whole life and never
//     decreases (not reset per crank): it grows only when XS reserves more
//     memory, i.e. when the chunk arena grows (fxAllocateChunks, in steps of
//     at least the 4 MiB incrementalChunkSize; chunks hold strings, buffer
//     data, bytecode...) or a slot heap is added (fxAllocateSlots: 128 Ki
//     slots x 32 bytes = 4 MiB). A fresh worker reports 42,074,144 bytes
//     (32 MiB initial chunks + 32-byte block header + 256 Ki initial slots x
//     32 B + 4096-slot stack x 32 B). So it is a coarse high-water mark of
//     reserved heap, NOT the number of bytes the JS code allocated: anything
//     that fits in the free space (or that GC reclaims) does not move it.
//     Measured: 1e5 short-lived objects -> +0; 50 x 1 MiB Uint8Arrays kept
//     alive -> +20 MiB (the rest fit in the initial 32 MiB). Since runInXs
//     uses a fresh worker per call, `allocate - 42074144` is the growth this
//     run caused. The worker aborts ("not enough memory") past 2 GiB.
//
//   currentHeapCount: `the->currentHeapCount`, slots (32-byte value cells:
//     properties, array items, closures, ...) in use: set to the live count
//     by each GC sweep, +1 on every slot allocation since (garbage included
//     until the next GC). Not reset per crank; chunk bytes are not included.
//     E.g. a fresh worker ~3,900; after creating 1e5 throwaway {a} objects
//     with no GC yet ~203,900.
//
//   timestamps: wall-clock instants the worker recorded (delivery received,
//     each command out/in, result sent); meterType: 'xs-meter-36'.

import { spawn, execFile } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import tmp from 'tmp';

const require = createRequire(import.meta.url);

/** The device modules (`embedded:io/socket/tcp`, `embedded:io/socket/listener`, `timer`) as the synchronous fakes of fakes/fake-io.ts. */
const FAKE_DEVICE_MODULES = {
  'embedded:io/socket/tcp': fileURLToPath(new URL('./fakes/tcp.ts', import.meta.url)),
  'embedded:io/socket/listener': fileURLToPath(new URL('./fakes/listener.ts', import.meta.url)),
  timer: fileURLToPath(new URL('./fakes/timer.ts', import.meta.url)),
};

/**
 * Bundle a TypeScript/JavaScript entry (and everything it imports) into one
 * strict-mode ES2022 script (an IIFE) that XS can evaluate.
 * @param {string | URL} entryPath
 * @param {{ fakeDevice?: boolean }} [options] fakeDevice: resolve the device's socket
 *   and timer modules to the fakes of fakes/fake-io.ts (xsnap has no sockets)
 * @returns {Promise<string>} the code
 */
export async function bundle(entryPath, { fakeDevice = false } = {}) {
  const entry = entryPath instanceof URL ? fileURLToPath(entryPath) : path.resolve(String(entryPath));
  const plugins = fakeDevice
    ? [
        {
          name: 'fake-device-modules',
          setup(build) {
            build.onResolve({ filter: /^(embedded:io\/socket\/(tcp|listener)|timer)$/ }, (args) => ({ path: FAKE_DEVICE_MODULES[args.path] }));
          },
        },
      ]
    : [];
  let result;
  try {
    result = await esbuild.build({
      plugins,
      entryPoints: [entry],
      bundle: true,
      format: 'iife',
      target: 'es2022',
      platform: 'neutral',
      sourcemap: false,
      write: false,
      logLevel: 'silent',
      // ES modules are strict under V8/vitest; keep the same semantics in XS.
      banner: { js: '"use strict";' },
    });
  } catch (error) {
    const errors = error && Array.isArray(error.errors) ? error.errors : [];
    const text = errors.length
      ? (await esbuild.formatMessages(errors, { kind: 'error', color: false })).join('')
      : String(error && error.message ? error.message : error);
    throw new Error(`esbuild failed to bundle ${entry}:\n${text}`);
  }
  if (result.errors.length > 0 || result.outputFiles.length !== 1) {
    throw new Error(`esbuild failed to bundle ${entry}: ${result.errors.length} error(s)`);
  }
  return result.outputFiles[0].text;
}

let xsnapModule;
async function loadXsnap() {
  if (!xsnapModule) {
    // @agoric/xsnap needs the SES lockdown of @endo/init in place before it
    // loads. It is imported lazily so that scripts that only bundle() stay
    // unhardened. Note: from this point the whole Node process is locked down.
    await import('@endo/init');
    xsnapModule = await import('@agoric/xsnap');
  }
  return xsnapModule;
}

/**
 * Evaluate `code` (a script, e.g. from bundle()) in a fresh xsnap worker.
 *
 * @param {string} code
 * @param {object} [options]
 * @param {(bytes: Uint8Array) => (Uint8Array | ArrayBuffer | string | void | Promise<Uint8Array | ArrayBuffer | string | void>)} [options.onCommand]
 *   Receives the bytes of each `issueCommand(arrayBuffer)` made inside XS; its
 *   return value is the reply XS gets back as an ArrayBuffer (default: empty).
 *   If it throws, the run fails with that error.
 * @param {number} [options.meteringLimit] computron limit for the crank;
 *   0 (default) = unlimited. Exceeding it kills the worker (runInXs rejects).
 * @param {number} [options.timeoutMs] wall-clock limit (default 300000);
 *   0 = none. On timeout the worker is killed and runInXs rejects.
 * @param {'inherit' | 'ignore' | 'pipe'} [options.stdout] where XS `print`
 *   goes (default 'inherit').
 * @param {'inherit' | 'ignore' | 'pipe'} [options.stderr] default 'inherit'.
 * @param {string} [options.name] worker name used in error messages.
 * @param {AbortSignal} [options.signal] aborting it kills the worker and
 *   rejects (e.g. wire it to SIGINT/SIGTERM).
 * @returns {Promise<{ meterUsage: { meterType: string, compute: number, allocate: number, currentHeapCount: number, timestamps: number[] }, reply: Uint8Array }>}
 *   `reply` is the script's completion value if it is an ArrayBuffer (or an
 *   object whose `result` is one), else empty.
 */
export async function runInXs(code, options = {}) {
  const {
    onCommand,
    meteringLimit = 0,
    timeoutMs = 300_000,
    stdout = 'inherit',
    stderr = 'inherit',
    name = 'xs-run',
    signal,
  } = options;
  if (typeof code !== 'string') throw new TypeError('runInXs: code must be a string');
  const { xsnap } = await loadXsnap();
  signal?.throwIfAborted();

  let commandError;
  const handleCommand = async (bytes) => {
    try {
      const reply = onCommand ? await onCommand(bytes) : undefined;
      if (reply === undefined || reply === null) return new Uint8Array(0);
      if (typeof reply === 'string') return new TextEncoder().encode(reply);
      if (reply instanceof ArrayBuffer) return new Uint8Array(reply);
      if (ArrayBuffer.isView(reply)) return new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength);
      throw new TypeError('onCommand must return a Uint8Array, ArrayBuffer, string or undefined');
    } catch (error) {
      commandError ??= error;
      throw error;
    }
  };

  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fsp, createReadStream: fs.createReadStream, tmpName: tmp.tmpName },
    stdout,
    stderr,
    name,
    meteringLimit,
    handleCommand,
  });

  let timer;
  let onAbort;
  let succeeded = false;
  try {
    const stoppers = [worker.evaluate(code)];
    if (timeoutMs > 0) {
      stoppers.push(
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`XS worker timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      );
    }
    if (signal) {
      stoppers.push(
        new Promise((_, reject) => {
          onAbort = () => reject(new Error(`XS run aborted: ${messageOf(signal.reason)}`));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      );
    }
    const result = await Promise.race(stoppers);
    succeeded = true;
    return { meterUsage: { ...result.meterUsage }, reply: new Uint8Array(result.reply) };
  } catch (error) {
    if (commandError !== undefined && commandError !== error) {
      throw new Error(`onCommand failed: ${messageOf(commandError)}`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    await shutDown(worker, succeeded);
  }
}

async function shutDown(worker, graceful) {
  if (graceful) {
    // Ask the worker to quit; kill it if it does not exit promptly.
    let t;
    const exited = await Promise.race([
      worker.close().then(
        () => true,
        () => true,
      ),
      new Promise((resolve) => {
        t = setTimeout(() => resolve(false), 5_000);
      }),
    ]);
    clearTimeout(t);
    if (exited) return;
  }
  await worker.terminate(); // SIGTERM; resolves once the child has exited
}

function messageOf(error) {
  return error && typeof error.message === 'string' ? error.message : String(error);
}

/**
 * The engine's own version line, e.g. "xsnap 0.15.0 (XS 13.3.0)" (from
 * `xsnap-worker -v`); falls back to the npm package version.
 * @returns {Promise<string>}
 */
export async function xsVersion() {
  const pkgFile = require.resolve('@agoric/xsnap/package.json');
  const pkg = JSON.parse(await fsp.readFile(pkgFile, 'utf8'));
  const platform = { Linux: 'lin', Darwin: 'mac' }[os.type()];
  const bin = path.join(path.dirname(pkgFile), 'xsnap-native/xsnap/build/bin', platform ?? '?', 'release/xsnap-worker');
  const line = await new Promise((resolve) => {
    execFile(bin, ['-v'], { timeout: 10_000 }, (error, out) => resolve(error ? '' : String(out).trim()));
  });
  return line || `xsnap ${pkg.version}`;
}
