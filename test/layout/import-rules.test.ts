// The layering of src/, as docs/ARCHITECTURE.md states it: the table under "Folders and
// what they may import" is read here and every import of every src module (type-only
// ones included: they are dependencies too) is checked against it. A lower layer
// importing a higher one, the sans-IO core naming `embedded:*`, `timer` or a host, a
// src module reaching into hosts/ or test/, an src folder without a rule, a loose file
// at the top of src/, or an import cycle fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** folder ("src/net") -> what its modules may import besides their own folder: folders ("src/bytes") and specifiers. */
type Rules = Map<string, Set<string>>;

/** The rule table of docs/ARCHITECTURE.md: rows "| `src/x` | job | `src/y`, `timer` |" ("nothing" for none). */
export function readRules(markdown: string): Rules {
  const section = markdown.split('\n## Folders and what they may import')[1];
  if (section === undefined) throw new Error('docs/ARCHITECTURE.md has no "Folders and what they may import" section');
  const rules: Rules = new Map();
  for (const line of section.split('\n## ')[0].split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const folder = /^`(src\/[a-z-]+)`$/.exec(cells[1] ?? '');
    if (!folder) continue;
    const allowed = [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    rules.set(folder[1], new Set(allowed));
  }
  return rules;
}

/** What one module imports, as written (static imports, re-exports, import(), type-only ones included). */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Every rule a module's imports break: "file: import 'x' (reason)". */
export function violations(files: ReadonlyMap<string, string>, rules: Rules): string[] {
  const found: string[] = [];
  for (const [file, text] of files) {
    const folder = dirname(file);
    const allowed = rules.get(folder);
    if (!allowed) {
      found.push(`${file}: the folder ${folder} has no rule in docs/ARCHITECTURE.md`);
      continue;
    }
    for (const specifier of importsOf(text)) {
      if (!specifier.startsWith('.')) {
        if (!allowed.has(specifier)) found.push(`${file}: import '${specifier}' (${folder} may not name it)`);
        continue;
      }
      const target = relative(ROOT, resolve(ROOT, folder, specifier));
      const targetFolder = dirname(target);
      if (targetFolder !== folder && !allowed.has(targetFolder)) found.push(`${file}: import '${specifier}' (${folder} may not import ${targetFolder})`);
    }
  }
  return found;
}

/** Import cycles among the modules (each as "a -> b -> a"). */
function cycles(files: ReadonlyMap<string, string>): string[] {
  const edges = new Map<string, string[]>();
  for (const [file, text] of files) {
    edges.set(
      file,
      importsOf(text)
        .filter((s) => s.startsWith('.'))
        .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)) + '.ts'),
    );
  }
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of edges.keys()) visit(file, []);
  return found;
}

function srcModules(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(SRC, { recursive: true }).map(String)) {
    if (name.endsWith('.ts')) files.set(`src/${name.split('\\').join('/')}`, readFileSync(join(SRC, name), 'utf8'));
  }
  return files;
}

const rules = readRules(readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8'));

describe('layering of src/ (docs/ARCHITECTURE.md)', () => {
  it('the rule table is there, one row per src folder, and lower layers allow no higher one', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `src/${d.name}`);
    expect([...rules.keys()].sort()).toEqual(folders.sort());
    // the sans-IO core names no host module and no socket
    for (const core of ['src/bytes', 'src/http', 'src/websocket']) {
      expect([...rules.get(core)!].filter((s) => !s.startsWith('src/')), core).toEqual([]);
    }
    expect(rules.get('src/bytes')!.size).toBe(0);
  });

  it('catches what it is meant to catch (the checker itself works)', () => {
    const bad = new Map([
      ['src/bytes/x.ts', "import { WebSocketConnection } from '../websocket/connection';"],
      ['src/websocket/y.ts', "import TCP from 'embedded:io/socket/tcp';\nimport type { Listener } from 'embedded:io/socket/listener';"],
      ['src/http/z.ts', "export { a } from '../net/socket-link';\nimport Timer from 'timer';"],
      ['src/net/w.ts', "import { installModdablePlatform } from '../../hosts/moddable/platform';\nimport net from 'node:net';"],
      ['src/apps/v.ts', "const m = import('../../test/harness');"],
      ['src/extra/u.ts', "import { a } from '../bytes/utf8';"],
    ]);
    expect(violations(bad, rules)).toHaveLength(9);
    const good = new Map([
      ['src/net/a.ts', "import TCP from 'embedded:io/socket/tcp';\nimport { FrameParser } from '../websocket/parser';\nimport { b } from './b';"],
      ['src/websocket/c.ts', "import type { HttpHeaders } from '../http/head';\nimport { utf8Length } from '../bytes/utf8';"],
    ]);
    expect(violations(good, rules)).toEqual([]);
    expect(cycles(new Map([['src/a/x.ts', "import './y';"], ['src/a/y.ts', "import './x';"]]))).toEqual(['src/a/x.ts -> src/a/y.ts -> src/a/x.ts']);
  });

  it('every import in src/ keeps the rules, and there is no file at the top of src/', () => {
    const files = srcModules();
    expect(files.size).toBeGreaterThan(25);
    expect([...files.keys()].filter((file) => dirname(file) === 'src')).toEqual([]);
    expect(violations(files, rules)).toEqual([]);
  });

  it('no import cycles among the src modules', () => {
    expect(cycles(srcModules())).toEqual([]);
  });
});
