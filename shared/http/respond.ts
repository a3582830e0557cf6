import { CairnError, formatPath, type Issue, MethodNotAllowedError, ValidationError } from '../errors.js';

export { MethodNotAllowedError, ServiceUnavailableError, UnsupportedMediaTypeError } from '../errors.js';

import type { Logger } from '../log.js';
import type { HttpApiResult } from './event.js';

/**
 * Building responses happens here and only here: every route returns data or throws a CairnError,
 * and this module turns both into `{ "error": { "code", "message", "details"? } }` bodies with the
 * error's status. Anything else is a 500 with a generic message: no stack traces or internal error
 * text ever reach the caller (they go to the log).
 */

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpApiResult {
  return { statusCode, headers: { ...jsonHeaders, ...headers }, body: JSON.stringify(body) };
}

/** Retryable AWS SDK failures: answered with 503 so clients (analytics SDKs included) retry. */
const transientNames =
  /Throttl|TooManyRequests|ServiceUnavailable|ProvisionedThroughputExceeded|RequestLimitExceeded|TransactionConflict|InternalServerError|InternalFailure/;

function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const retryable = (error as { $retryable?: unknown }).$retryable;
  return retryable !== undefined || transientNames.test(error.name);
}

function issuesOut(issues: readonly Issue[]) {
  return issues.map((issue) => ({ path: issue.path, field: formatPath(issue.path), message: issue.message }));
}

/** Maps any thrown value to the response the caller sees, logging what the caller must not see. */
export function errorResponse(error: unknown, log?: Logger): HttpApiResult {
  if (error instanceof CairnError) {
    const body: { code: string; message: string; details?: unknown } = {
      code: error.code,
      message: error.message,
    };
    if (error instanceof ValidationError) body.details = { issues: issuesOut(error.issues) };
    else if (error.details !== undefined) body.details = error.details;
    const headers: Record<string, string> = {};
    if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ');
    if (error.status >= 500) log?.warn('request failed', { code: error.code, status: error.status });
    return json(error.status, { error: body }, headers);
  }
  if (isTransient(error)) {
    log?.warn('dependency unavailable', { errorName: (error as Error).name });
    return json(
      503,
      {
        error: {
          code: 'service_unavailable',
          message: 'a dependency is temporarily unavailable; retry later',
        },
      },
      { 'retry-after': '1' },
    );
  }
  const e = error instanceof Error ? error : new Error(String(error));
  log?.error('unhandled error', { errorName: e.name, errorMessage: e.message, stack: e.stack });
  return json(500, { error: { code: 'internal_error', message: 'internal server error' } });
}
