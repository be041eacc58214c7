// HttpResponseWriter: one HTTP/1.1 response at a time, sans-IO. The head is composed
// into a buffer given at construction (the same buffer the request head was read into:
// by then it is parsed into strings), the body is a StaticEntry (a flash view on the
// device) or bytes, never copied except its first piece, which is put behind the head so
// a small response leaves in one write. The connection asks for the next piece up to
// what the socket takes (next), and says how much it wrote (advance).

import { latin1Text, reasonPhrase } from './head';
import type { StaticEntry } from './static-store';

const LF = 0x0a;
const CR = 0x0d;

/** A piece to write: bytes of the head buffer or of a route's body, or what a store gives (a host buffer). */
export type ResponsePiece = ArrayBuffer | ArrayBufferView;

/** Throws when a header value given in options holds control characters. */
export function checkFieldValue(what: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) throw new Error(`${what} contains a control character`);
  }
}

export class HttpResponseWriter {
  private readonly buf: Uint8Array;
  private readonly serverName: string | undefined;
  // The head (and coalesced body start) is buf[outPos, outLen); then the body [bodyPos, bodyEnd).
  private outPos = 0;
  private outLen = 0;
  private entry: StaticEntry | null = null;
  private bytes: Uint8Array | null = null;
  private bodyPos = 0;
  private bodyEnd = 0;
  /** The response carries "Connection: close" and the connection closes after it. */
  closing = false;

  /** buf: the head buffer (its length is the largest response head); serverName: a Server field for every response. */
  constructor(buf: Uint8Array, serverName?: string) {
    if (serverName !== undefined) checkFieldValue('serverName', serverName);
    this.buf = buf;
    this.serverName = serverName;
  }

  /** Bytes not yet taken by next()/advance(). */
  get pending(): boolean {
    return this.outPos < this.outLen || this.bodyPos < this.bodyEnd;
  }

  /** Begin a response head (drops any body of an earlier one). Throws when it does not fit. */
  start(status: number): void {
    this.clearBody();
    this.outLen = 0;
    this.outPos = 0;
    this.put('HTTP/1.1 ' + status + ' ' + reasonPhrase(status) + '\r\n');
    if (this.serverName !== undefined) this.field('Server', this.serverName);
  }

  /** One header field. Throws for controls in either part, or when the head would not fit. */
  field(name: string, value: string): void {
    this.put(name, true);
    this.put(': ', false);
    this.put(value, true);
    this.put('\r\n', false);
  }

  /** End the head ("Connection: close" when closing). */
  endHead(): void {
    if (this.closing) this.put('Connection: close\r\n');
    this.put('\r\n');
  }

  /** The body: a store entry, streamed in pieces. */
  bodyFromEntry(entry: StaticEntry): void {
    this.entry = entry;
    this.bytes = null;
    this.bodyPos = 0;
    this.bodyEnd = entry.size;
  }

  /** The body: bytes, sent from this array (not copied). */
  bodyFromBytes(bytes: Uint8Array): void {
    this.entry = null;
    this.bytes = bytes;
    this.bodyPos = 0;
    this.bodyEnd = bytes.length;
  }

  /** An error response with a short text/plain body (none for HEAD); a 405 names the methods allowed (`allow`). */
  error(status: number, head: boolean, allow = 'GET, HEAD'): void {
    const body = `${status} ${reasonPhrase(status)}\n`;
    this.start(status);
    this.field('Content-Type', 'text/plain');
    this.field('Content-Length', String(body.length));
    if (status === 405) this.field('Allow', allow);
    this.endHead();
    if (!head) this.put(body);
  }

  /**
   * Copy the start of the body into the head buffer behind the head, so a small
   * response leaves in one write (one segment, no Nagle wait between head and body).
   * Only when the body gives plain bytes. Throws (and drops the body) when the store fails.
   */
  coalesce(): void {
    if (this.bodyPos >= this.bodyEnd || this.outLen >= this.buf.length) return;
    const n = Math.min(this.buf.length - this.outLen, this.bodyEnd - this.bodyPos);
    let piece: ResponsePiece;
    try {
      piece = this.entry ? this.entry.body(this.bodyPos, this.bodyPos + n) : this.bytes!.subarray(this.bodyPos, this.bodyPos + n);
    } catch (error) {
      this.clearBody();
      throw error;
    }
    let bytes: Uint8Array | null = null;
    if (piece instanceof Uint8Array) bytes = piece;
    else if (ArrayBuffer.isView(piece)) bytes = new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength);
    else if (piece instanceof ArrayBuffer) bytes = new Uint8Array(piece);
    if (!bytes || bytes.length !== n) return; // a host buffer (flash): written as is later
    this.buf.set(bytes, this.outLen);
    this.outLen += n;
    this.bodyPos += n;
  }

  /** How many bytes the next piece holds when at most `max` are wanted (0: nothing left). */
  nextSize(max: number): number {
    if (this.outPos < this.outLen) return Math.min(max, this.outLen - this.outPos);
    return Math.min(max, this.bodyEnd - this.bodyPos);
  }

  /**
   * The next `n` bytes (n from nextSize). Throws when the store fails or gives another
   * length: the head promised a length that cannot be delivered (close the connection).
   */
  next(n: number): ResponsePiece {
    if (this.outPos < this.outLen) return this.buf.subarray(this.outPos, this.outPos + n);
    if (!this.entry) return this.bytes!.subarray(this.bodyPos, this.bodyPos + n);
    const piece = this.entry.body(this.bodyPos, this.bodyPos + n);
    const size = (piece as { byteLength?: number }).byteLength;
    if (size !== undefined && size !== n) throw new Error(`store body(${this.bodyPos}, ${this.bodyPos + n}) returned ${size} bytes`);
    return piece;
  }

  /** `n` bytes of the last piece were written. */
  advance(n: number): void {
    if (this.outPos < this.outLen) this.outPos += n;
    else this.bodyPos += n;
  }

  /** Forget the response (written, or abandoned). */
  reset(): void {
    this.clearBody();
    this.outPos = this.outLen = 0;
    this.closing = false;
  }

  /** The head composed so far, as text (tests, logs). */
  headText(): string {
    return latin1Text(this.buf, 0, this.outLen);
  }

  private clearBody(): void {
    this.entry = null;
    this.bytes = null;
    this.bodyPos = this.bodyEnd = 0;
  }

  /**
   * Append latin1 text to the head buffer, in short pieces (XS strings are UTF-8:
   * charCodeAt(i) costs O(i)). A field (strict) may not hold CR, LF or other controls.
   */
  private put(text: string, strict = false): void {
    const buf = this.buf;
    let at = this.outLen;
    if (at + text.length > buf.length) throw new Error('response head larger than maxHeaderSize');
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff || c === 0x7f || (c < 0x20 && c !== 0x09 && (strict || (c !== CR && c !== LF)))) {
        throw new Error('control character in a response header');
      }
      buf[at++] = c;
    }
    this.outLen = at;
  }
}
