// HttpRequestReader: the server's side of HTTP/1.1 requests, sans-IO. Bytes and the
// clock go in; out comes the index where the request ended and then one verdict: a
// request to answer, or the error status to send before closing. No sockets, no
// timers: net/http-connection.ts feeds it and acts on the verdict.
//
// The head is copied into a buffer given at construction (maxHeaderSize bytes, shared
// with the response writer once the head is parsed into strings), scanned once, byte by
// byte, for the blank line, with the request-line and head size limits applied as the
// bytes arrive. The path is percent-decoded in place in that buffer. A POST's body
// (Content-Length bytes, at most limits.maxBodySize, which is at most the buffer's
// length) is then copied into the same buffer from its start: the head is strings by
// then, and the response is composed there only after the route has seen the body, so a
// body costs no memory of its own. The request's clock (startedAt, inProgress) runs from
// the head's first byte to the body's last.
//
// Verdicts (the decisions of net/http-server.ts, in the order they are taken):
// - request line over maxRequestLine -> 414; head over the buffer or more than
//   maxHeaders fields -> 431 (414/431 by size: the client may still be sending, linger);
// - unparsable head -> 400, or 505 when the request line names a version >= 2;
//   a version other than 1.x -> 505; HTTP/1.1 without exactly one Host -> 400;
// - a method other than GET, HEAD and (when maxBodySize > 0) POST -> 405 (linger when
//   it announces a body);
// - a malformed or conflicting Content-Length, or one with Transfer-Encoding -> 400;
// - GET/HEAD: any other Transfer-Encoding or Content-Length > 0 -> 413 (linger);
// - POST: Transfer-Encoding -> 411 (linger); Content-Length over maxBodySize -> 413 at
//   once, the body unread (linger); no Content-Length: an empty body (RFC 9112 6.3);
// - a POST with "Upgrade: websocket" -> 400 (linger when a body is announced);
// - "#" in the target, a bad or unsafe path (see decodePath) -> 400 (linger when a body
//   is announced).
// Every error verdict closes the connection. "Expect: 100-continue" is ignored (no
// interim 100 is sent): a client sends the body after its own wait (curl: 1 s), and
// one over the limit gets its 413 at once, from the head alone.

import { hasToken, headerValue, latin1Text, parseRequestHead } from './head';
import type { HttpRequestHead } from './head';
import { decodeUtf8, isValidUtf8 } from '../bytes/utf8';

export interface HttpRequest extends HttpRequestHead {
  /** Percent-decoded path without the query, e.g. "/index.html". */
  path: string;
  /** The raw query after "?" ('' when none). */
  query: string;
  /**
   * A POST's body, empty when it has none; undefined for GET and HEAD. A view of the
   * connection's head buffer, valid only during the route's call: the response is
   * composed into the same buffer afterwards (copy what you keep, e.g. decode it).
   */
  body?: Uint8Array;
}

/** The limits a reader applies (HttpServer carries them). */
export interface RequestLimits {
  /** Longest request line in bytes, without CRLF (414 beyond). */
  readonly maxRequestLine: number;
  /** Most header fields (431 beyond). */
  readonly maxHeaders: number;
  /**
   * Largest POST body in bytes (413 beyond; a body is read into the head buffer, so never
   * more than its length). Absent or 0: POST is not understood (405), as other methods.
   */
  readonly maxBodySize?: number;
}

/** What a complete request asks for. */
export interface RequestVerdict {
  /** The request to answer; null when `status` is an error to send (and close). */
  readonly request: HttpRequest | null;
  /** 0 with a request, else the error status. */
  readonly status: number;
  /** For the log: the method and target as far as they were understood ('' if not). */
  readonly method: string;
  readonly target: string;
  /** The client may still be sending (a body, an oversized head): read and drop it before closing. */
  readonly linger: boolean;
  /** The response must close the connection (HTTP/1.0, "Connection: close", every error). */
  readonly close: boolean;
  /** GET with "Upgrade: websocket". */
  readonly upgrade: boolean;
}

/** push() result: the request (its head, then a POST's body) is not complete yet. */
export const HEAD_MORE = -1;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const PERCENT = 0x25;
const DOT = 0x2e;
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;

// Scanner states: in the request line; then the bytes matched so far of LF [CR] LF; a
// POST's body being copied; then what ended the request. (The request line has a state
// of its own rather than a field for where it ended: the heap counts slots.)
const REQUEST_LINE = 0;
const IN_LINE = 1;
const AFTER_LF = 2;
const AFTER_LF_CR = 3;
const IN_BODY = 4;
const COMPLETE = 5;
const LINE_TOO_LONG = 6;
const HEAD_TOO_LARGE = 7;

interface ReaderPatterns {
  readonly digits: RegExp;
  /** Any request line "METHOD TARGET HTTP/<digits>[.<digits>]" (to tell 505 from 400). */
  readonly versionedLine: RegExp;
}

// Created on first use, not at module load (a preloaded RegExp crashed XS's exec).
let patterns: ReaderPatterns | null = null;

