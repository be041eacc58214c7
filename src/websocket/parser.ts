// Fixed-buffer RFC 6455 frame parser: bytes in, callbacks out. Every buffer is
// allocated in the constructor; parsing a frame allocates nothing. Input may be
// chunked anyhow (one byte per push up to whole reads): the header is gathered
// byte-wise across pushes, the payload is copied, unmasked and validated as it comes.

import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode, isValidWireCloseCode } from './protocol';
import type { MessageType } from './protocol';
import { Utf8Validator, isValidUtf8 } from '../bytes/utf8';
import { copyMasked, maskInPlace } from '../bytes/mask';

export type Role = 'client' | 'server';

/**
 * Receives the parser's output. Byte ranges point into the parser's own buffers and are
 * valid only during the call: copy what you keep. Handlers must not throw (the connection
 * layer guards user code); after onError or onClose the parser ignores further input.
 */
export interface FrameHandler {
  /** Whole-message mode: one complete, validated message. */
  onMessage(type: MessageType, data: Uint8Array, start: number, end: number): void;
  /**
   * Streaming mode: a piece of a message. `first` marks the message's first chunk,
   * `last` its final one (text is validated up to and including this chunk).
   */
  onChunk(type: MessageType, data: Uint8Array, start: number, end: number, first: boolean, last: boolean): void;
  onPing(data: Uint8Array, start: number, end: number): void;
  onPong(data: Uint8Array, start: number, end: number): void;
  /** A valid close frame. `code` is 1005 when the frame had no payload; the reason is valid UTF-8. */
  onClose(code: number, data: Uint8Array, reasonStart: number, reasonEnd: number): void;
  /** A protocol violation: `code` is the close code to send (1002, 1007 or 1009). */
  onError(code: number, reason: string): void;
}

export interface FrameParserOptions {
  /** 'server' expects masked frames from a client; 'client' expects unmasked frames. */
  role: Role;
  /**
   * 'message' (default) reassembles whole messages into one buffer of maxMessageSize bytes.
   * 'stream' hands each payload piece to onChunk through a buffer of chunkSize bytes, so
   * messages larger than RAM can be processed.
   */
  mode?: 'message' | 'stream';
  /** Largest message accepted, in bytes (1009 beyond). Default 4096 in message mode, unlimited in stream mode. */
  maxMessageSize?: number;
  /** Largest single frame payload accepted (1009 beyond). Default: maxMessageSize. */
  maxFrameSize?: number;
  /** Stream-mode buffer size. Default 1024. */
  chunkSize?: number;
  /**
   * The caller owns its input buffer and reads no more of what it pushed: a masked frame
   * whole in one push is then unmasked in place and delivered from there, not copied.
   * Default false (the input is never written). Unmasked frames are delivered from the
   * input whenever a whole message is in one push, whatever this says.
   */
  unmaskInPlace?: boolean;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 4096;
export const DEFAULT_CHUNK_SIZE = 1024;

const enum State {
  Header,
  Payload,
  Done,
}

const TWO_POW_32 = 0x100000000;

export class FrameParser {
  private readonly handler: FrameHandler;
  private readonly expectMask: boolean;
  private readonly streaming: boolean;
  private readonly maxMessageSize: number;
  private readonly maxFrameSize: number;
  private readonly unmaskInPlace: boolean;

  /** Message buffer (message mode) or chunk buffer (stream mode), with a word view for unmasking. */
  private readonly data: Uint8Array;
  private readonly dataWords: Uint32Array;
  private readonly control: Uint8Array;
  private readonly controlWords: Uint32Array;
  private readonly header = new Uint8Array(14);
  private readonly maskKey = new Uint8Array(4);
  private readonly rotated = new Uint8Array(4);
  private readonly rotatedWord = new Uint32Array(this.rotated.buffer);
  private readonly utf8 = new Utf8Validator();
  // DataView over the caller's input buffer, rebuilt only when the caller passes a different
  // ArrayBuffer (a host that reads into one fixed buffer never causes an allocation).
  private inputBuffer: ArrayBufferLike | null = null;
  private inputView: DataView | null = null;
  /** Words over the input buffer, when it starts at byte 0 and is whole words long (else null). */
  private inputWords: Uint32Array | null = null;

