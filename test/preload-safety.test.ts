// Moddable preloads our modules (modules/*/manifest.json): their top level runs at build
// time and what it creates is stored in flash. Three kinds of module-level state break
// there, each found in the Moddable simulator (SDK 8.2.3):
//   - a RegExp: XS's exec crashes on a preloaded RegExp given a ~1.2 KB input;
//   - a Map/Set or typed array written later: "read-only Map instance" / "read-only buffer";
//   - a `let` whose initial value is a function: assigning it throws "set x: const".
// This check reads every src module's top level with the TypeScript parser, so CI (which
// has no SDK) fails before a device would. Typed arrays that are only read after the
// module body ran (lookup tables) are listed by name.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { moduleSources } from '../modules/build-typings.mjs';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const HOSTS = join(import.meta.dirname, '..', 'hosts', 'moddable');
const MODULES = join(import.meta.dirname, '..', 'modules');

/** Module-level typed arrays filled by the module body and only read afterwards. */
const READ_ONLY_TABLES = new Set(['base64.ts:VALUES', 'utf8.ts:CLASS', 'utf8.ts:TRANSITION', 'encoder.ts:EMPTY']);

const MUTABLE_CONSTRUCTORS = /^(Map|Set|WeakMap|WeakSet|ArrayBuffer|DataView|(Ui|I)nt(8|16|32)(Clamped)?Array|Float(32|64)Array|Big(Ui|I)nt64Array)$/;

function problems(file: string, source: string): string[] {
  const name = file.split('/').pop()!;
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const where = (node: ts.Node): string => `${name}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  for (const statement of sf.statements) {
    const list = ts.isVariableStatement(statement) ? statement.declarationList : null;
    if (!list) continue;
    const isLet = (list.flags & ts.NodeFlags.Let) !== 0;
    for (const declaration of list.declarations) {
      const init = declaration.initializer;
      if (!init) continue;
      const id = declaration.name.getText(sf);
      // RegExps anywhere in the initializer (outside functions, which run later).
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node)) return;
        if (ts.isRegularExpressionLiteral(node)) found.push(`${where(node)} ${id}: RegExp at module level`);
        if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
          found.push(`${where(node)} ${id}: RegExp at module level`);
        }
        ts.forEachChild(node, visit);
      };
      visit(init);
      // Mutable containers in what is stored: the value itself, `new X(...).fill(...)`,
      // and members of object and array literals (temporaries are fine).
      const stored = (node: ts.Expression): void => {
        if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node)) return stored(node.expression);
        if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'fill') {
          return stored(node.expression.expression);
        }
        if (ts.isObjectLiteralExpression(node)) {
          for (const p of node.properties) if (ts.isPropertyAssignment(p)) stored(p.initializer);
          return;
        }
        if (ts.isArrayLiteralExpression(node)) return node.elements.forEach(stored);
        if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && MUTABLE_CONSTRUCTORS.test(node.expression.text)) {
          if (!READ_ONLY_TABLES.has(`${name}:${id}`)) found.push(`${where(node)} ${id}: new ${node.expression.text} at module level (read-only after preload)`);
        }
      };
      stored(init);
      const startsAsFunction =
        ts.isArrowFunction(init) || ts.isFunctionExpression(init) || ts.isIdentifier(init) || ts.isPropertyAccessExpression(init);
      if (isLet && startsAsFunction) found.push(`${where(declaration)} ${id}: let starting as ${init.getText(sf)} (start it as null)`);
    }
  }
  return found;
}

/** The .ts files in a folder and (recursive) its subfolders. */
function tsFiles(dir: string, recursive: boolean): string[] {
  return readdirSync(dir, { recursive })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

const files = [...tsFiles(SRC, true), ...tsFiles(HOSTS, false), ...tsFiles(MODULES, true)];

describe('preload safety of module top levels', () => {
  it('finds the patterns it looks for (the check itself works)', () => {
    const bad = [
      'const A = /x/;',
      'const B = new Map();',
      'const C = new Uint8Array(4);',
      'let clock = Date.now;',
      'let f = () => 1;',
      'const D = { re: /y/ };',
      'const E = new Int8Array(8).fill(-1);',
      'const F = { cache: new Map() };',
    ].join('\n');
    expect(problems('/x/bad.ts', bad)).toHaveLength(8);
    const good = 'let clock: (() => number) | null = null;\nconst K = 3;\nfunction f() { return /z/.test("z") && new Map(); }\nlet n = 0;\nconst LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;';
    expect(problems('/x/good.ts', good)).toEqual([]);
  });

  it('checks every module the manifests preload', () => {
    const preloaded = [...moduleSources().values()];
    expect(preloaded.length).toBeGreaterThan(20);
    expect(preloaded.filter((file) => !files.includes(file))).toEqual([]);
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))(
    '%s',
    (_label, file) => {
      expect(problems(file, readFileSync(file, 'utf8'))).toEqual([]);
    },
  );
});
