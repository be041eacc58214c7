// websockets/protocol, the name apps import: opcodes and close codes (src/websocket/protocol.ts).
export * from 'websockets/websocket/protocol';
