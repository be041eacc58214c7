// websockets/server, the name apps import: WebSocketServer (src/net/server.ts).
export * from 'websockets/net/server';
