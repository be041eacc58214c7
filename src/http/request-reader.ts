// HttpRequestReader: the server's side of HTTP/1.1 request heads, sans-IO. Bytes and
// the clock go in; out comes the index where the head ended and then one verdict: a
// request to answer, or the error status to send before closing. No sockets, no
// timers: net/http-connection.ts feeds it and acts on the verdict.
//
// The head is copied into a buffer given at construction (maxHeaderSize bytes, shared
// with the response writer once the head is parsed into strings), scanned once, byte by
// byte, for the blank line, with the request-line and head size limits applied as the
// bytes arrive. The path is percent-decoded in place in that buffer.
//
// Verdicts (the decisions of net/http-server.ts, in the order they are taken):
// - request line over maxRequestLine -> 414; head over the buffer or more than
//   maxHeaders fields -> 431 (414/431 by size: the client may still be sending, linger);
// - unparsable head -> 400, or 505 when the request line names a version >= 2;
//   a version other than 1.x -> 505; HTTP/1.1 without exactly one Host -> 400;
// - a method other than GET/HEAD -> 405 (linger when it announces a body);
// - a malformed or conflicting Content-Length, or one with Transfer-Encoding -> 400;
//   any other Transfer-Encoding or Content-Length > 0 -> 413 (linger);
// - "#" in the target, a bad or unsafe path (see decodePath) -> 400.
// Every error verdict closes the connection.

import { hasToken, headerValue, latin1Text, parseRequestHead } from './head';
import type { HttpRequestHead } from './head';
import { decodeUtf8, isValidUtf8 } from '../bytes/utf8';

export interface HttpRequest extends HttpRequestHead {
  /** Percent-decoded path without the query, e.g. "/index.html". */
  path: string;
  /** The raw query after "?" ('' when none). */
  query: string;
}

/** The limits a reader applies (HttpServer carries them). */
export interface RequestLimits {
  /** Longest request line in bytes, without CRLF (414 beyond). */
  readonly maxRequestLine: number;
  /** Most header fields (431 beyond). */
  readonly maxHeaders: number;
}

/** What a complete head asks for. */
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

/** push() result: the head is not complete yet. */
export const HEAD_MORE = -1;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const PERCENT = 0x25;
const DOT = 0x2e;
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;

// Scanner states: the bytes matched so far of LF [CR] LF; then what ended the scan.
const IN_LINE = 0;
const AFTER_LF = 1;
const AFTER_LF_CR = 2;
const COMPLETE = 3;
const LINE_TOO_LONG = 4;
const HEAD_TOO_LARGE = 5;

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
  private length = 0;
  private state = IN_LINE;
  private lineEnd = -1;
  /** When the head's first byte arrived (the clock given to push). */
  private started = 0;

  /**
   * buf: the head buffer (its length is the largest head accepted, CRLFCRLF included).
   * The limits are given to each call rather than kept: one field less per connection.
   */
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** Head bytes have arrived and no verdict was taken yet. */
  get inProgress(): boolean {
    return this.length > 0 && this.state < COMPLETE;
  }

  /** When the head in progress began (ms, the clock given to push). */
  get startedAt(): number {
    return this.started;
  }

  /** Forget the last head: read the next one. */
  reset(): void {
    this.length = 0;
    this.state = IN_LINE;
    this.lineEnd = -1;
  }

  /**
   * Feed data[start, end) at time now, under `limits`. Returns HEAD_MORE when every byte was taken and
   * the head goes on, else the index just past what ended it (the blank line; or `end`
   * when the head broke a size limit, the rest being dropped): then verdict() tells.
   * Empty lines before a request line are skipped (RFC 7230 3.5) and start no clock.
   */
  push(data: Uint8Array, start: number, end: number, now: number, limits: RequestLimits): number {
    if (this.state >= COMPLETE) return start;
    const buf = this.buf;
    const cap = buf.length;
    const maxLine = limits.maxRequestLine;
    const wasEmpty = this.length === 0;
    let len = this.length;
    let state = this.state;
    let lineEnd = this.lineEnd;
    let result = HEAD_MORE;
    for (let i = start; i < end; i++) {
      const byte = data[i];
      if (len === 0 && (byte === CR || byte === LF)) continue;
      if (len === cap) {
        state = lineEnd < 0 ? LINE_TOO_LONG : HEAD_TOO_LARGE;
        result = end;
        break;
      }
      buf[len++] = byte;
      if (byte === LF) {
        if (lineEnd < 0) {
          lineEnd = len - 1;
          if (lineEnd - (lineEnd > 0 && buf[lineEnd - 1] === CR ? 1 : 0) > maxLine) {
            state = LINE_TOO_LONG;
            result = end;
            break;
          }
        }
        if (state !== IN_LINE) {
          state = COMPLETE;
          result = i + 1;
          break;
        }
        state = AFTER_LF;
      } else {
        if (lineEnd < 0 && len - (byte === CR ? 1 : 0) > maxLine) {
          state = LINE_TOO_LONG;
          result = end;
          break;
        }
        state = byte === CR && state === AFTER_LF ? AFTER_LF_CR : IN_LINE;
      }
    }
    if (wasEmpty && len > 0) this.started = now;
    this.length = len;
    this.state = state;
    this.lineEnd = lineEnd;
    return result;
  }

  /** The verdict on the head push() ended. Call once per head, then reset(). */
  verdict(limits: RequestLimits): RequestVerdict {
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
      const first = text.slice(0, this.lineEnd >= 0 ? this.lineEnd : text.length);
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
    if (method !== 'GET' && method !== 'HEAD') {
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
    if (headers.has('transfer-encoding')) return lengths ? refusal(400, method, target) : refusal(413, method, target, true);
    if (length > 0) return refusal(413, method, target, true);
    if (target.indexOf('#') >= 0) return refusal(400, method, target);
    const path = this.decodePath(target);
    if (path === null) return refusal(400, method, target);
    const q = target.indexOf('?');
    const request: HttpRequest = { method, target, version, headers, path, query: q < 0 ? '' : target.slice(q + 1) };
    return {
      request,
      status: 0,
      method,
      target,
      linger: false,
      close: http10 || hasToken(headerValue(headers, 'connection'), 'close'),
      upgrade: hasToken(headerValue(headers, 'upgrade'), 'websocket'),
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
