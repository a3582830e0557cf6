export * from './auth.js';
export type { HttpApiEvent, HttpApiResult } from './event.js';
export * from './request.js';
export * from './respond.js';
export * from './router.js';