function readerPatterns(): ReaderPatterns {
  patterns ??= {
    digits: /^[0-9]+$/,
    versionedLine: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/([0-9]+)(?:\.[0-9]+)?$/,
  };
  return patterns;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function refusal(status: number, method: string, target: string, linger = false): RequestVerdict {
  return { request: null, status, method, target, linger, close: true, upgrade: false };
}

export class HttpRequestReader {
  private readonly buf: Uint8Array;
  /** Bytes of the head in buf; in IN_BODY, bytes of the body. */
  private length = 0;
  private state = REQUEST_LINE;
  /** When the head's first byte arrived (the clock given to push). */
  private started = 0;
  /**
   * The verdict once the head is parsed, until verdict() takes it; in IN_BODY its
   * request.body (the view the body fills) tells how many bytes are expected, and
   * `length` how many came: no other field for the body.
   */
  private outcome: RequestVerdict | null = null;

  /**
   * buf: the head buffer (its length is the largest head accepted, CRLFCRLF included).
   * The limits are given to each call rather than kept: one field less per connection.
   */
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** Head bytes have arrived, or a body is being read, and no verdict is due yet. */
  get inProgress(): boolean {
    return this.state === IN_BODY || (this.length > 0 && this.state < IN_BODY);
  }

  /** When the request in progress began: its head's first byte (ms, the clock given to push). */
  get startedAt(): number {
    return this.started;
  }

  /** Forget the last request: read the next one. */
  reset(): void {
    this.length = 0;
    this.state = REQUEST_LINE;
    this.outcome = null;
  }

  /**
   * Feed data[start, end) at time now, under `limits`. Returns HEAD_MORE when every byte
   * was taken and the request goes on (its head, or the body a POST announced), else the
   * index just past what ended it (the blank line, or the body's last byte; or `end` when
   * the head broke a size limit, the rest being dropped): then verdict() tells. Bytes
   * from there on (a pipelined request) are not taken. Empty lines before a request line
   * are skipped (RFC 7230 3.5) and start no clock.
   */
  push(data: Uint8Array, start: number, end: number, now: number, limits: RequestLimits): number {
    if (this.state === IN_BODY) return this.pushBody(data, start, end);
    if (this.state >= COMPLETE) return start;
    const buf = this.buf;
    const cap = buf.length;
    const maxLine = limits.maxRequestLine;
    const wasEmpty = this.length === 0;
    let len = this.length;
    let state = this.state;
    let result = HEAD_MORE;
    for (let i = start; i < end; i++) {
      const byte = data[i];
      if (len === 0 && (byte === CR || byte === LF)) continue;
      if (len === cap) {
        state = state === REQUEST_LINE ? LINE_TOO_LONG : HEAD_TOO_LARGE;
        result = end;
        break;
      }
      buf[len++] = byte;
      if (byte === LF) {
        if (state === REQUEST_LINE) {
          const lineEnd = len - 1;
          if (lineEnd - (lineEnd > 0 && buf[lineEnd - 1] === CR ? 1 : 0) > maxLine) {
            state = LINE_TOO_LONG;
            result = end;
            break;
          }
        } else if (state !== IN_LINE) {
          state = COMPLETE;
          result = i + 1;
          break;
        }
        state = AFTER_LF;
      } else if (state === REQUEST_LINE) {
        if (len - (byte === CR ? 1 : 0) > maxLine) {
          state = LINE_TOO_LONG;
          result = end;
          break;
        }
      } else {
        state = byte === CR && state === AFTER_LF ? AFTER_LF_CR : IN_LINE;
      }
    }
    if (wasEmpty && len > 0) this.started = now;
    this.length = len;
    this.state = state;
    if (result === HEAD_MORE) return result;
    const verdict = this.judge(limits);
    this.outcome = verdict;
    const body = verdict.request?.body;
    if (!body || body.length === 0) return result;
    // The head is strings now: its buffer takes the body.
    this.state = IN_BODY;
    this.length = 0;
    return this.pushBody(data, result, end);
  }

  /**
   * The verdict on the request push() ended (its body read), once: the reader lets go of
   * it (its strings need not outlive the answer). Then reset() for the next request.
   */
  verdict(): RequestVerdict {
    const verdict = this.outcome;
    if (!verdict || this.state === IN_BODY) throw new Error('no verdict: the request is not complete, or its verdict was taken');
    this.outcome = null;
    return verdict;
  }

  /** Copy body bytes from data[start, end) until the announced length; as push(). */
  private pushBody(data: Uint8Array, start: number, end: number): number {
    const buf = this.buf;
    const want = this.outcome!.request!.body!.length;
    let len = this.length;
    let i = start;
    while (i < end && len < want) buf[len++] = data[i++];
    this.length = len;
    if (len < want) return HEAD_MORE;
    this.state = COMPLETE;
    return i;
  }

  /** Judge a head push() ended (or a size limit it broke). */
  private judge(limits: RequestLimits): RequestVerdict {
    if (this.state === LINE_TOO_LONG) return refusal(414, '', '', true);
    if (this.state === HEAD_TOO_LARGE) return refusal(431, '', '', true);
    const buf = this.buf;
    // The text without the final blank line (as HttpHeadReader.text()).
    let end = this.length - 1;
    if (buf[end - 1] === CR) end--;
    end--;
    if (end > 0 && buf[end - 1] === CR) end--;
    const text = latin1Text(buf, 0, end);
    const head = parseRequestHead(text);
    if (!head) {
      const lf = text.indexOf('\n');
      const first = lf < 0 ? text : text.slice(0, lf);
      const line = first.endsWith('\r') ? first.slice(0, -1) : first;
      const m = readerPatterns().versionedLine.exec(line);
      return refusal(m && Number(m[1]) >= 2 ? 505 : 400, '', '');
    }
    const { method, target, headers, version } = head;
    let fields = 0;
    for (const values of headers.values()) fields += values.length;
    if (fields > limits.maxHeaders) return refusal(431, method, target);
    if (Number(version.charAt(5)) !== 1) return refusal(505, method, target);
    const http10 = version === 'HTTP/1.0';
    if (!http10) {
      const host = headers.get('host');
      if (!host || host.length !== 1) return refusal(400, method, target);
    }
    const maxBody = limits.maxBodySize ?? 0;
    const post = method === 'POST' && maxBody > 0;
    if (method !== 'GET' && method !== 'HEAD' && !post) {
      return refusal(405, method, target, headers.has('content-length') || headers.has('transfer-encoding'));
    }
    const lengths = headers.get('content-length');
    let length = 0;
    if (lengths) {
      for (let i = 0; i < lengths.length; i++) {
        if (!readerPatterns().digits.test(lengths[i]) || lengths[i] !== lengths[0]) return refusal(400, method, target);
      }
      length = Number(lengths[0]);
    }
    if (headers.has('transfer-encoding')) return lengths ? refusal(400, method, target) : refusal(post ? 411 : 413, method, target, true);
    if (post ? length > maxBody || length > this.buf.length : length > 0) return refusal(413, method, target, true);
    const unread = length > 0; // a POST's body still to come: drain it before closing
    const upgrade = hasToken(headerValue(headers, 'upgrade'), 'websocket');
    if (upgrade && post) return refusal(400, method, target, unread); // an upgrade is a GET (RFC 6455 4.1)
    if (target.indexOf('#') >= 0) return refusal(400, method, target, unread);
    const path = this.decodePath(target);
    if (path === null) return refusal(400, method, target, unread);
    const q = target.indexOf('?');
    const request: HttpRequest = { method, target, version, headers, path, query: q < 0 ? '' : target.slice(q + 1) };
    if (post) request.body = this.buf.subarray(0, length);
    return {
      request,
      status: 0,
      method,
      target,
      linger: false,
      close: http10 || hasToken(headerValue(headers, 'connection'), 'close'),
      upgrade,
    };
  }

  /**
   * Percent-decode the path of target, in place in buf where the request line's bytes
   * are. Null when malformed or unsafe: a bad escape, control characters, backslashes
   * (raw or %5C), "." or ".." segments however spelled, or invalid UTF-8.
   */
  private decodePath(target: string): string | null {
    const buf = this.buf;
    // The request line starts at buf[0]: METHOD SP TARGET SP VERSION (validated).
    let ts = 0;
    while (buf[ts] !== SP) ts++;
    ts++;
    const te = ts + target.length;
    let start = ts;
    if (buf[ts] !== SLASH) {
      // absolute-form: http://authority/path (authority ignored: one host here).
      const scheme = target.slice(0, 8).toLowerCase();
      const skip = scheme.startsWith('http://') ? 7 : scheme.startsWith('https://') ? 8 : -1;
      if (skip < 0) return null;
      const slash = target.indexOf('/', skip);
      if (slash < 0) return '/';
      start = ts + slash;
    }
    let w = ts;
    for (let i = start; i < te; i++) {
      let byte = buf[i];
      if (byte === QUESTION) break;
      if (byte === PERCENT) {
        if (i + 2 >= te) return null;
        const high = hexValue(buf[i + 1]);
        const low = hexValue(buf[i + 2]);
        if (high < 0 || low < 0) return null;
        byte = (high << 4) | low;
        i += 2;
      }
      if (byte < 0x20 || byte === 0x7f || byte === BACKSLASH) return null;
      buf[w++] = byte;
    }
    if (w === ts || buf[ts] !== SLASH) return null;
    let segment = ts + 1;
    for (let i = ts + 1; i <= w; i++) {
      if (i === w || buf[i] === SLASH) {
        const n = i - segment;
        if ((n === 1 && buf[segment] === DOT) || (n === 2 && buf[segment] === DOT && buf[segment + 1] === DOT)) return null;
        segment = i + 1;
      }
    }
    if (!isValidUtf8(buf, ts, w)) return null;
    return decodeUtf8(buf, ts, w);
  }
}
