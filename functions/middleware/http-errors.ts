import type { MiddlewareObj } from '@middy/core';
import type { HttpApiResult } from '../../shared/http/event.js';
import { errorResponse } from '../../shared/http/respond.js';
import type { Logger } from '../../shared/log.js';

/**
 * Whatever an HTTP handler throws (a route's CairnError is already answered by the router; this
 * catches what happens around it, e.g. dependencies that cannot be created) becomes the response
 * shared/http/respond.ts builds for it: the same `{ error: { code, message } }`, 503 for throttling,
 * a generic 500 otherwise. Register it first so it runs last on errors, after lambdaLog logged it.
 */
export function httpErrors<TEvent>(log?: Logger): MiddlewareObj<TEvent, HttpApiResult> {
  return {
    onError: (request) => {
      request.response = errorResponse(request.error, log);
    },
  };
}
