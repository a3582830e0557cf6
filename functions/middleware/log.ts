import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { CairnError } from '../../shared/errors.js';
import type { Logger, LogLevel } from '../../shared/log.js';

export interface InvocationLogOptions<TEvent, TResult> {
  log: Logger;
  /**
   * The id that ties this invocation to the rest of its story (API Gateway request id, execution
   * name, CloudFormation request id). Ids Cairn or AWS made only: never an email, user id or trait.
   */
  correlationId?: (event: TEvent) => string | undefined;
  /** Other fields every line of the invocation carries (method, path, batch size); same rule. */
  describe?: (event: TEvent) => Record<string, unknown>;
  /** Fields that summarise the outcome (status, counts); same rule: no personal data. */
  outcome?: (result: TResult) => Record<string, unknown>;
  /**
   * Level of the line of a successful invocation; a cold start logs at info at least, so its timing
   * is visible at the default level. @default 'info'
   */
  level?: LogLevel | ((result: TResult) => LogLevel);
  /** Clock for durations, replaceable in tests. @default Date.now */
  now?: () => number;
}

/** What the middleware adds to the Lambda context: the invocation's logger with its ids. */
export interface LoggedContext extends Context {
  log?: Logger;
}

/** The invocation's logger (set by lambdaLog), or `fallback` when the handler runs without it. */
export function invocationLog(context: Context | undefined, fallback: Logger): Logger {
  return (context as LoggedContext | undefined)?.log ?? fallback;
}

/**
 * One JSON line per invocation: `{ message: 'invocation', requestId, correlationId, coldStart, ms,
 * ...outcome }`, and on the first invocation of a container `initMs`, the time from building the
 * handler (module load) to its first event. A failure logs `errorName` and `code` at error level and
 * is rethrown (or answered by a later middleware such as httpErrors).
 */
export function lambdaLog<TEvent, TResult>(
  options: InvocationLogOptions<TEvent, TResult>,
): MiddlewareObj<TEvent, TResult, Error, Context> {
  const now = options.now ?? Date.now;
  const loadedAt = now();
  let coldStart = true;
  // Keyed by the invocation's context object: concurrent invocations in one process (the local stack) stay apart.
  const started = new WeakMap<object, { at: number; coldStart: boolean; log: Logger }>();
  const finish = (request: { context: object }) => {
    const state = started.get(request.context);
    started.delete(request.context);
    return state;
  };
  return {
    before: (request) => {
      const at = now();
      const fields: Record<string, unknown> = {
        requestId: request.context?.awsRequestId,
        correlationId: options.correlationId?.(request.event),
        ...options.describe?.(request.event),
        coldStart,
      };
      if (coldStart) fields.initMs = at - loadedAt;
      const log = options.log.child(withoutUndefined(fields));
      started.set(request.context, { at, coldStart, log });
      coldStart = false;
      if (request.context) (request.context as LoggedContext).log = log;
    },
    after: (request) => {
      const state = finish(request);
      if (!state) return;
      const result = request.response as TResult;
      const chosen = typeof options.level === 'function' ? options.level(result) : (options.level ?? 'info');
      const level = state.coldStart && chosen === 'debug' ? 'info' : chosen;
      state.log[level]('invocation', { ms: now() - state.at, ...options.outcome?.(result) });
    },
    onError: (request) => {
      const state = finish(request);
      const error = request.error as Error | undefined;
      (state?.log ?? options.log).error('invocation failed', {
        ms: state ? now() - state.at : undefined,
        errorName: error?.name,
        ...(error instanceof CairnError ? { code: error.code } : {}),
      });
    },
  };
}

function withoutUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
