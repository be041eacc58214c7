// What the HTTP server answers to a GET, HEAD or POST, sans-IO: a static file from a
// StaticStore (gzip negotiation, ETag and 304) or a route's response, composed into an
// HttpResponseWriter. Each respond* function returns the status it composed, or throws
// when the store or the route failed (the caller reports it and answers 500).
//
// - Static files: a path ending in "/" means path + "index.html". If the client accepts
//   gzip (Accept-Encoding; "gzip", "x-gzip" or "*", q=0 excluded) and the store has
//   path + ".gz", that is sent with "Content-Encoding: gzip"; whenever path + ".gz"
//   exists the response has "Vary: Accept-Encoding". An entry that is gzip-encoded and
//   a client that does not accept gzip -> 406; no entry -> 404. Responses carry
//   Content-Type, Content-Length, the entry's ETag (quoted) and "Cache-Control:
//   no-cache"; "If-None-Match" with that ETag (weak comparison, or "*") -> 304 without
//   a body. HEAD: the same headers, no body. No Date header (no wall clock on the device).
//   A POST to a path that is no route (a file or nothing) -> 405 "Allow: GET, HEAD"; its
//   body was read by then, so the connection stays open as after a 404.
// - Routes see GET, HEAD and POST (request.body: the POST's body, a view valid only
//   during the call; see HttpRequest.body); one that does not take a method answers 405
//   itself (methodNotAllowed). "Cache-Control: no-store" unless the route sets
//   Cache-Control. Status outside 200-599, header names that are not tokens, values with
//   control characters, Content-Length / Transfer-Encoding / Connection headers, or a
//   head over the buffer: an error (500). A Uint8Array body is sent from the route's
//   array (not copied), unless it is a view of request.body (copied: the head buffer
//   holding it takes the response head).
// - Upgrades: "Upgrade: websocket" on a GET at the WebSocket path is handed off; on
//   another path, or without an endpoint -> 404; HTTP/1.0 or HEAD -> 400 (a POST one
//   never comes here: the reader refuses it with 400).

import { headerValue, hostName, isToken } from './head';
import type { HttpRequest, RequestVerdict } from './request-reader';
import type { HttpResponseWriter } from './response-writer';
import type { StaticEntry, StaticStore } from './static-store';
import { encodeUtf8 } from '../bytes/utf8';

export interface RouteResponse {
  /** 200-599. Default 200. */
  status?: number;
  /** Default "text/plain; charset=utf-8". */
  contentType?: string;
  /** A string is sent as UTF-8; a Uint8Array is sent as is (not copied). */
  body: string | Uint8Array;
  /** Extra header fields (not Content-Length, Transfer-Encoding or Connection). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A dynamic endpoint: called for GET, HEAD (only the response's headers are sent) and,
 * when the server takes bodies (HttpServerOptions.maxBodySize), POST with request.body.
 */
export type RouteHandler = (request: HttpRequest) => RouteResponse;

/** A route's 405 for a method it does not take; allow: the methods it does, e.g. "GET, HEAD". */
export function methodNotAllowed(allow: string): RouteResponse {
  return { status: 405, body: '405 Method Not Allowed\n', headers: { Allow: allow } };
}

// Created on first use, not at module load (a preloaded RegExp crashed XS's exec).
let qvaluePattern: RegExp | null = null;

/** True when gzip is acceptable by an Accept-Encoding value (RFC 7231 5.3.4). */
export function acceptsGzip(value: string | undefined): boolean {
  if (value === undefined) return false;
  let gzip = -1;
  let star = -1;
  const items = value.split(',');
  for (let i = 0; i < items.length; i++) {
    const params = items[i].split(';');
    const coding = params[0].trim().toLowerCase();
    if (!coding) continue;
    let q = 1;
    for (let k = 1; k < params.length; k++) {
      const p = params[k].trim();
      if (p.length >= 2 && (p[0] === 'q' || p[0] === 'Q') && p[1] === '=') {
        const text = p.slice(2);
        // compiled only when a weight is given (browsers send none): a RegExp costs heap
        const qvalue = (qvaluePattern ??= /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/);
        q = qvalue.test(text) ? Number(text) : 0; // an invalid weight is not an acceptance
      }
    }
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip, q);
    else if (coding === '*') star = Math.max(star, q);
  }
  return gzip >= 0 ? gzip > 0 : star > 0;
}

/** True when an If-None-Match value matches etag (unquoted) by weak comparison, or is "*". */
export function etagMatches(value: string, etag: string): boolean {
  const all = value.trim();
  if (all === '*') return true;
  const items = all.split(',');
  for (let i = 0; i < items.length; i++) {
    let tag = items[i].trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag.length >= 2 && tag[0] === '"' && tag[tag.length - 1] === '"' && tag.slice(1, -1) === etag) return true;
  }
  return false;
}

/** respond(): hand the connection to the WebSocket server (nothing was composed). */
export const HAND_OFF = -1;

