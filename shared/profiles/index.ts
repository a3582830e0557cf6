export * from './dynamodb.js';
export * from './ingest.js';
export * from './ingest-batch.js';
export * from './memory.js';
export * from './model.js';
export * from './queries.js';
export * from './reactor.js';
export * from './store.js';
