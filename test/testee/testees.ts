// The echo testee's settings, shared by the sim host (test/testee/echo-server.ts) and the
// Moddable simulator (hosts/moddable/testee/main.ts): no host imports and only type
// imports (each host names our modules its own way: relative paths on Node, websockets/*
// specifiers on Moddable). The client testee's logic is test/testee/fuzzing.ts.
import type { EchoOptions } from '../../src/apps/echo-app';

export interface TesteeServerSettings {
  port: number;
  maxMessage: number;
  messageMode: boolean;
  maxClients: number;
}

/**
 * The echo testee's server options. Stream mode (the default) echoes any size in fixed
 * memory: chunks go back out as fragments as they arrive. Message mode (--message-mode)
 * holds two buffers of maxMessage per client, and no more: the parser's message buffer
 * (the whole message is delivered at once) and a send queue that can take its echo whole
 * (the socket takes a few KiB per onWritable; a send that does not fit the queue is
 * refused, and the echo would be lost). 64 KiB more keep room for control frames. The
 * buffers are allocated when a client connects, so a message-mode testee with a large
 * maxMessage should be run with few --max-clients.
 */
export function testeeServerOptions(s: TesteeServerSettings): EchoOptions {
  return {
    port: s.port,
    maxClients: s.maxClients,
    receiveMode: s.messageMode ? 'message' : 'stream',
    maxMessageSize: s.maxMessage,
    chunkSize: 16384,
    readBufferSize: 16384,
    sendQueueSize: s.messageMode ? s.maxMessage + 65536 : 65536,
    sendBufferSize: 16384,
    maxHeaderSize: 8192,
    keepAliveInterval: 0,
  };
}

/** The line the echo testee prints once it listens (harnesses wait for it). */
export function testeeServerBanner(port: number, s: TesteeServerSettings): string {
  return `echo testee listening on ws://127.0.0.1:${port}/ (${s.messageMode ? 'message' : 'stream'} mode, max message ${s.maxMessage} bytes)`;
}
