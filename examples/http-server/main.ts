// HttpServer example (TypeScript): a page and a JSON route over HTTP, and WebSocket
// upgrades at /ws handed to a WebSocketServer on the same port (isStandAlone: false).
// Build: mcconfig -d -p lin port=8080, then open http://<ip>:8080/
import config from 'mc/config';
import { HttpServer } from 'websockets/http-server';
import { MemoryStore } from 'websockets/static-store';
import { WebSocketServer } from 'websockets/server';
import { installModdablePlatform } from 'websockets/moddable-platform';

installModdablePlatform();

const port = Number(config.port ?? 8080);
const page = `<!doctype html><title>ws</title><script>
const ws = new WebSocket('ws://' + location.host + '/ws');
ws.onmessage = (e) => document.body.append(e.data + ' ');
ws.onopen = () => ws.send('hi');
</script>`;

// The WebSocket endpoint: its prefix is the HTTP server's websocket.path.
const ws = new WebSocketServer({ isStandAlone: false, prefix: '/ws', maxClients: 2 });
ws.on('opened', (client) => trace(`http-server: ws opened ${client}\n`));
ws.on('message', (client, data) => {
  if (typeof data === 'string') ws.sendText(client, `echo: ${data}`);
  else ws.sendBinary(client, data);
});
ws.on('closed', (client, code) => trace(`http-server: ws closed ${client} ${code}\n`));

const http = new HttpServer({
  port,
  maxConnections: 2,
  evictIdle: true, // when full, close the longest-idle keep-alive connection instead of answering 503
  store: new MemoryStore({ '/index.html': page }), // or a ResourceStore over flash resources
  routes: {
    '/status': () => ({ contentType: 'application/json', body: JSON.stringify({ clients: ws.clientsCount }) }),
  },
  websocket: { path: '/ws', server: ws },
});
http.on('request', (method, path, status) => trace(`http-server: ${method} ${path} ${status}\n`));
http.on('error', (error) => trace(`http-server: error ${error.message}\n`));
http.start();
trace(`http-server: listening on port ${port}\n`);
