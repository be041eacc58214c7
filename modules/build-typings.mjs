// npm run build:typings: declarations (.d.ts) for the modules listed in modules/*/manifest.json,
// generated from their TypeScript sources by tsc (declaration-only emit, @internal members
// stripped) into modules/typings/<name>.d.ts, one per `websockets/<name>` specifier
// (<name> may have folders: websockets/net/client -> modules/typings/net/client.d.ts).
// Imports between them are rewritten to the relative path of the other declaration, so the
// folder is self-contained: a
// `paths` entry { "websockets/*": ["<repo>/modules/typings/*"] } is all an editor needs, and
// the module manifests map each specifier to its .d.ts too, which is how mcconfig's
// generated tsconfig (and `mcconfig -tc` for JavaScript apps) finds them.
// test/modules/modules.test.ts fails when the committed files differ from what this makes
// (`node modules/build-typings.mjs --check`).
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const modulesDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(modulesDir, '..');
export const typingsDir = join(modulesDir, 'typings');
const PREFIX = 'websockets/';

/** Every module manifest: { name, path, json } for modules/<name>/manifest.json. */
export function readManifests() {
  const manifests = [];
  for (const name of readdirSync(modulesDir, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const path = join(modulesDir, name.name, 'manifest.json');
    let text;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    manifests.push({ name: name.name, path, json: JSON.parse(text) });
  }
  return manifests;
}

/** A manifest's "modules" entry as a list of sources (a string or an array). */
export function entrySources(value) {
  return Array.isArray(value) ? value : [value];
}

/**
 * The TypeScript source behind every `websockets/<name>` specifier:
 * Map<specifier, absolute path of the .ts file>. Typings entries (modules/typings/...) are skipped.
 */
export function moduleSources(manifests = readManifests()) {
  const sources = new Map();
  for (const manifest of manifests) {
    for (const [specifier, value] of Object.entries(manifest.json.modules ?? {})) {
      if (!specifier.startsWith(PREFIX)) continue;
      for (const source of entrySources(value)) {
        const path = resolve(dirname(manifest.path), source);
        if (path.startsWith(typingsDir + '/')) continue;
        sources.set(specifier, path + '.ts');
      }
    }
  }
  return sources;
}

/** Generates the typings in memory: Map<file name ("client.d.ts"), text>. */
export function generateTypings() {
  const sources = moduleSources();
  const bySource = new Map([...sources].map(([specifier, path]) => [path, specifier.slice(PREFIX.length)]));
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const ambient = config.fileNames.filter((file) => file.endsWith('.d.ts')); // hosts/typings: timer, embedded:io, time, net, Resource
  const paths = {};
  for (const [specifier, path] of sources) paths[specifier] = [path];
  const options = {
    ...config.options,
    paths,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    stripInternal: true,
    removeComments: false,
    outDir: join(root, '.typings-out'),
    rootDir: root,
  };
  const program = ts.createProgram([...sources.values(), ...ambient], options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const outputs = new Map();
  const emitted = program.emit(undefined, (file, text) => {
    const source = resolve(root, relative(options.outDir, file)).replace(/\.d\.ts$/, '.ts');
    const name = bySource.get(source);
    if (name) outputs.set(name, { source, text });
  });
  const errors = [...diagnostics, ...emitted.diagnostics];
  if (errors.length) {
    throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
  }
  const files = new Map();
  for (const [name, { source, text }] of [...outputs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Every import of one of our modules becomes the relative path of its declaration: relative ones by the file they resolve to, websockets/* ones by name.
    const rewritten = text.replace(/((?:from|import)\s*\(?\s*)(['"])([^'"]+)\2/g, (whole, lead, quote, specifier) => {
      let target;
      if (specifier.startsWith('.')) target = bySource.get(resolve(dirname(source), specifier) + '.ts');
      else if (specifier.startsWith(PREFIX)) target = sources.has(specifier) ? specifier.slice(PREFIX.length) : undefined;
      else return whole;
      if (target === undefined) throw new Error(`${relative(root, source)}: "${specifier}" is not one of the modules`);
      let path = posix.relative(posix.dirname(name), target);
      if (!path.startsWith('.')) path = './' + path;
      return `${lead}${quote}${path}${quote}`;
    });
    const header = `// websockets/${name}: generated by \`npm run build:typings\` from ${relative(root, source)}. Do not edit.\n`;
    files.set(`${name}.d.ts`, header + rewritten);
  }
  return files;
}

/** The .d.ts files under modules/typings, as paths relative to it ("net/client.d.ts"). */
function presentTypings() {
  return readdirSync(typingsDir, { recursive: true })
    .map((name) => String(name).split('\\').join('/'))
    .filter((name) => name.endsWith('.d.ts'));
}

/** Writes the .d.ts files under modules/typings (and removes stale ones). */
export function writeTypings(files = generateTypings()) {
  mkdirSync(typingsDir, { recursive: true });
  for (const name of presentTypings()) if (!files.has(name)) rmSync(join(typingsDir, name));
  for (const [name, text] of files) {
    mkdirSync(dirname(join(typingsDir, name)), { recursive: true });
    writeFileSync(join(typingsDir, name), text);
  }
  return files;
}

/** The differences between the committed typings and freshly generated ones (empty: up to date). */
export function staleTypings(files = generateTypings()) {
  const stale = [];
  const present = new Set(presentTypings());
  for (const [name, text] of files) {
    if (!present.has(name)) stale.push(`${name}: missing`);
    else if (readFileSync(join(typingsDir, name), 'utf8') !== text) stale.push(`${name}: differs from its source`);
  }
  for (const name of present) if (!files.has(name)) stale.push(`${name}: no module has this name any more`);
  return stale;
}

// node modules/build-typings.mjs          writes modules/typings
// node modules/build-typings.mjs --check  exits 1 and lists the files that are stale
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleTypings();
    for (const line of stale) console.log(`modules/typings/${line}`);
    if (stale.length) console.log('build:typings: stale; run npm run build:typings');
    process.exit(stale.length ? 1 : 0);
  }
  const files = writeTypings();
  console.log(`build:typings: ${files.size} declaration files in ${relative(process.cwd(), typingsDir) || '.'}`);
}
