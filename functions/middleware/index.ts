/**
 * The middy middlewares every Cairn Lambda uses, so each `functions/<name>/handler.ts` stays an
 * adapter: `lambdaLog` (one structured JSON line per invocation with a correlation id, duration and
 * cold start; failures by error name and code, never their text or the event), `parsedEvent` (the
 * event through a zod schema: a ValidationError with field paths instead of a crash deep inside),
 * `httpErrors` (anything an HTTP handler throws becomes the one error response shape of
 * shared/http/respond.ts). Nothing here knows a domain.
 */
export { httpErrors } from './http-errors.js';
export { type InvocationLogOptions, invocationLog, type LoggedContext, lambdaLog } from './log.js';
export { parsedEvent } from './parse.js';
export { sqsBatchLog } from './sqs.js';
