// Builds the device's copy of the web pages (web/): for each file, web/dist/<file>
// (minified: esbuild for .js and .css, indentation dropped from .html) and
// web/dist/<file>.gz (gzip -9, for serving with Content-Encoding: gzip), then prints the
// sizes. A .js file is also written as <file>.plain for the Moddable builds. Deterministic
// output (gzip header mtime 0). Exits 1 if a page (what a phone loads for it: the LED
// page, or the set-up page with the shared app.css) is over the budget gzipped; the
// total the device stores is printed.
//   node scripts/build-web.mjs [--budget=6144] [--out=DIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';
import { transform } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const FILES = ['index.html', 'app.js', 'app.css', 'setup.html', 'setup.js'];
const option = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const budget = Number(option('budget') ?? 6144);
/** What a phone loads for each page: each within the budget. */
const PAGES = { 'LED page': ['index.html', 'app.js', 'app.css'], 'set-up page': ['setup.html', 'setup.js', 'app.css'] };
const dist = option('out') ? resolve(option('out')) : join(web, 'dist');

/** The served text: same behaviour, fewer bytes (the sources stay readable). */
async function minify(name, text) {
  // Only the indentation: a line break still separates inline elements as before.
  if (name.endsWith('.html')) return text.replace(/\n[ \t]+/g, '\n');
  const loader = name.endsWith('.js') ? 'js' : 'css';
  const result = await transform(text, { loader, minify: true, target: loader === 'js' ? 'es2020' : undefined, charset: 'utf8' });
  return result.code;
}

mkdirSync(dist, { recursive: true });
const rows = [];
for (const name of FILES) {
  const source = readFileSync(join(web, name), 'utf8');
  const raw = Buffer.from(await minify(name, source));
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(join(dist, name), raw);
  writeFileSync(join(dist, `${name}.gz`), gz);
  // mcconfig takes .js files listed as resources for modules and leaves them out, so the
  // Moddable builds embed plain JavaScript under this name (hosts/moddable/resource-store).
  if (name.endsWith('.js')) writeFileSync(join(dist, `${name}.plain`), raw);
  rows.push([name, Buffer.byteLength(source), raw.length, gz.length]);
}
const total = rows.reduce((t, row) => t.map((x, i) => x + row[i + 1]), [0, 0, 0]);

const line = (name, ...sizes) => console.log(name.padEnd(12) + sizes.map((v) => String(v).padStart(9)).join(''));
console.log(`web/dist (${dist})`);
line('file', 'source', 'served', 'gzip');
for (const [name, ...sizes] of rows) line(name, ...sizes);
line('total', ...total);
for (const [page, files] of Object.entries(PAGES)) {
  const size = files.reduce((sum, name) => sum + rows.find((row) => row[0] === name)[3], 0);
  console.log(`${page}: ${size} B gzipped of a budget of ${budget} B (${files.join(', ')})`);
  if (size > budget) {
    console.error(`build-web: the ${page} is ${size} B gzipped, over the budget of ${budget} B`);
    process.exitCode = 1;
  }
}
