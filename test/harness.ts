// A portable test registry: core cases register here and run unchanged under
// vitest (Node/V8) and inside the XS engine (test/xs). No host globals.

export interface CoreCase {
  readonly name: string;
  readonly run: () => void;
}

export const registry: CoreCase[] = [];

export function test(name: string, run: () => void): void {
  registry.push({ name, run });
}

export class AssertionError extends Error {}

function show(value: unknown): string {
  if (value instanceof Uint8Array) {
    let s = '';
    const n = value.length > 32 ? 32 : value.length;
    for (let i = 0; i < n; i++) s += (value[i] < 16 ? '0' : '') + value[i].toString(16);
    return `bytes[${value.length}] ${s}${value.length > n ? '...' : ''}`;
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '...' : value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function fail(message: string): never {
  throw new AssertionError(message);
}

export function ok(condition: unknown, message = 'expected a truthy value'): asserts condition {
  if (!condition) fail(message);
}

export function eq<T>(actual: T, expected: T, message = ''): void {
  if (actual !== expected && !(actual !== actual && expected !== expected)) {
    fail(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function bytesEq(actual: Uint8Array, expected: Uint8Array, message = ''): void {
  let same = actual.length === expected.length;
  for (let i = 0; same && i < actual.length; i++) same = actual[i] === expected[i];
  if (!same) fail(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
}

/** Deep equality for plain data (arrays, objects, primitives, byte arrays). */
export function deepEq(actual: unknown, expected: unknown, message = ''): void {
  if (!same(actual, expected)) {
    fail(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
  return false;
}

export function throws(fn: () => unknown, pattern?: RegExp, message = ''): void {
  try {
    fn();
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (pattern && !pattern.test(text)) {
      fail(`${message ? message + ': ' : ''}threw ${show(text)}, expected ${String(pattern)}`);
    }
    return;
  }
  fail(`${message ? message + ': ' : ''}expected an exception`);
}

/** Bytes from a string of hex digits, spaces ignored: hex('81 05 48 65'). */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  const out = new Uint8Array(digits.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.substr(i * 2, 2), 16);
  return out;
}

/** ASCII/Latin-1 bytes of a string (test convenience; the core has its own UTF-8 encoder). */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
