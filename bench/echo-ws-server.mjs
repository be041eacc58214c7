// The reference echo server for bench/echo.mjs: a `ws` WebSocketServer on 127.0.0.1
// that sends every message back as received (text as text, binary as binary).
//
//   node bench/echo-ws-server.mjs [--port P] [--max-message BYTES]
import { WebSocketServer } from 'ws';

function arg(name) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const port = Number(arg('--port') ?? 0);
const maxMessage = Number(arg('--max-message') ?? 1 << 20);
// ws's defaults, spelled out: no permessage-deflate, UTF-8 validated, messages reassembled.
const server = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: maxMessage, perMessageDeflate: false, skipUTF8Validation: false });
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.on('listening', () => {
  console.log(`ws echo listening on ws://127.0.0.1:${server.address().port}/ (max message ${maxMessage} bytes)`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
