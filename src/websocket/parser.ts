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
    let i = start;
    while (i < end) {
      const state = this.state;
      if (state === State.Header) {
        const header = this.header;
        let have = this.headerLength;
        while (i < end && have < this.headerNeeded) {
          header[have++] = data[i++];
          if (have === 2) this.headerNeeded = headerSize(header);
        }
        this.headerLength = have;
        if (have === this.headerNeeded) this.onHeader();
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

  private onHeader(): void {
    const h = this.header;
    const b0 = h[0];
    const b1 = h[1];
    this.headerLength = 0;
    this.headerNeeded = 2;
    if (b0 & 0x70) return this.fail(CloseCode.ProtocolError, 'reserved bits set without an extension');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let at = 2;
    if (length === 126) {
      length = (h[2] << 8) | h[3];
      at = 4;
    } else if (length === 127) {
      const high = ((h[2] << 24) | (h[3] << 16) | (h[4] << 8) | h[5]) >>> 0;
      if (high >= 0x80000000) return this.fail(CloseCode.ProtocolError, '64-bit length with the top bit set');
      // Above 2^53 this loses precision but stays above every limit, which is all that matters.
      length = high * TWO_POW_32 + (((h[6] << 24) | (h[7] << 16) | (h[8] << 8) | h[9]) >>> 0);
      at = 10;
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
        this.utf8.reset();
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
      copyMasked(input, this.viewOf(input), at, data, this.dataWords, from, take, this.masked ? this.maskKey : null, this.frameOffset, this.rotated, this.rotatedWord);
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

  private viewOf(input: Uint8Array): DataView {
    if (input.buffer !== this.inputBuffer || !this.inputView) {
      this.inputBuffer = input.buffer;
      this.inputView = new DataView(input.buffer);
    }
    return this.inputView;
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

/** Header size once its first two bytes are known. */
function headerSize(header: Uint8Array): number {
  const length = header[1] & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (header[1] & 0x80 ? 4 : 0);
}
