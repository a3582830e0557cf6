export * from './dead-letters.js';
export * from './fingerprint.js';
export * from './normalize.js';
export * from './ordering.js';
export * from './schema.js';
