// The Moddable module manifests (modules/*/manifest.json), checked without the SDK:
// - every source and typings file they list exists, every websockets/* specifier has both;
// - each manifest's module set is closed under imports: every import of an included source
//   is itself included by that manifest or its includes (or is a Moddable module its
//   includes provide), so an app that includes one manifest builds;
// - the committed typings (modules/typings) are what `npm run build:typings` makes from src;
// - the TypeScript compiler the manifests name is there and new enough for mcconfig;
// - each example app reaches our code through exactly one include line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MODULES = join(ROOT, 'modules');
const TYPINGS = join(MODULES, 'typings');
const PREFIX = 'websockets/';

interface Manifest {
  include?: string | string[];
  modules?: Record<string, string | string[]>;
  preload?: string[];
  build?: Record<string, string>;
  typescript?: { compiler?: string };
  config?: Record<string, unknown>;
}

const readJson = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const rel = (path: string): string => relative(ROOT, path);

const manifestPaths = readdirSync(MODULES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(MODULES, entry.name, 'manifest.json')))
  .map((entry) => join(MODULES, entry.name, 'manifest.json'));

/** Moddable modules our sources import, and the SDK manifest an app needs for each. */
const SDK_MODULES: Record<string, string | null> = {
  timer: null, // every Moddable app (the runtime's base modules)
  time: null,
  Resource: null, // $(MODDABLE)/examples/manifest_base.json, which every app includes
  'embedded:io/socket/tcp': '$(MODDABLE)/modules/io/manifest.json',
  'embedded:io/socket/listener': '$(MODDABLE)/modules/io/manifest.json',
  net: '$(MODDABLE)/modules/io/manifest.json', // it includes manifest_net
  logical: null, // no manifest of its own: modules/core adds it by path, with our typings (modules/core/logical.d.ts)
};

/**
 * Standard specifiers that one of our manifests implements with a host file of ours (no
 * websockets/ name: apps import the ECMA-419 name), and the manifest that provides each.
 */
const HOST_MODULES: Record<string, { manifest: string; source: string }> = {
  'embedded:io/socket/tcp/tls': { manifest: 'modules/tls/manifest.json', source: 'hosts/moddable/tls-socket' },
};

interface Closure {
  /** specifier -> absolute source path (.ts) */
  sources: Map<string, string>;
  /** specifier -> absolute typings path (.d.ts) */
  typings: Map<string, string>;
  /** $(MODDABLE)/... includes, as written */
  sdkIncludes: Set<string>;
  /** Our manifests included (repository-relative). */
  manifests: Set<string>;
}

/** A manifest's modules with those of everything it includes (recursively). */
function closure(path: string, into: Closure = { sources: new Map(), typings: new Map(), sdkIncludes: new Set(), manifests: new Set() }, seen = new Set<string>()): Closure {
  if (seen.has(path)) return into;
  seen.add(path);
  into.manifests.add(rel(path));
  const manifest = readJson(path);
  for (const include of list(manifest.include)) {
    if (include.startsWith('$(')) into.sdkIncludes.add(include);
    else closure(resolve(dirname(path), include), into, seen);
  }
  for (const [specifier, value] of Object.entries(manifest.modules ?? {})) {
    if (!specifier.startsWith(PREFIX)) continue;
    for (const source of list(value)) {
      const file = resolve(dirname(path), source);
      if (file.startsWith(TYPINGS + '/')) into.typings.set(specifier, file + '.d.ts');
      else into.sources.set(specifier, file + '.ts');
    }
  }
  return into;
}

const importsOf = (file: string): string[] =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);

/** Problems with the imports of `file` for an app whose modules are `within`. */
function unresolvedImports(file: string, within: Closure): string[] {
  const bySource = new Set(within.sources.values());
  const problems: string[] = [];
  for (const specifier of importsOf(file)) {
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier) + '.ts';
      if (!bySource.has(target)) problems.push(`${rel(file)} imports ${specifier} (${rel(target)}), which is not included`);
    } else if (specifier.startsWith(PREFIX)) {
      if (!within.sources.has(specifier)) problems.push(`${rel(file)} imports ${specifier}, which is not included`);
    } else if (specifier in SDK_MODULES) {
      const needs = SDK_MODULES[specifier];
      if (needs && !within.sdkIncludes.has(needs)) problems.push(`${rel(file)} imports ${specifier}, which needs ${needs}`);
    } else if (specifier in HOST_MODULES) {
      const needs = HOST_MODULES[specifier].manifest;
      if (!within.manifests.has(needs)) problems.push(`${rel(file)} imports ${specifier}, which needs ${needs}`);
    } else if (specifier !== 'mc/config') {
      problems.push(`${rel(file)} imports ${specifier}: not ours and not a known Moddable module`);
    }
  }
  return problems;
}

