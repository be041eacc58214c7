// npm run test:xs — runs the portable core test catalogue (test/core) inside
// the real XS engine (xsnap worker built by @agoric/xsnap), then prints
//   XS engine: xsnap <version>, computrons: <n>
//   <N> passed, <M> failed
// as its last line. Exit code 1 on any failure, on an empty catalogue, or if
// the bundle fails to build, the worker crashes or the run times out.
//
//   node test/xs/run-xs.mjs [entry.ts] [--timeout=<ms>]
// (entry defaults to test/xs/entry.ts; any entry following its reporting
// protocol works.)
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bundle, runInXs, xsVersion } from './xs-run.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const timeoutArg = args.find((a) => a.startsWith('--timeout='));
const TIMEOUT_MS = timeoutArg ? Number(timeoutArg.slice('--timeout='.length)) : 5 * 60_000;
if (!(Number.isFinite(TIMEOUT_MS) && TIMEOUT_MS > 0)) {
  console.log(`test:xs: ERROR: bad ${timeoutArg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const entry = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(here, 'entry.ts'));

const decoder = new TextDecoder();
let summarized = false;
/** Print the final `N passed, M failed` line (at most once). */
function summary(passed, failed) {
  if (summarized) return;
  summarized = true;
  console.log(`${passed} passed, ${failed} failed`);
}
// Aborting kills the xsnap child (runInXs terminates it on every exit path).
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.log(`test:xs: ERROR: interrupted by ${sig}`);
    stop.abort(new Error(sig));
  });
}

async function main() {
  let code;
  try {
    code = await bundle(entry);
  } catch (error) {
    console.log(`test:xs: ERROR: cannot bundle the test entry\n${error.message}`);
    summary(0, 1);
    return 1;
  }

  const failures = [];
  let done;
  const protocolErrors = [];
  const onCommand = (bytes) => {
    let msg;
    try {
      msg = JSON.parse(decoder.decode(bytes));
    } catch {
      protocolErrors.push(`unparsable message from XS: ${decoder.decode(bytes).slice(0, 200)}`);
      return undefined;
    }
    if (msg && msg.kind === 'fail') failures.push(msg);
    else if (msg && msg.kind === 'done') done = msg;
    else protocolErrors.push(`unexpected message from XS: ${JSON.stringify(msg).slice(0, 200)}`);
    return undefined;
  };

  let meterUsage;
  let crash;
  try {
    ({ meterUsage } = await runInXs(code, { onCommand, meteringLimit: 0, timeoutMs: TIMEOUT_MS, name: 'test-xs', signal: stop.signal }));
  } catch (error) {
    crash = error;
  }

  for (const f of failures) {
    console.log(`FAIL ${f.name}\n     ${String(f.message).replace(/\n/g, '\n     ')}`);
  }
  for (const p of protocolErrors) console.log(`test:xs: ${p}`);

  const version = await xsVersion().catch(() => 'xsnap (unknown version)');
  const computrons = meterUsage && meterUsage.compute != null ? meterUsage.compute : 'n/a';
  console.log(`XS engine: ${version}, computrons: ${computrons}`);

  if (crash || !done) {
    const why = crash
      ? `the XS worker crashed or was stopped: ${crash && crash.message ? crash.message : String(crash)}`
      : 'the XS run ended without reporting its totals';
    console.log(`test:xs: ERROR: ${why}`);
    // Cases completed before the crash are known; the rest count as failed.
    const passed = done ? done.passed : 0;
    const failed = done ? done.failed : Math.max(failures.length, 1);
    summary(passed, failed);
    return 1;
  }
  if (done.total === 0) console.log('test:xs: ERROR: no test cases were registered');
  if (done.failed > failures.length) console.log(`test:xs: (${done.failed - failures.length} further failures not shown)`);
  summary(done.passed, done.failed);
  return done.failed > 0 || done.passed === 0 || protocolErrors.length > 0 ? 1 : 0;
}

// Hard backstop in case anything hangs outside runInXs's own timeout: abort
// the run (runInXs then kills the worker), and force the exit soon after.
const backstop = setTimeout(() => {
  console.log(`test:xs: ERROR: timed out after ${TIMEOUT_MS + 30_000} ms`);
  stop.abort(new Error('backstop timeout'));
  setTimeout(() => {
    summary(0, 1);
    process.exit(1);
  }, 5_000).unref();
}, TIMEOUT_MS + 30_000);
backstop.unref();

main().then(
  (status) => {
    process.exitCode = status;
  },
  (error) => {
    console.log(`test:xs: ERROR: ${error && error.stack ? error.stack : error}`);
    summary(0, 1);
    process.exitCode = 1;
  },
);
