// RFC 6455 frame encoder: messages in, bytes out through a sink. The scratch buffer
// is allocated once; the caller's data is never modified (client frames are masked
// in the scratch copy). Messages longer than maxFragmentSize are split into frames.

import { MAX_CONTROL_PAYLOAD, MAX_HEADER_SIZE, Opcode, isValidWireCloseCode } from './protocol';
import type { Role } from './parser';
import { Utf8Writer, encodeUtf8, textCodec, utf8Length } from '../bytes/utf8';
import { maskInPlace } from '../bytes/mask';
import { mathRandom } from '../bytes/random';
import type { RandomSource } from '../bytes/random';

/**
 * Receives encoded bytes. The range is valid only during the call: the sink must write
 * or copy it before returning (the scratch buffer is reused for the next piece).
 */
export type ByteSink = (data: Uint8Array, start: number, end: number) => void;

export interface FrameEncoderOptions {
  /** 'client' masks every frame with a fresh key; 'server' never masks. */
  role: Role;
  /** Largest payload per frame; longer messages are fragmented. 0 (default): never fragment. */
  maxFragmentSize?: number;
  /** Scratch buffer size for masking and text encoding (min 128). Default 1024. */
  bufferSize?: number;
  /** Source of mask keys. Default Math.random; hosts should supply a strong one. */
  random?: RandomSource;
}

export const DEFAULT_ENCODER_BUFFER = 1024;

export class FrameEncoder {
  private readonly sink: ByteSink;
  private readonly mask: boolean;
  private readonly maxFragmentSize: number;
  private readonly random: RandomSource;
  private readonly scratch: Uint8Array;
  private readonly scratchWords: Uint32Array;
  private readonly key = new Uint8Array(4);
  private readonly rotated = new Uint8Array(4);
  private readonly rotatedWord = new Uint32Array(this.rotated.buffer);
  private readonly textWriter = new Utf8Writer();
  private readonly closePayload = new Uint8Array(MAX_CONTROL_PAYLOAD);

  constructor(options: FrameEncoderOptions, sink: ByteSink) {
    this.sink = sink;
    this.mask = options.role === 'client';
    const fragment = options.maxFragmentSize ?? 0;
    if (!(fragment >= 0) || fragment !== Math.floor(fragment)) throw new RangeError('maxFragmentSize must be a whole number >= 0');
    this.maxFragmentSize = fragment === 0 ? Number.MAX_SAFE_INTEGER : fragment;
    this.random = options.random ?? mathRandom;
    const size = Math.max(options.bufferSize ?? DEFAULT_ENCODER_BUFFER, 128);
    const buffer = new ArrayBuffer((size + 3) & ~3);
    this.scratch = new Uint8Array(buffer, 0, size);
    this.scratchWords = new Uint32Array(buffer);
  }

  /** Bytes this encoder holds (fixed at construction). */
  get bufferBytes(): number {
    return this.scratchWords.byteLength + 12;
  }

  /** A binary message, fragmented by maxFragmentSize. */
  binary(data: Uint8Array, start = 0, end = data.length): void {
    this.message(Opcode.Binary, data, start, end);
  }

  /** A text message from already-encoded UTF-8 bytes (the caller vouches for validity). */
  textBytes(data: Uint8Array, start = 0, end = data.length): void {
    this.message(Opcode.Text, data, start, end);
  }

  /**
   * A text message from a string. With a native codec (see utf8.ts) the string is encoded
   * in one native call (one allocation of its UTF-8 size); without one it is encoded
   * piecewise into the scratch buffer, with no whole-message copy.
   */
  text(value: string): void {
    const codec = textCodec();
    if (codec) {
      const bytes = codec.encode(value);
      this.message(Opcode.Text, bytes, 0, bytes.length);
      return;
    }
    const total = utf8Length(value);
    const writer = this.textWriter;
    writer.reset(value);
    let offset = 0;
    let opcode: number = Opcode.Text;
    do {
      const length = Math.min(total - offset, this.maxFragmentSize);
      offset += length;
      this.frameFromWriter(opcode, offset === total, length, writer);
      opcode = Opcode.Continuation;
    } while (offset < total);
  }

  ping(data: Uint8Array = EMPTY, start = 0, end = data.length): void {
    this.control(Opcode.Ping, data, start, end);
  }

  pong(data: Uint8Array = EMPTY, start = 0, end = data.length): void {
    this.control(Opcode.Pong, data, start, end);
  }