  private state = State.Header;
  private headerLength = 0; // bytes gathered
  private headerNeeded = 2; // bytes required for the current header
  // Current frame.
  private fin = false;
  private opcode = 0;
  private masked = false;
  private frameRemaining = 0;
  private frameOffset = 0; // payload bytes of this frame already received (mask phase)
  // Current data message.
  private inMessage = false;
  private messageType: MessageType = 'binary';
  private messageLength = 0; // bytes received so far (whole message)
  private fill = 0; // bytes in `data` (message buffer fill, or pending chunk)
  private firstChunk = true;
  private controlLength = 0;

  constructor(options: FrameParserOptions, handler: FrameHandler) {
    this.handler = handler;
    this.expectMask = options.role === 'server';
    this.streaming = options.mode === 'stream';
    this.unmaskInPlace = options.unmaskInPlace === true;
    const maxMessage = options.maxMessageSize ?? (this.streaming ? Number.MAX_SAFE_INTEGER : DEFAULT_MAX_MESSAGE_SIZE);
    if (!(maxMessage >= 0) || maxMessage > Number.MAX_SAFE_INTEGER) throw new RangeError('maxMessageSize out of range');
    this.maxMessageSize = maxMessage;
    // Lengths stay exact integers only up to 2^53: no limit may go beyond.
    this.maxFrameSize = Math.min(options.maxFrameSize ?? maxMessage, Number.MAX_SAFE_INTEGER);
    if (!(this.maxFrameSize >= 0)) throw new RangeError('maxFrameSize out of range');
    const size = this.streaming ? options.chunkSize ?? DEFAULT_CHUNK_SIZE : maxMessage;
    if (!(size >= (this.streaming ? 1 : 0)) || size > 0x7ffffff8) throw new RangeError('buffer size out of range');
    // Round up to whole words so the word view covers every byte.
    const buffer = new ArrayBuffer((size + 3) & ~3);
    this.data = new Uint8Array(buffer, 0, size);
    this.dataWords = new Uint32Array(buffer);
    const controlBuffer = new ArrayBuffer(128);
    this.control = new Uint8Array(controlBuffer, 0, MAX_CONTROL_PAYLOAD);
    this.controlWords = new Uint32Array(controlBuffer);
  }

  /** True once the parser stopped: after a protocol error or a close frame. */
  get stopped(): boolean {
    return this.state === State.Done;
  }

  /**
   * Payload bytes received and not yet delivered: the message so far or the chunk being
   * filled, and a control frame's payload so far (a ping is answered with a pong of the
   * same payload). What a later push may deliver on top of its own bytes.
   */
  get held(): number {
    return this.state === State.Payload && this.opcode >= Opcode.Close ? this.fill + this.controlLength : this.fill;
  }

  /**
   * Payload bytes a transport may read straight into the parser's own buffer now, then
   * report with pushDirect(): inside a data frame's payload whose bytes would be copied
   * there anyway, up to the end of the frame and of the buffer. 0 otherwise.
   */
  get directRoom(): number {
    if (this.state !== State.Payload || this.opcode >= Opcode.Close) return 0;
    const room = this.data.length - this.fill;
    return room < this.frameRemaining ? room : this.frameRemaining;
  }

  /** Where the next `n` (<= directRoom) payload bytes go: a view made per call. */
  directView(n: number): Uint8Array {
    return this.data.subarray(this.fill, this.fill + n);
  }

