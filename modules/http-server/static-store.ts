// websockets/static-store, the name apps import: StaticStore, MemoryStore (src/http/static-store.ts).
export * from 'websockets/http/static-store';
