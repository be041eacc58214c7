// Builds the device's copy of the LED web app: web/dist/<file> (plain) and
// web/dist/<file>.gz (gzip -9, for serving with Content-Encoding: gzip) for each
// file of web/, then prints raw and gzipped sizes. Deterministic output (gzip
// header mtime 0). A .js file is also written as <file>.plain for the Moddable builds. Exits 1 if the gzipped total exceeds the budget.
//   node scripts/build-web.mjs [--budget=6144]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const dist = join(web, 'dist');
const FILES = ['index.html', 'app.js', 'app.css'];
const budgetArg = process.argv.find((a) => a.startsWith('--budget='));
const budget = budgetArg ? Number(budgetArg.slice('--budget='.length)) : 6144;

mkdirSync(dist, { recursive: true });
const rows = [];
for (const name of FILES) {
  const raw = readFileSync(join(web, name));
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(join(dist, name), raw);
  writeFileSync(join(dist, `${name}.gz`), gz);
  // mcconfig takes .js files listed as resources for modules and leaves them out, so the
  // Moddable builds embed plain JavaScript under this name (hosts/moddable/resource-store).
  if (name.endsWith('.js')) writeFileSync(join(dist, `${name}.plain`), raw);
  rows.push([name, raw.length, gz.length]);
}
const total = rows.reduce((t, [, raw, gz]) => [t[0] + raw, t[1] + gz], [0, 0]);

const pad = (v, n) => String(v).padStart(n);
console.log(`web/dist (${dist})`);
console.log(`${'file'.padEnd(12)}${pad('raw', 9)}${pad('gzip', 9)}`);
for (const [name, raw, gz] of rows) console.log(`${name.padEnd(12)}${pad(raw, 9)}${pad(gz, 9)}`);
console.log(`${'total'.padEnd(12)}${pad(total[0], 9)}${pad(total[1], 9)}   (budget ${budget} gzipped)`);
if (total[1] > budget) {
  console.error(`build-web: gzipped total ${total[1]} B exceeds the budget of ${budget} B`);
  process.exitCode = 1;
}
