/**
 * The small set of errors the domain throws. Each has a stable `code` that adapters map to an HTTP
 * status or a dead-letter reason in one place (shared/http/respond.ts `errorResponse` for HTTP;
 * shared/events/dead-letters.ts for events ingest refuses).
 */

/** One problem with an input: where it is (a path of keys and indexes) and what is wrong. */
export interface Issue {
  path: (string | number)[];
  message: string;
}

export abstract class CairnError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details?: unknown;

  constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** Input that can never succeed as sent. `issues` lists every problem, each with its field path. */
export class ValidationError extends CairnError {
  readonly code = 'validation_failed';
  readonly status = 400;
  readonly issues: Issue[];

  constructor(issues: Issue[], message = describeIssues(issues)) {
    super(message, { issues });
    this.issues = issues;
  }
}

export class NotFoundError extends CairnError {
  readonly code = 'not_found';
  readonly status = 404;
}

export class ConflictError extends CairnError {
  readonly code = 'conflict';
  readonly status = 409;
}

export class UnauthorizedError extends CairnError {
  readonly code = 'unauthorized';
  readonly status = 401;
}

export class PayloadTooLargeError extends CairnError {
  readonly code = 'payload_too_large';
  readonly status = 413;
}

export class NotImplementedError extends CairnError {
  readonly code = 'not_implemented';
  readonly status = 501;
}

/** The request was well formed, but the method is not one the path supports. */
export class MethodNotAllowedError extends CairnError {
  readonly code = 'method_not_allowed';
  readonly status = 405;
  constructor(readonly allowed: readonly string[]) {
    super(`method not allowed; this path supports ${allowed.join(', ')}`);
  }
}

export class UnsupportedMediaTypeError extends CairnError {
  readonly code = 'unsupported_media_type';
  readonly status = 415;
}

/** A dependency (DynamoDB, EventBridge, Step Functions) is throttling or down: the caller should retry. */
export class ServiceUnavailableError extends CairnError {
  readonly code = 'service_unavailable';
  readonly status = 503;
}

/** Formats a path the way users write it: `batch[3].properties.price`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

export function describeIssues(issues: readonly Issue[]): string {
  if (issues.length === 0) return 'invalid input';
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}
