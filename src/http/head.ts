// HTTP/1.1 message heads (RFC 7230 section 3) over bytes: an incremental reader that
// finds the end of the head without rescanning, and strict parsers for the text.
//
// Line endings: CRLF is expected; a bare LF is also accepted as a line terminator
// (RFC 7230 section 3.5 allows this). A CR anywhere else is malformed.

const LF = 0x0a;
const CR = 0x0d;
// Char codes per String.fromCharCode.apply call: XS pushes every argument onto its JS
// stack, which is only 384-512 slots on a device (a 400-byte head overflowed it).
const TEXT_CHUNK = 64;

// Reader states for the end-of-head scan: the bytes matched so far of LF [CR] LF.
const IN_LINE = 0;
const AFTER_LF = 1; // a line just ended; a blank line now ends the head
const AFTER_LF_CR = 2;
const DONE = 3;
const TOO_LARGE = 4;

/** Collects one message head into a buffer of fixed size, allocated once. */
export class HttpHeadReader {
  private readonly buffer: Uint8Array;
  private length = 0;
  private state = IN_LINE;
  private head: string | null = null;

  /** maxSize: the largest head accepted, counting the final CRLFCRLF. */
  constructor(maxSize: number) {
    this.buffer = new Uint8Array(maxSize);
  }

  /**
   * Feed data[start, end). Returns the index in data just past the blank line once
   * the head is complete, -1 when more bytes are needed, -2 when the head is larger
   * than maxSize (answer 431). Bytes from the returned index on are not consumed.
   * After completion push returns start (consumes nothing); after -2 it keeps
   * returning -2. Both last until reset().
   */
  push(data: Uint8Array, start: number, end: number): number {
    let state = this.state;
    if (state === DONE) return start;
    if (state === TOO_LARGE) return -2;
    const buffer = this.buffer;
    let length = this.length;
    for (let i = start; i < end; i++) {
      if (length === buffer.length) {
        this.state = TOO_LARGE;
        return -2;
      }
      const byte = data[i];
      buffer[length++] = byte;
      if (byte === LF) {
        if (state !== IN_LINE) {
          this.state = DONE;
          this.length = length;
          return i + 1;
        }
        state = AFTER_LF;
      } else if (byte === CR && state === AFTER_LF) state = AFTER_LF_CR;
      else state = IN_LINE;
    }
    this.state = state;
    this.length = length;
    return -1;
  }

  /** The head as latin1 text without its final blank line; '' until push returned >= 0. */
  text(): string {
    if (this.state !== DONE) return '';
    if (this.head === null) {
      const buffer = this.buffer;
      // Drop the terminator: LF [CR] LF, and the CR before the first LF if present.
      let end = this.length - 1;
      if (buffer[end - 1] === CR) end--;
      end--;
      if (end > 0 && buffer[end - 1] === CR) end--;
      this.head = latin1Text(buffer, 0, end);
    }
    return this.head;
  }

  reset(): void {
    this.length = 0;
    this.state = IN_LINE;
    this.head = null;
  }
}

/** Latin-1 text of bytes (each byte one char). */
export function latin1Text(data: Uint8Array, start = 0, end = data.length): string {
  let out = '';
  const units: number[] = [];
  for (let i = start; i < end; i++) {
    units.push(data[i]);
    if (units.length === TEXT_CHUNK) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  if (units.length) out += String.fromCharCode.apply(null, units);
  return out;
}

/** Bytes of an ASCII/latin1 string, for writing heads to a socket. Chars above U+00FF become '?'. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c > 0xff ? 0x3f : c;
  }
  return out;
}

/** Header fields by lower-cased name; each name's values in arrival order (trimmed). */
export interface HttpHeaders extends ReadonlyMap<string, readonly string[]> {}

export interface HttpRequestHead {
  method: string;
  target: string;
  /** As sent, e.g. "HTTP/1.1". */
  version: string;
  headers: HttpHeaders;
}

export interface HttpResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HttpHeaders;
}

interface HeadPatterns {
  readonly token: RegExp;
  readonly requestLine: RegExp;
  readonly statusLine: RegExp;
  /** Field values and reason phrases: HTAB, SP, VCHAR and obs-text (0x80-0xFF); no other controls. */
  readonly fieldText: RegExp;
  /** A Host header value: a reg-name or IPv4 address, or an [IPv6] literal, then an optional :port. */
  readonly host: RegExp;
}

// Created on first use, never at module load: Moddable preloads modules into flash, and
// XS (SDK 8.2.3) crashes in RegExp exec on a preloaded RegExp given a ~1.2 KB input.
let patterns: HeadPatterns | null = null;