  /**
   * `n` payload bytes (<= directRoom) were written at directView(n): unmask, validate and
   * deliver them as push() would have. The same events as pushing the same bytes.
   */
  pushDirect(n: number): void {
    if (n <= 0 || n > this.directRoom) return;
    const data = this.data;
    const from = this.fill;
    const to = from + n;
    if (this.masked) maskInPlace(data, this.dataWords, from, to, this.maskKey, this.frameOffset, this.rotated, this.rotatedWord);
    this.frameOffset += n;
    this.frameRemaining -= n;
    this.fill = to;
    if (this.messageType === 'text' && this.utf8.update(data, from, to, this.dataWords) >= 0) {
      this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
      return;
    }
    if (this.frameRemaining === 0) this.dataFrameDone();
    // A full chunk goes now rather than when the next byte comes (as in dataPayload):
    // the same chunks, and directRoom is not left at 0.
    else if (this.streaming && to === data.length) this.deliverChunk(false);
  }

  /** Bytes this parser holds (buffers fixed at construction). */
  get bufferBytes(): number {
    return this.dataWords.byteLength + this.controlWords.byteLength + 14 + 4 + 4;
  }

  /** Stop parsing: further input is ignored. */
  stop(): void {
    this.state = State.Done;
  }

  /** Consume data[start, end). Returns the number of bytes consumed (all, unless parsing stopped). */
  push(data: Uint8Array, start = 0, end = data.length): number {
    if (data.buffer !== this.inputBuffer) this.viewOf(data);
    let i = start;
    while (i < end) {
      const state = this.state;
      if (state === State.Header) {
        if (this.headerLength === 0 && end - i >= 2) {
          // The usual case: the whole header is in this push; read it where it is.
          const size = headerSize(data, i);
          if (end - i >= size) {
            i += size;
            this.onHeader(data, i - size);
            continue;
          }
        }
        const header = this.header;
        let have = this.headerLength;
        while (i < end && have < this.headerNeeded) {
          header[have++] = data[i++];
          if (have === 2) this.headerNeeded = headerSize(header, 0);
        }
        this.headerLength = have;
        if (have === this.headerNeeded) this.onHeader(header, 0);
      } else if (state === State.Payload) {
        let n = end - i;
        if (n > this.frameRemaining) n = this.frameRemaining;
        i = this.opcode >= Opcode.Close ? this.controlPayload(data, i, n) : this.dataPayload(data, i, n);
      } else {
        return i - start;
      }
    }
    return i - start;
  }

  private fail(code: number, reason: string): void {
    this.state = State.Done;
    this.handler.onError(code, reason);
  }