describe('modules/*/manifest.json', () => {
  it('finds the six module manifests', () => {
    expect(manifestPaths.map((p) => rel(dirname(p))).sort()).toEqual(
      ['modules/client', 'modules/core', 'modules/frame-parser', 'modules/http-server', 'modules/server', 'modules/tls'],
    );
  });

  for (const path of manifestPaths) {
    describe(rel(path), () => {
      const manifest = readJson(path);

      it('lists files that exist, a source and typings for every websockets/* specifier, and preloads only its own modules', () => {
        const missing: string[] = [];
        for (const include of list(manifest.include)) {
          if (!include.startsWith('$(') && !existsSync(resolve(dirname(path), include))) missing.push(`include ${include}`);
        }
        for (const [specifier, value] of Object.entries(manifest.modules ?? {})) {
          if (specifier in HOST_MODULES) {
            // Ours under its standard name: the one host file, typed by the SDK's own typings.
            const host = HOST_MODULES[specifier];
            expect(rel(path)).toBe(host.manifest);
            expect(list(value).map((f) => rel(resolve(dirname(path), f)))).toEqual([host.source]);
            if (!existsSync(join(ROOT, host.source) + '.ts')) missing.push(`${specifier}: ${host.source}.ts`);
            continue;
          }
          if (specifier in SDK_MODULES) {
            // An SDK module without a manifest of its own: its files by path, and our typings for it.
            const files = list(value);
            const ours = files.filter((f) => !f.startsWith('$(MODULES)/')).map((f) => resolve(dirname(path), f));
            expect(ours.map(rel), `${specifier}: our typings beside the manifest`).toEqual([rel(join(dirname(path), specifier))]);
            expect(existsSync(ours[0] + '.d.ts')).toBe(true);
            continue;
          }
          expect(specifier.startsWith(PREFIX), `${specifier}: our specifiers start with ${PREFIX}`).toBe(true);
          const name = specifier.slice(PREFIX.length);
          const files = list(value).map((source) => resolve(dirname(path), source));
          const sources = files.filter((file) => !file.startsWith(TYPINGS + '/'));
          const typings = files.filter((file) => file.startsWith(TYPINGS + '/'));
          expect(sources.length, `${specifier}: one source`).toBe(1);
          expect(typings.map(rel), `${specifier}: its typings`).toEqual([`modules/typings/${name}`]);
          for (const file of sources) if (!existsSync(file + '.ts')) missing.push(`${specifier}: ${rel(file)}.ts`);
          for (const file of typings) if (!existsSync(file + '.d.ts')) missing.push(`${specifier}: ${rel(file)}.d.ts`);
        }
        expect(missing).toEqual([]);
        for (const specifier of manifest.preload ?? []) expect(Object.keys(manifest.modules ?? {})).toContain(specifier);
      });

      it('is closed under imports (with what it includes)', () => {
        const within = closure(path);
        const own = Object.keys(manifest.modules ?? {}).filter((specifier) => specifier.startsWith(PREFIX));
        const problems = own.flatMap((specifier) => unresolvedImports(within.sources.get(specifier)!, within));
        expect(problems).toEqual([]);
      });
    });
  }

  it('no specifier is defined twice with different sources', () => {
    const seen = new Map<string, string>();
    for (const path of manifestPaths) {
      for (const [specifier, source] of closure(path).sources) {
        expect(seen.get(specifier) ?? source, specifier).toBe(source);
        seen.set(specifier, source);
      }
    }
  });

  it('name a TypeScript >= 6 compiler relative to themselves (mcconfig compiles our .ts for any app)', () => {
    // frame-parser is included by every other module manifest; mcconfig resolves a "./"
    // build variable against the manifest's own directory, and make expands $(WEBSOCKETS_TSC).
    const base = readJson(join(MODULES, 'frame-parser', 'manifest.json'));
    expect(base.typescript?.compiler).toBe('$(WEBSOCKETS_TSC)');
    const dir = base.build?.WEBSOCKETS_DIR;
    const tsc = base.build?.['WEBSOCKETS_TSC ?='];
    expect(dir).toBe('./../..');
    expect(tsc).toBe('$(WEBSOCKETS_DIR)/node_modules/typescript/bin/tsc');
    const compiler = resolve(MODULES, 'frame-parser', dir!, tsc!.replace('$(WEBSOCKETS_DIR)/', ''));
    expect(existsSync(compiler), rel(compiler)).toBe(true);
    const version = JSON.parse(readFileSync(join(dirname(compiler), '..', 'package.json'), 'utf8')).version as string;
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(6);
    for (const path of manifestPaths) {
      if (path.includes('frame-parser')) continue;
      const within = closure(path);
      expect(within.sources.has('websockets/parser'), `${rel(path)} includes frame-parser`).toBe(true);
    }
  });
});

describe('modules/typings', () => {
  it('are up to date with src (npm run build:typings)', () => {
    const result = spawnSync(process.execPath, [join(MODULES, 'build-typings.mjs'), '--check'], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('import only each other (a self-contained folder) and the Moddable modules they name', () => {
    const problems: string[] = [];
    for (const name of readdirSync(TYPINGS).filter((f) => f.endsWith('.d.ts'))) {
      for (const specifier of importsOf(join(TYPINGS, name))) {
        if (specifier.startsWith('./')) {
          if (!existsSync(join(TYPINGS, specifier + '.d.ts'))) problems.push(`${name}: ${specifier}`);
        } else if (!(specifier in SDK_MODULES)) problems.push(`${name}: ${specifier}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('examples/*', () => {
  const examples = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'examples', entry.name, 'manifest.json')))
    .map((entry) => join(ROOT, 'examples', entry.name));

  it('there are JavaScript and TypeScript examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    expect(examples.some((dir) => existsSync(join(dir, 'main.js')))).toBe(true);
    expect(examples.some((dir) => existsSync(join(dir, 'main.ts')))).toBe(true);
  });

  for (const dir of examples) {
    it(`${rel(dir)} includes our code with one line, and imports only what that include provides`, () => {
      const manifest = readJson(join(dir, 'manifest.json'));
      const ours = list(manifest.include).filter((include) => !include.startsWith('$(MODDABLE)'));
      expect(ours.length).toBe(1);
      expect(ours[0]).toMatch(/^\.\.\/\.\.\/modules\/[a-z-]+\/manifest\.json$/);
      expect(Object.values(manifest.modules ?? {}).flatMap(list)).toEqual(['./main']);
      const main = ['main.js', 'main.ts'].map((f) => join(dir, f)).find(existsSync)!;
      const within = closure(join(dir, 'manifest.json'));
      expect(unresolvedImports(main, within)).toEqual([]);
    });
  }
});
