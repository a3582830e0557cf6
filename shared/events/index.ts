export * from './normalize.js';
export * from './schema.js';