  /** The frame header at h[o...]: this.header when gathered across pushes, else the input. */
  private onHeader(h: Uint8Array, o: number): void {
    const b0 = h[o];
    const b1 = h[o + 1];
    this.headerLength = 0;
    this.headerNeeded = 2;
    if (b0 & 0x70) return this.fail(CloseCode.ProtocolError, 'reserved bits set without an extension');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let at = o + 2;
    if (length === 126) {
      length = (h[o + 2] << 8) | h[o + 3];
      at = o + 4;
    } else if (length === 127) {
      const high = ((h[o + 2] << 24) | (h[o + 3] << 16) | (h[o + 4] << 8) | h[o + 5]) >>> 0;
      if (high >= 0x80000000) return this.fail(CloseCode.ProtocolError, '64-bit length with the top bit set');
      // Above 2^53 this loses precision but stays above every limit, which is all that matters.
      length = high * TWO_POW_32 + (((h[o + 6] << 24) | (h[o + 7] << 16) | (h[o + 8] << 8) | h[o + 9]) >>> 0);
      at = o + 10;
    }
    if (opcode >= Opcode.Close) {
      if (opcode > Opcode.Pong) return this.fail(CloseCode.ProtocolError, 'reserved control opcode');
      if (!fin) return this.fail(CloseCode.ProtocolError, 'fragmented control frame');
      if (length > MAX_CONTROL_PAYLOAD) return this.fail(CloseCode.ProtocolError, 'control frame payload over 125 bytes');
    } else if (opcode === Opcode.Continuation) {
      if (!this.inMessage) return this.fail(CloseCode.ProtocolError, 'continuation frame without a message to continue');
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.inMessage) return this.fail(CloseCode.ProtocolError, 'new data frame inside a fragmented message');
    } else {
      return this.fail(CloseCode.ProtocolError, 'reserved data opcode');
    }
    if (masked !== this.expectMask) {
      return this.fail(CloseCode.ProtocolError, masked ? 'masked frame from a server' : 'unmasked frame from a client');
    }
    if (opcode < Opcode.Close) {
      if (length > this.maxFrameSize) return this.fail(CloseCode.MessageTooBig, 'frame too big');
      const total = (opcode === Opcode.Continuation ? this.messageLength : 0) + length;
      if (total > this.maxMessageSize) return this.fail(CloseCode.MessageTooBig, 'message too big');
    }
    if (masked) {
      const key = this.maskKey;
      key[0] = h[at];
      key[1] = h[at + 1];
      key[2] = h[at + 2];
      key[3] = h[at + 3];
    }
    this.fin = fin;
    this.opcode = opcode;
    this.masked = masked;
    this.frameRemaining = length;
    this.frameOffset = 0;
    if (opcode < Opcode.Close) {
      if (opcode !== Opcode.Continuation) {
        this.inMessage = true;
        this.messageType = opcode === Opcode.Text ? 'text' : 'binary';
        this.messageLength = 0;
        this.fill = 0;
        this.firstChunk = true;
        if (opcode === Opcode.Text) this.utf8.reset(); // only text is validated
      }
      this.messageLength += length;
    } else {
      this.controlLength = 0;
    }
    this.state = State.Payload;
    if (length === 0) {
      if (opcode >= Opcode.Close) this.controlDone();
      else this.dataFrameDone();
    }
  }

  private controlPayload(input: Uint8Array, at: number, n: number): number {
    const control = this.control;
    const from = this.controlLength;
    for (let k = 0; k < n; k++) control[from + k] = input[at + k];
    this.afterCopy(control, this.controlWords, from, from + n);
    this.controlLength = from + n;
    if (this.frameRemaining === 0) this.controlDone();
    return at + n;
  }

  /** Unmask freshly copied payload bytes and advance the frame position. */
  private afterCopy(buf: Uint8Array, words: Uint32Array, from: number, to: number): void {
    if (this.masked) maskInPlace(buf, words, from, to, this.maskKey, this.frameOffset, this.rotated, this.rotatedWord);
    this.frameOffset += to - from;
    this.frameRemaining -= to - from;
  }

  private controlDone(): void {
    this.state = State.Header;
    const control = this.control;
    const length = this.controlLength;
    const handler = this.handler;
    if (this.opcode === Opcode.Ping) return handler.onPing(control, 0, length);
    if (this.opcode === Opcode.Pong) return handler.onPong(control, 0, length);
    // Close.
    if (length === 1) return this.fail(CloseCode.ProtocolError, 'close frame with a 1-byte payload');
    let code: number = CloseCode.NoStatus;
    if (length >= 2) {
      code = (control[0] << 8) | control[1];
      if (!isValidWireCloseCode(code)) return this.fail(CloseCode.ProtocolError, 'invalid close code');
      if (!isValidUtf8(control, 2, length)) {
        return this.fail(CloseCode.InvalidPayload, 'close reason is not valid UTF-8');
      }
    }
    this.state = State.Done;
    handler.onClose(code, control, length >= 2 ? 2 : 0, length);
  }

