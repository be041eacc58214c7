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

/** The echo testee's server options: stream mode echoes any size in fixed memory. */
export function testeeServerOptions(s: TesteeServerSettings): EchoOptions {
  return {
    port: s.port,
    maxClients: s.maxClients,
    receiveMode: s.messageMode ? 'message' : 'stream',
    maxMessageSize: s.maxMessage,
    chunkSize: 16384,
    readBufferSize: 16384,
    sendQueueSize: s.messageMode ? s.maxMessage * 2 + 65536 : 65536,
    sendBufferSize: 16384,
    maxHeaderSize: 8192,
    keepAliveInterval: 0,
  };
}

/** The line the echo testee prints once it listens (harnesses wait for it). */
export function testeeServerBanner(port: number, s: TesteeServerSettings): string {
  return `echo testee listening on ws://127.0.0.1:${port}/ (${s.messageMode ? 'message' : 'stream'} mode, max message ${s.maxMessage} bytes)`;
}
