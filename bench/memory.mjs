// npm run bench:memory — memory one open connection's core holds at default settings,
// measured inside XS: fixed buffer bytes (ArrayBuffers, in XS chunks) and XS slots
// (32-byte cells: objects, closures, properties) live after a GC, from runs with 1 and 9 connections
// so that module setup cancels out.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { bundle, runInXs, xsVersion } from '../test/xs/xs-run.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const code = await bundle(join(here, 'memory-entry.ts'));
const decoder = new TextDecoder();

async function run(count, options = {}) {
  const reports = [];
  // The entry ends with gc(), so currentHeapCount is the live slot count.
  const { meterUsage } = await runInXs(`globalThis.MEMORY = ${JSON.stringify({ count, options })};\n${code}`, {
    onCommand: (bytes) => void reports.push(JSON.parse(decoder.decode(bytes))),
  });
  const r = reports[0];
  if (!r || r.open !== count) throw new Error(`expected ${count} open connections, got ${JSON.stringify(r)}`);
  return { slots: meterUsage.currentHeapCount, bufferBytes: r.bufferBytes };
}

console.log(`Per-connection core memory under XS (${await xsVersion()})`);
for (const [label, options] of [
  ['defaults (message mode, 4 KiB messages, 1 KiB send buffer)', {}],
  ['LED-app sized (256 B messages, 256 B send buffer)', { maxMessageSize: 256, sendBufferSize: 256 }],
  ['stream mode (1 KiB chunks)', { mode: 'stream' }],
]) {
  const one = await run(1, options);
  const nine = await run(9, options);
  const slots = (nine.slots - one.slots) / 8;
  const buffers = (nine.bufferBytes - one.bufferBytes) / 8;
  console.log(`${label}:\n  fixed buffers ${buffers} bytes, ${slots.toFixed(0)} live slots (x 32 bytes = ${(slots * 32).toFixed(0)} bytes); total ${(buffers + slots * 32).toFixed(0)} bytes`);
}
