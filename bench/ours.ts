// Our parser driven over a bench input; portable (runs under V8 and XS).
import { FrameParser } from '../src/websocket/parser';
import type { FrameHandler } from '../src/websocket/parser';
import type { BenchInput } from './inputs';

export interface ParseCount {
  messages: number;
  bytes: number;
  errors: number;
}

/** unmaskInPlace: the reads are scratch (a receive buffer), as SocketLink's are. */
export function makeOurParser(input: BenchInput, count: ParseCount, unmaskInPlace = false): FrameParser {
  const handler: FrameHandler = {
    onMessage(_type, _data, start, end) {
      count.messages++;
      count.bytes += end - start;
    },
    onChunk() {},
    onPing() {},
    onPong() {},
    onClose() {},
    onError() {
      count.errors++;
    },
  };
  return new FrameParser({ role: input.role, maxMessageSize: input.maxMessage, unmaskInPlace }, handler);
}

/**
 * Parse the whole input `rounds` times with one parser (as one long connection).
 * With `receiveBuffer`, each read is first placed in that one fixed buffer, as a device
 * host reads its socket (socket.read(buffer)); otherwise each read is its own array,
 * as Node hands out socket data.
 */
export function parseWithOurs(input: BenchInput, rounds: number, receiveBuffer?: Uint8Array): ParseCount {
  const count: ParseCount = { messages: 0, bytes: 0, errors: 0 };
  const parser = makeOurParser(input, count, receiveBuffer !== undefined);
  const reads = input.reads;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < reads.length; i++) {
      if (receiveBuffer) {
        receiveBuffer.set(reads[i]);
        parser.push(receiveBuffer, 0, reads[i].length);
      } else parser.push(reads[i], 0, reads[i].length);
    }
  }
  return count;
}
