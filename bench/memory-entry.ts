// Runs inside XS (bench/memory.mjs): opens N server-side connections through a real
// handshake at default settings and reports what they hold.
import { WebSocketConnection } from '../src/websocket/connection';
import type { ConnectionOptions } from '../src/websocket/connection';

declare const gc: () => void;
declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const MEMORY: { count: number; options: Partial<ConnectionOptions> };

function send(text: string): void {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  issueCommand(bytes.buffer);
}

const request =
  'GET / HTTP/1.1\r\nHost: device.local\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://device.local\r\n\r\n';
const requestBytes = new Uint8Array(request.length);
for (let i = 0; i < request.length; i++) requestBytes[i] = request.charCodeAt(i);

const connections: WebSocketConnection[] = [];
let open = 0;
let bufferBytes = 0;
for (let i = 0; i < MEMORY.count; i++) {
  const c = new WebSocketConnection({ role: 'server', ...MEMORY.options }, { write() {}, end() {}, open: () => open++ });
  c.startServer({});
  c.receive(requestBytes);
  connections.push(c);
  bufferBytes += c.bufferBytes;
}
gc(); // collect the handshake's garbage: what remains is live
send(JSON.stringify({ open, bufferBytes }));
