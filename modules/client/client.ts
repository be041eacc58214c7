// websockets/client, the name apps import: WebSocketClient (src/net/client.ts).
export * from 'websockets/net/client';
