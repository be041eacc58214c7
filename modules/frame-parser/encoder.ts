// websockets/encoder, the name apps import: the frame encoder (src/websocket/encoder.ts).
export * from 'websockets/websocket/encoder';