/** What a server answers from: its static files, its routes, the path of its WebSocket endpoint. */
export interface Site {
  /** The host names this server answers for (see HttpServerOptions.allowHost); any when absent. */
  readonly allowHost?: (name: string) => boolean;
  readonly store?: StaticStore;
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  readonly websocket?: { readonly path: string };
}

/**
 * Compose the answer to a request (a verdict without an error): 421 for a Host the site
 * does not answer for (DNS rebinding: a page from another origin whose name now points
 * here; closes), a refused upgrade (404 at another path or without an endpoint, 400 for
 * HTTP/1.0 or anything but a GET, both closing), a route by its exact decoded path, a
 * static file, or 405 for a POST that is no route's. Returns the status, or HAND_OFF for
 * an upgrade at the WebSocket path. Throws when a route or the store fails.
 */
export function respond(writer: HttpResponseWriter, verdict: RequestVerdict, site: Site): number {
  const request = verdict.request!;
  const head = request.method === 'HEAD';
  const path = request.path;
  writer.closing = verdict.close;
  if (site.allowHost) {
    const name = hostName(headerValue(request.headers, 'host'));
    if (name === null || !site.allowHost(name)) {
      writer.closing = true;
      writer.error(421, head);
      return 421;
    }
  }
  if (verdict.upgrade) {
    const status = !site.websocket || path !== site.websocket.path ? 404 : request.version === 'HTTP/1.0' || request.method !== 'GET' ? 400 : HAND_OFF;
    if (status === HAND_OFF) return status;
    writer.closing = true;
    writer.error(status, head);
    return status;
  }
  const routes = site.routes;
  if (routes && Object.prototype.hasOwnProperty.call(routes, path)) return respondRoute(writer, routes[path], request, head);
  if (request.method === 'POST') {
    // The body is read: the connection may go on (closing only as the request asked).
    writer.error(405, false);
    return 405;
  }
  return respondStatic(writer, site.store, request, head);
}

/** Compose the answer for a static file (200, 304, 404 or 406); head: a HEAD request. */
export function respondStatic(writer: HttpResponseWriter, store: StaticStore | undefined, request: HttpRequest, head: boolean): number {
  let path = request.path;
  if (path.endsWith('/')) path += 'index.html';
  let entry: StaticEntry | null = store ? store.get(path) : null;
  let variant: StaticEntry | null = store ? store.get(path + '.gz') : null;
  const gzipOk = acceptsGzip(headerValue(request.headers, 'accept-encoding'));
  if (variant && variant.encoding !== 'gzip') variant = null;
  if (variant && gzipOk) entry = variant;
  if (!entry || (entry.encoding === 'gzip' && !gzipOk)) {
    const status = entry || variant ? 406 : 404;
    writer.error(status, head);
    return status;
  }
  const inm = headerValue(request.headers, 'if-none-match');
  const status = inm !== undefined && etagMatches(inm, entry.etag) ? 304 : 200;
  writer.start(status);
  if (status === 200) {
    writer.field('Content-Type', entry.contentType);
    writer.field('Content-Length', String(entry.size));
    if (entry.encoding === 'gzip') writer.field('Content-Encoding', 'gzip');
  }
  if (variant) writer.field('Vary', 'Accept-Encoding');
  writer.field('ETag', '"' + entry.etag + '"');
  writer.field('Cache-Control', 'no-cache');
  writer.endHead();
  if (status === 200 && !head) writer.bodyFromEntry(entry);
  return status;
}

/** Compose a route's answer; throws for a route exception or a malformed response. */
export function respondRoute(writer: HttpResponseWriter, handler: RouteHandler, request: HttpRequest, head: boolean): number {
  const response = handler(request);
  const status = response.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new Error(`route ${request.path}: invalid status ${String(status)}`);
  const body = response.body;
  let bytes = typeof body === 'string' ? encodeUtf8(body) : body;
  if (!(bytes instanceof Uint8Array)) throw new Error(`route ${request.path}: body must be a string or a Uint8Array`);
  // A view of the request's body lives in the head buffer the response head is about to take.
  if (request.body && bytes.buffer === request.body.buffer) bytes = bytes.slice();
  const noBody = status === 204 || status === 304;
  writer.start(status);
  if (!noBody) {
    writer.field('Content-Type', response.contentType ?? 'text/plain; charset=utf-8');
    writer.field('Content-Length', String(bytes.length));
  }
  let cacheControl = false;
  const headers = response.headers;
  if (headers) {
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (!isToken(name) || lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') {
        throw new Error(`route ${request.path}: header ${JSON.stringify(name)} not allowed`);
      }
      if (lower === 'cache-control') cacheControl = true;
      writer.field(name, String(headers[name]));
    }
  }
  if (!cacheControl) writer.field('Cache-Control', 'no-store');
  writer.endHead();
  if (!head && !noBody && bytes.length > 0) writer.bodyFromBytes(bytes);
  return status;
}