function headPatterns(): HeadPatterns {
  patterns ??= {
    token: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
    requestLine: /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) (HTTP\/[0-9]\.[0-9])$/,
    statusLine: /^(HTTP\/[0-9]\.[0-9]) ([1-9][0-9][0-9])(?: (.*))?$/,
    fieldText: /^[\t\x20-\x7e\x80-\xff]*$/,
    host: /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?)\.?(?::[0-9]*)?$/,
  };
  return patterns;
}

/** True when text is an RFC 7230 token (method, header name, subprotocol). */
export function isToken(text: string): boolean {
  return headPatterns().token.test(text);
}

/**
 * Split a head into lines at LF, dropping the CR of each CRLF; null if any other CR
 * is present. Leading blank lines are ignored (RFC 7230 section 3.5), and so are
 * trailing ones (a caller may pass the head with its final CRLFCRLF).
 */
function lines(text: string): string[] | null {
  const out = text.split('\n');
  const last = out.length - 1;
  for (let i = 0; i <= last; i++) {
    let line = out[i];
    if (i < last && line.endsWith('\r')) line = line.slice(0, -1);
    if (line.indexOf('\r') >= 0) return null;
    out[i] = line;
  }
  while (out.length > 1 && out[0] === '') out.shift();
  while (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}

function trimOws(value: string): string {
  let a = 0;
  let b = value.length;
  while (a < b && (value.charCodeAt(a) === 0x20 || value.charCodeAt(a) === 0x09)) a++;
  while (b > a && (value.charCodeAt(b - 1) === 0x20 || value.charCodeAt(b - 1) === 0x09)) b--;
  return value.slice(a, b);
}

/** True when text is HTAB, SP, VCHAR and obs-text only (a field value or reason phrase). */
export function isFieldText(text: string): boolean {
  return headPatterns().fieldText.test(text);
}

function parseFields(all: string[]): HttpHeaders | null {
  const { token, fieldText } = headPatterns();
  const headers = new Map<string, string[]>();
  for (let i = 1; i < all.length; i++) {
    const line = all[i];
    const colon = line.indexOf(':');
    // No colon, an empty line, or obs-fold (a leading SP/HTAB): its name is not a token.
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!token.test(name)) return null;
    const value = trimOws(line.slice(colon + 1));
    if (!fieldText.test(value)) return null;
    const key = name.toLowerCase();
    const values = headers.get(key);
    if (values) values.push(value);
    else headers.set(key, [value]);
  }
  return headers;
}

/** Parse a request head (as from HttpHeadReader.text()); null when malformed (answer 400). */
export function parseRequestHead(text: string): HttpRequestHead | null {
  const all = lines(text);
  if (!all) return null;
  const m = headPatterns().requestLine.exec(all[0]);
  if (!m) return null;
  const headers = parseFields(all);
  if (!headers) return null;
  return { method: m[1], target: m[2], version: m[3], headers };
}

/** Parse a response head; a missing reason phrase ("HTTP/1.1 101") is accepted as ''. */
export function parseResponseHead(text: string): HttpResponseHead | null {
  const all = lines(text);
  if (!all) return null;
  const m = headPatterns().statusLine.exec(all[0]);
  if (!m) return null;
  const reason = m[3] ?? '';
  if (!isFieldText(reason)) return null;
  const headers = parseFields(all);
  if (!headers) return null;
  return { version: m[1], status: Number(m[2]), reason, headers };
}

/** The field's value, repeated fields joined with ", " (RFC 7230 section 3.2.2); undefined if absent. */
export function headerValue(headers: HttpHeaders, name: string): string | undefined {
  const values = headers.get(name.toLowerCase());
  return values ? values.join(', ') : undefined;
}

/** True when a comma-separated list ("keep-alive, Upgrade") holds token, ignoring case and OWS. */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  for (const item of value.split(',')) {
    if (trimOws(item).toLowerCase() === wanted) return true;
  }
  return false;
}

/** The non-empty elements of a comma-separated list, trimmed, in order. */
export function listItems(value: string | undefined): string[] {
  const out: string[] = [];
  if (value === undefined) return out;
  for (const item of value.split(',')) {
    const t = trimOws(item);
    if (t) out.push(t);
  }
  return out;
}

// Frozen: a preloaded module's unfrozen objects each cost a RAM pointer on the device.
const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
});

/**
 * The host name of a Host header value, lower-case, without the port or a trailing dot
 * ("Device.local.:80" -> "device.local", "[::1]:8080" -> "[::1]"); null when absent or
 * malformed.
 */
export function hostName(value: string | undefined): string | null {
  if (value === undefined) return null;
  const m = headPatterns().host.exec(value.trim().toLowerCase());
  return m ? m[1] : null;
}

/** The reason phrase for a status code ('Unknown' for codes not listed). */
export function reasonPhrase(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown';
}
