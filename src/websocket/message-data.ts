// How message data crosses the public API: what the client and the server hand to
// listeners, and what they accept from callers.

import type { MessageType } from './protocol';
import { decodeUtf8 } from '../bytes/utf8';

/** Text as a string; binary as a view valid during the handler. */
export function deliver(type: MessageType, data: Uint8Array, start: number, end: number): string | Uint8Array {
  return type === 'text' ? decodeUtf8(data, start, end) : data.subarray(start, end);
}

/** Bytes of an ArrayBuffer or any view, without copying. */
export function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError('expected a string, an ArrayBuffer or a view');
}
