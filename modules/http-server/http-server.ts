// websockets/http-server, the name apps import: HttpServer (src/net/http-server.ts).
export * from 'websockets/net/http-server';
