export * from './dead-letters.js';
export * from './normalize.js';
export * from './schema.js';
