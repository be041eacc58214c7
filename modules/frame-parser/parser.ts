// websockets/parser, the name apps import: the frame parser (src/websocket/parser.ts).
export * from 'websockets/websocket/parser';
