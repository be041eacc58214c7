// The two testees' logic, shared by the sim host (test/testee/echo-server.ts,
// fuzzing-client.ts) and the Moddable simulator (hosts/moddable/testee/main.ts): no
// host imports and only type imports (each host names our modules its own way: relative
// paths on Node, websockets/* specifiers on Moddable): the client class comes in
// through the settings.
import type { ClientOptions, WebSocketClient } from '../../src/net/client';
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

export interface FuzzingClientSettings {
  /** The fuzzing server, e.g. ws://127.0.0.1:9001 (no trailing slash needed). */
  url: string;
  agent: string;
  maxMessage: number;
  /** `new WebSocketClient(options)`, from the host's module. */
  createClient: (options: ClientOptions) => WebSocketClient;
  /** Progress lines (stdout on the sim host). */
  log: (line: string) => void;
  /** Errors (stderr on the sim host). */
  error: (line: string) => void;
}

function visit(s: FuzzingClientSettings, base: string, path: string, onText?: (text: string) => void): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const client = s.createClient({
      receiveMode: 'stream',
      chunkSize: 16384,
      maxMessageSize: s.maxMessage,
      readBufferSize: 16384,
      sendQueueSize: 65536,
      sendBufferSize: 16384,
      keepAliveInterval: 0,
      serverTimeout: 10000,
    });
    let text = '';
    client.on('chunk', (data, isText, first, last) => {
      if (onText) {
        if (isText) {
          let s = '';
          for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
          text = first ? s : text + s;
          if (last) onText(text);
        }
        return;
      }
      if (!client.sendFragment(data, isText, first, last)) client.close(1011, 'echo could not keep up');
    });
    client.on('close', (code, reason) => resolve({ code, reason }));
    client.on('error', (e) => s.error(`${path}: ${e.message}`));
    client.connect(base + path);
  });
}

/**
 * The Autobahn fuzzingserver protocol with our WebSocketClient: GET /getCaseCount, then
 * /runCase?case=N&agent=NAME for each case echoing every message, then
 * /updateReports?agent=NAME. Resolves to the process exit status (0: all cases ran).
 */
export async function runFuzzingClient(s: FuzzingClientSettings): Promise<number> {
  const base = s.url.replace(/\/+$/, '');
  let count = 0;
  await visit(s, base, '/getCaseCount', (text) => {
    count = Number(text);
  });
  if (!Number.isInteger(count) || count < 0) {
    s.error('the fuzzing server sent no case count');
    return 1;
  }
  s.log(`${count} cases`);
  for (let n = 1; n <= count; n++) {
    const result = await visit(s, base, `/runCase?case=${n}&agent=${encodeURIComponent(s.agent)}`);
    s.log(`case ${n}: closed ${result.code}${result.reason ? ' ' + result.reason : ''}`);
  }
  await visit(s, base, `/updateReports?agent=${encodeURIComponent(s.agent)}`, () => {});
  s.log('reports updated');
  return 0;
}
