export * from './identifiers.js';
export * from './resolve.js';
export * from './traits.js';