  /**
   * A close frame. No code: empty payload. The code must be valid on the wire and the
   * reason at most 123 UTF-8 bytes; anything else throws a RangeError.
   */
  close(code?: number, reason = ''): void {
    if (code === undefined) {
      if (reason) throw new RangeError('a close reason needs a close code');
      return this.control(Opcode.Close, EMPTY, 0, 0);
    }
    if (!isValidWireCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
    const reasonBytes = reason ? encodeUtf8(reason) : EMPTY;
    if (reasonBytes.length > MAX_CONTROL_PAYLOAD - 2) throw new RangeError('close reason longer than 123 bytes');
    const payload = this.closePayload;
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(reasonBytes, 2);
    this.control(Opcode.Close, payload, 0, 2 + reasonBytes.length);
  }

  /** One frame with an explicit opcode and FIN bit (for tests and advanced callers). */
  frame(opcode: number, fin: boolean, data: Uint8Array, start = 0, end = data.length): void {
    const scratch = this.scratch;
    const length = end - start;
    let at = this.writeHeader(opcode, fin, length);
    // Small frames go out as one piece: header and payload together in the scratch buffer.
    if (at + length <= scratch.length) {
      const payloadStart = at;
      for (let i = start; i < end; i++) scratch[at++] = data[i];
      if (this.mask) this.maskScratch(payloadStart, at, 0);
      this.sink(scratch, 0, at);
      return;
    }
    this.sink(scratch, 0, at);
    if (!this.mask) {
      this.sink(data, start, end);
      return;
    }
    let offset = 0;
    while (offset < length) {
      const n = Math.min(scratch.length, length - offset);
      scratch.set(data.subarray(start + offset, start + offset + n), 0);
      this.maskScratch(0, n, offset);
      this.sink(scratch, 0, n);
      offset += n;
    }
  }

  private message(opcode: number, data: Uint8Array, start: number, end: number): void {
    if (start < 0 || end > data.length || start > end) throw new RangeError('range outside the data');
    let at = start;
    do {
      const next = Math.min(end, at + this.maxFragmentSize);
      this.frame(opcode, next === end, data, at, next);
      opcode = Opcode.Continuation;
      at = next;
    } while (at < end);
  }

  private control(opcode: number, data: Uint8Array, start: number, end: number): void {
    if (end - start > MAX_CONTROL_PAYLOAD) throw new RangeError('control frame payload over 125 bytes');
    this.frame(opcode, true, data, start, end);
  }

  private frameFromWriter(opcode: number, fin: boolean, length: number, writer: Utf8Writer): void {
    const scratch = this.scratch;
    let at = this.writeHeader(opcode, fin, length);
    let offset = 0;
    while (offset < length || at > 0) {
      const from = at;
      const to = writer.fill(scratch, from, Math.min(scratch.length, from + length - offset));
      if (to === from && offset < length) throw new Error('text encoder ran dry before the frame length');
      if (this.mask) this.maskScratch(from, to, offset);
      offset += to - from;
      this.sink(scratch, 0, to);
      at = 0;
    }
  }

  private maskScratch(from: number, to: number, phase: number): void {
    maskInPlace(this.scratch, this.scratchWords, from, to, this.key, phase, this.rotated, this.rotatedWord);
  }

  /** Header into the scratch buffer (fresh mask key when masking); returns its length. */
  private writeHeader(opcode: number, fin: boolean, length: number): number {
    const h = this.scratch;
    h[0] = (fin ? 0x80 : 0) | opcode;
    const maskBit = this.mask ? 0x80 : 0;
    let at: number;
    if (length < 126) {
      h[1] = maskBit | length;
      at = 2;
    } else if (length < 0x10000) {
      h[1] = maskBit | 126;
      h[2] = length >> 8;
      h[3] = length & 0xff;
      at = 4;
    } else {
      h[1] = maskBit | 127;
      const high = Math.floor(length / 0x100000000);
      const low = length >>> 0;
      h[2] = high >>> 24;
      h[3] = (high >> 16) & 0xff;
      h[4] = (high >> 8) & 0xff;
      h[5] = high & 0xff;
      h[6] = low >>> 24;
      h[7] = (low >> 16) & 0xff;
      h[8] = (low >> 8) & 0xff;
      h[9] = low & 0xff;
      at = 10;
    }
    if (this.mask) {
      const key = this.key;
      this.random(key);
      h[at] = key[0];
      h[at + 1] = key[1];
      h[at + 2] = key[2];
      h[at + 3] = key[3];
      at += 4;
    }
    return at;
  }
}

const EMPTY = new Uint8Array(0);

/** Header size for a payload length (for callers that budget buffers). */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

export { MAX_HEADER_SIZE };
