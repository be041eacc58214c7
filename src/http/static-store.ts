// What HttpServer serves static files from, and a small in-memory store.
//
// A StaticStore maps a decoded URL path ("/index.html") to a StaticEntry, or null. The
// server never builds file-system paths: it only asks the store for exact keys, so a
// store that is a plain map cannot be escaped by "..", encoded dots or backslashes (the
// server refuses those anyway).
//
// On the device an entry's body(start, end) returns `resource.slice(start, end, false)`:
// a view of flash, no copy into the XS heap. The server asks only for pieces it can
// write at once (at most onWritable's count), so nothing larger is ever materialised.
//
// Pre-compressed files: an entry stored under `path + '.gz'` with encoding 'gzip' and
// the content type of the uncompressed file is served instead of `path` to clients
// that accept gzip (MemoryStore does this for keys ending in '.gz').

import { encodeUtf8 } from '../bytes/utf8';

export interface StaticEntry {
  /** Bytes in the body (of the stored representation, compressed or not). */
  size: number;
  /** Content-Type of the (uncompressed) content, e.g. "text/html; charset=utf-8". */
  contentType: string;
  /** Opaque validator without quotes (no '"', no control characters); sent quoted as ETag. */
  etag: string;
  /** 'gzip': the body is gzip-compressed; sent with Content-Encoding: gzip. */
  encoding?: 'gzip';
  /** Bytes [start, end) of the body, exactly end - start of them (a view, not a copy, where possible). */
  body(start: number, end: number): ArrayBuffer | ArrayBufferView;
}

export interface StaticStore {
  /** The entry stored under an exact path (starting with '/'), or null. */
  get(path: string): StaticEntry | null;
}

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  ico: 'image/x-icon',
  webp: 'image/webp',
  wasm: 'application/wasm',
  woff2: 'font/woff2',
  map: 'application/json',
});

/** Content-Type for a path by its extension (a trailing ".gz" is looked through); application/octet-stream if unknown. */
export function contentTypeFor(path: string): string {
  let name = path.slice(path.lastIndexOf('/') + 1);
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  const dot = name.lastIndexOf('.');
  const type = dot >= 0 ? TYPES[name.slice(dot + 1).toLowerCase()] : undefined;
  return type ?? 'application/octet-stream';
}

/** A strong validator for bytes: FNV-1a (32 bit) and the size, in hex. */
export function etagOf(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16) + '-' + bytes.length.toString(16);
}

export interface MemoryEntryOptions {
  /** Default: contentTypeFor(path). */
  contentType?: string;
  /** Default: etagOf(bytes). */
  etag?: string;
  /** Default: 'gzip' for paths ending in ".gz". */
  encoding?: 'gzip' | null;
}

/** A StaticStore over bytes in memory (tests, the simulator, small generated files). */
export class MemoryStore implements StaticStore {
  private readonly entries = new Map<string, StaticEntry>();

  /** files: path -> content (strings are stored as UTF-8). */
  constructor(files: Readonly<Record<string, string | Uint8Array>> = {}) {
    for (const path of Object.keys(files)) this.set(path, files[path]);
  }

  set(path: string, content: string | Uint8Array, options: MemoryEntryOptions = {}): this {
    if (path[0] !== '/') throw new Error(`store paths start with '/': ${path}`);
    const bytes = typeof content === 'string' ? encodeUtf8(content) : content;
    const entry: StaticEntry = {
      size: bytes.length,
      contentType: options.contentType ?? contentTypeFor(path),
      etag: options.etag ?? etagOf(bytes),
      body: (start, end) => bytes.subarray(start, end),
    };
    const encoding = options.encoding === undefined ? (path.endsWith('.gz') ? 'gzip' : null) : options.encoding;
    if (encoding) entry.encoding = encoding;
    this.entries.set(path, entry);
    return this;
  }

  delete(path: string): boolean {
    return this.entries.delete(path);
  }

  get(path: string): StaticEntry | null {
    return this.entries.get(path) ?? null;
  }
}
