// WebSocketClient over TLS: connect to a wss:// echo server that presents a certificate
// signed by the CA in this app's resources, send a text and a binary message, check that
// both come back unchanged, close.
// Build: WSS_CA=/path/to/ca.pem mcconfig -d -p lin url=wss://echo.example.com/
//   WSS_CA names the CA certificate file (PEM or DER; name it ca.pem or ca.der): the
//   manifest adds it to the resources, read in place from flash on a device.
//   On an ESP32, set the clock (SNTP) before connecting: certificates are checked
//   against the date.
import config from 'mc/config';
import Resource from 'Resource';
import TLS from 'embedded:io/socket/tcp/tls';
import { WebSocketClient } from 'websockets/client';
import { installModdablePlatform } from 'websockets/moddable-platform';

installModdablePlatform(); // clock and DNS for the WebSocket modules: once per app

const ca = new Resource(Resource.exists('ca.der') ? 'ca.der' : 'ca.pem');
const text = 'hello over TLS';
const binary = Uint8Array.of(0, 1, 2, 253, 254, 255);
let received = 0;
let failure = '';
const started = Date.now();

const ws = new WebSocketClient({ tls: { socket: TLS, ca }, keepAliveInterval: 0, connectTimeout: 20000 });
ws.on('open', () => {
  trace(`wss-client: open ${String(config.url)} after ${Date.now() - started} ms\n`);
  ws.sendText(text);
  ws.sendBinary(binary);
});
ws.on('message', (data) => {
  // Text arrives as a string; binary as a view into the receive buffer, valid during this call.
  if (typeof data === 'string') {
    if (data !== text) failure ||= `text echo differs: ${data}`;
  } else if (data.length !== binary.length || data.some((byte, i) => byte !== binary[i])) {
    failure ||= `binary echo differs: ${Array.from(data).join(',')}`;
  }
  if (++received === 2) ws.close(1000, 'done');
});
ws.on('error', (error) => {
  // A refused certificate or a failed handshake: error.name is 'TLSError', the close code 1015.
  failure ||= `${error.name}: ${error.message}`;
});
ws.on('close', (code, reason, wasClean) => {
  trace(`wss-client: close ${code} ${reason} clean=${wasClean}\n`);
  if (!failure && (received !== 2 || code !== 1000 || !wasClean)) failure = `${received} echoes, close ${code}`;
  trace(failure ? `wss-client: FAIL ${failure}\n` : 'wss-client: PASS\n');
});
ws.connect(String(config.url));