  private dataPayload(input: Uint8Array, at: number, n: number): number {
    // A whole message in this push (one frame, all of its payload here; streaming, no
    // larger than a chunk): delivered from the input, not copied (masked only when the
    // caller lets us unmask in place). The same deliveries as the copying path below.
    if (n === this.messageLength && this.fill === 0 && this.fin && (!this.masked || this.unmaskInPlace) && (!this.streaming || n <= this.data.length)) {
      return this.wholeMessage(input, at, n);
    }
    const data = this.data;
    const end = at + n;
    while (at < end) {
      let room = data.length - this.fill;
      if (room === 0) {
        // Only in stream mode: the chunk buffer is full and the frame goes on.
        if (!this.deliverChunk(false)) return end;
        room = data.length;
      }
      const take = end - at < room ? end - at : room;
      const from = this.fill;
      copyMasked(input, this.inputView!, at, data, this.dataWords, from, take, this.masked ? this.maskKey : null, this.frameOffset, this.rotated, this.rotatedWord);
      at += take;
      this.frameOffset += take;
      this.frameRemaining -= take;
      this.fill = from + take;
      if (this.messageType === 'text' && this.utf8.update(data, from, from + take, this.dataWords) >= 0) {
        this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
        return end;
      }
    }
    if (this.frameRemaining === 0) this.dataFrameDone();
    return end;
  }

  /** dataPayload's fast path: the message is input[at, at + n), its frame's whole payload. */
  private wholeMessage(input: Uint8Array, at: number, n: number): number {
    const end = at + n;
    const words = input.byteOffset === 0 ? this.inputWords : null; // push() set them for this input
    if (this.masked) maskInPlace(input, words, at, end, this.maskKey, 0, this.rotated, this.rotatedWord);
    this.frameOffset = n;
    this.frameRemaining = 0;
    this.state = State.Header;
    if (this.messageType === 'text') {
      if (this.utf8.update(input, at, end, words ?? undefined) >= 0) {
        this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
        return end;
      }
      if (!this.utf8.complete) {
        this.fail(CloseCode.InvalidPayload, 'text message ends inside a UTF-8 sequence');
        return end;
      }
    }
    // As dataFrameDone's end of a message, written out here: a shared method would cost
    // each message one more call (+43 XS computrons, 4-7 % of a 16 B message).
    this.inMessage = false;
    if (this.streaming) {
      const first = this.firstChunk;
      this.firstChunk = false;
      this.handler.onChunk(this.messageType, input, at, end, first, true);
    } else {
      this.handler.onMessage(this.messageType, input, at, end);
    }
    return end;
  }

  private dataFrameDone(): void {
    this.state = State.Header;
    if (!this.fin) {
      if (this.streaming && this.fill > 0) this.deliverChunk(false);
      return;
    }
    if (this.messageType === 'text' && !this.utf8.complete) {
      return this.fail(CloseCode.InvalidPayload, 'text message ends inside a UTF-8 sequence');
    }
    this.inMessage = false;
    if (this.streaming) {
      this.deliverChunk(true);
    } else {
      const length = this.fill;
      this.fill = 0;
      this.handler.onMessage(this.messageType, this.data, 0, length);
    }
  }

  /** Views over a new input buffer (push() calls this when the caller's buffer changes). */
  private viewOf(input: Uint8Array): void {
    const buffer = input.buffer;
    this.inputBuffer = buffer;
    this.inputView = new DataView(buffer);
    this.inputWords = (buffer.byteLength & 3) === 0 ? new Uint32Array(buffer) : null;
  }

  /** Stream mode: hand over the chunk buffer. Returns false if the handler stopped the parser. */
  private deliverChunk(last: boolean): boolean {
    const length = this.fill;
    const first = this.firstChunk;
    this.fill = 0;
    this.firstChunk = false;
    this.handler.onChunk(this.messageType, this.data, 0, length, first, last);
    return this.state !== State.Done;
  }
}

/** Size of the header at h[o...] from its first two bytes. */
function headerSize(h: Uint8Array, o: number): number {
  const b1 = h[o + 1];
  const length = b1 & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}
