// websockets/utf8, the name apps import: UTF-8 validation and coding (src/bytes/utf8.ts).
export * from 'websockets/bytes/utf8';
