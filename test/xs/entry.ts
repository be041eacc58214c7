// Runs the portable core test catalogue inside XS (bundled by run-xs.mjs and
// evaluated in an xsnap worker). Results go back to Node through the xsnap
// host function `issueCommand(ArrayBuffer)`, one JSON message per call:
//   { "kind": "fail", "index": 3, "name": "...", "message": "..." }  (each failure)
//   { "kind": "done", "total": N, "passed": P, "failed": F }           (always last)
// Uses only ES2022 (no TextEncoder): the JSON is escaped down to ASCII.
import '../core/index';
import { registry } from '../harness';

interface XsHost {
  issueCommand?: (message: ArrayBuffer) => ArrayBuffer;
}

const MAX_MESSAGE = 2000; // characters per failure message
const MAX_REPORTED = 200; // failures reported in detail; the rest are counted only

function send(message: object): void {
  const host = globalThis as unknown as XsHost;
  if (typeof host.issueCommand !== 'function') throw new Error('issueCommand is not available (not running in xsnap?)');
  // JSON with every non-ASCII UTF-16 unit escaped, so one byte per char.
  const json = JSON.stringify(message).replace(/[\u007f-\uffff]/g, (c) => '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4));
  const bytes = new Uint8Array(json.length);
  for (let i = 0; i < json.length; i++) bytes[i] = json.charCodeAt(i);
  host.issueCommand(bytes.buffer);
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? text.slice(0, MAX_MESSAGE) + `... (${text.length} chars)` : text;
}

/** A readable description of anything thrown, never throwing itself. */
function describe(thrown: unknown): string {
  try {
    if (thrown instanceof Error) {
      const name = typeof thrown.name === 'string' && thrown.name && thrown.name !== 'Error' ? thrown.name + ': ' : '';
      return name + String(thrown.message);
    }
    if (typeof thrown === 'string') return `non-Error thrown: ${JSON.stringify(thrown)}`;
    if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) {
      return `non-Error thrown: ${String(thrown)}`;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(thrown);
    } catch {
      json = undefined;
    }
    return `non-Error thrown: ${json ?? Object.prototype.toString.call(thrown)}`;
  } catch {
    return 'non-Error thrown: (undescribable value)';
  }
}

function isThenable(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

let passed = 0;
let failed = 0;
const total = registry.length;
for (let index = 0; index < total; index++) {
  const c = registry[index];
  let error: string | undefined;
  try {
    const result: unknown = (c.run as () => unknown)();
    // Core cases are synchronous; a returned promise would not be awaited here.
    if (isThenable(result)) error = 'case returned a promise; core cases must be synchronous';
  } catch (thrown) {
    error = describe(thrown);
  }
  if (error === undefined) {
    passed++;
  } else {
    failed++;
    if (failed <= MAX_REPORTED) send({ kind: 'fail', index, name: String(c.name), message: clip(error) });
  }
}
send({ kind: 'done', total, passed, failed });
