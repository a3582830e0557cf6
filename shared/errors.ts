/**
 * The small set of errors the domain throws. Each has a stable `code` that adapters map to an HTTP
 * status or a dead-letter reason in one place (shared/http/respond.ts `errorResponse` for HTTP;
 * shared/profiles/ingest-batch.ts for the events ingest refuses into shared/events/dead-letters.ts).
 * Also in the family, next to the code that throws them: `ConfigError` (shared/config.ts),
 * `TransientStepError` (shared/journeys/execution.ts) and `WebhookError`
 * (shared/journeys/nodes/webhook.ts), whose names the compiled Task's Retry lists,
 * `ChannelSendError` (shared/messaging/channel.ts; SES's `EmailSendError` is one) and
 * `SegmentCycleError` (shared/segments/engine.ts).
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

/** The base class of one kind of error: its stable `code` and the HTTP status it maps to. */
function errorKind<const Code extends string, const Status extends number>(code: Code, status: Status) {
  abstract class Kind extends CairnError {
    readonly code = code;
    readonly status = status;
  }
  return Kind;
}

/** Input that can never succeed as sent. `issues` lists every problem, each with its field path. */
export class ValidationError extends errorKind('validation_failed', 400) {
  readonly issues: Issue[];

  constructor(issues: Issue[], message = describeIssues(issues)) {
    super(message, { issues });
    this.issues = issues;
  }
}

export class NotFoundError extends errorKind('not_found', 404) {}

export class ConflictError extends errorKind('conflict', 409) {}

export class UnauthorizedError extends errorKind('unauthorized', 401) {}

export class PayloadTooLargeError extends errorKind('payload_too_large', 413) {}

export class NotImplementedError extends errorKind('not_implemented', 501) {}

/** The request was well formed, but the method is not one the path supports. */
export class MethodNotAllowedError extends errorKind('method_not_allowed', 405) {
  constructor(readonly allowed: readonly string[]) {
    super(`method not allowed; this path supports ${allowed.join(', ')}`);
  }
}

export class UnsupportedMediaTypeError extends errorKind('unsupported_media_type', 415) {}

/** A dependency (DynamoDB, EventBridge, Step Functions) is throttling or down: the caller should retry. */
export class ServiceUnavailableError extends errorKind('service_unavailable', 503) {}

/** Formats a path the way users write it: `batch[3].properties.price`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/** The issues without repeats (same path and message), in their order. */
export function uniqueIssues(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${JSON.stringify(issue.path)}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function describeIssues(issues: readonly Issue[]): string {
  if (issues.length === 0) return 'invalid input';
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}
