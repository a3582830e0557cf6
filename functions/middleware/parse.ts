import type { MiddlewareObj } from '@middy/core';
import type { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { zodIssues } from '../../shared/journeys/validate.js';

/**
 * Replaces the event by its parsed form, so the handler receives a typed value. An event that does
 * not match throws a ValidationError listing every field path and reason (the error's name is what
 * a Step Functions Catch or a DLQ reason sees), before any work is done.
 */
export function parsedEvent<TSchema extends z.ZodType>(schema: TSchema): MiddlewareObj<unknown, unknown> {
  return {
    before: (request) => {
      const parsed = schema.safeParse(request.event);
      if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, request.event));
      request.event = parsed.data;
    },
  };
}
