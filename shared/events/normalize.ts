import type * as z from 'zod';
import type { Clock } from '../clock.js';
import { type Issue, PayloadTooLargeError, ValidationError } from '../errors.js';
import { type IdGenerator, stableHash } from '../ids.js';
import { jsonShapeIssues } from '../json-shape.js';
import { type SegmentType, segmentTypes } from '../routing.js';
import {
  batchSchema,
  maxBatchBytes,
  maxEventBytes,
  maxMessageDepth,
  segmentMessageSchema,
} from './schema.js';

/**
 * A validated message with everything later stages rely on filled in: a messageId (generated when
 * the sender gave none), `receivedAt` from the injected clock, and `timestamp` (the event time
 * used for ordering and last-write-wins trait merges) in UTC ISO form.
 */
export type NormalizedMessage = {
  type: SegmentType;
  messageId: string;
  userId?: string;
  anonymousId?: string;
  /** alias: the identifier the user had before (an anonymousId or an older userId). */
  previousId?: string;
  /** group: the account id. */
  groupId?: string;
  /** track: the event name. */
  event?: string;
  /** page / screen. */
  name?: string;
  category?: string;
  properties: Record<string, unknown>;
  /** identify: the user's traits; group: the group's traits; else empty. */
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  timestamp: string;
  receivedAt: string;
  sentAt?: string;
  originalTimestamp?: string;
  /**
   * The event time as sent (or as computed from `originalTimestamp` and `sentAt`) when it lay more
   * than `futureTolerance` after `receivedAt` (or was out of range): `timestamp` is then `receivedAt`.
   */
  clampedTimestamp?: string;
  /**
   * Set by ingest when the sender's messageId was already used for a message with other content:
   * this one is processed as a message of its own (see events/fingerprint.ts).
   */
  messageIdReused?: true;
};

/**
 * Event times later than the receive time by more than this are clamped to the receive time, so a
 * device with a wrong clock (or a hostile sender) cannot stamp an identify 9999-12-31 and win every
 * later last-write-wins trait merge, or push `lastSeen` into the future.
 */
export const futureTolerance = 60 * 60 * 1000;

export interface ParseDeps {
  clock: Clock;
  ids: IdGenerator;
}

export interface ParseOptions {
  /** The type implied by the route (`/v1/track`) or the EventBridge DetailType; must match `type` if both are set. */
  type?: SegmentType;
  /** Prefix for issue paths, e.g. `['batch', 3]`. */
  path?: (string | number)[];
  /** Batch-level defaults (Segment `/v1/batch` allows `context` and `integrations` on the batch). */
  defaults?: { context?: Record<string, unknown>; integrations?: Record<string, unknown> };
  /**
   * The messageId when the sender gave none: something stable across redeliveries of the same
   * message (the EventBridge event id). Without it, see `derivedMessageId`.
   */
  messageIdFallback?: string;
}

/** Size in UTF-8 bytes of the JSON form. Call after `jsonShapeIssues` (deep nesting overflows the stack). */
export function byteSize(input: unknown): number {
  return Buffer.byteLength(JSON.stringify(input) ?? '', 'utf8');
}

/** Nesting and Unicode problems of a message, checked before anything recurses over it. */
function shapeIssues(input: unknown, path: (string | number)[]): Issue[] {
  return jsonShapeIssues(input, { maxDepth: maxMessageDepth, path });
}

/**
 * Validates one Segment message. Throws ValidationError listing every problem with its field path,
 * or PayloadTooLargeError above 256 KB.
 */
export function parseMessage(input: unknown, deps: ParseDeps, options: ParseOptions = {}): NormalizedMessage {
  const shape = shapeIssues(input, options.path ?? []);
  if (shape.length > 0) throw new ValidationError(shape);
  const size = byteSize(input);
  if (size > maxEventBytes) {
    throw new PayloadTooLargeError(tooLarge('message', size, maxEventBytes), { size, limit: maxEventBytes });
  }
  const result = validate(input, options);
  if (!result.ok) throw new ValidationError(result.issues);
  return normalize(result.message, deps, options);
}

/**
 * Validates a `/v1/batch` body: every message is checked and every problem is reported at once, with
 * paths such as `batch[3].userId`. Throws if any message is invalid (the batch is rejected as a whole,
 * so a sender never has to guess which part was accepted).
 */
export function parseBatch(input: unknown, deps: ParseDeps): NormalizedMessage[] {
  // Batch-level fields and each item, at the same depth limit as a single message.
  const shape = jsonShapeIssues(input, { maxDepth: maxMessageDepth + 2 });
  if (shape.length > 0) throw new ValidationError(shape);
  const size = byteSize(input);
  if (size > maxBatchBytes) {
    throw new PayloadTooLargeError(tooLarge('batch', size, maxBatchBytes), { size, limit: maxBatchBytes });
  }
  const envelope = batchSchema.safeParse(input);
  if (!envelope.success) throw new ValidationError(toIssues(envelope.error, []));
  const defaults = { context: envelope.data.context, integrations: envelope.data.integrations };
  const issues: Issue[] = [];
  const messages: NormalizedMessage[] = [];
  envelope.data.batch.forEach((item, index) => {
    const path = ['batch', index];
    const itemSize = byteSize(item);
    if (itemSize > maxEventBytes) {
      issues.push({ path, message: tooLarge('message', itemSize, maxEventBytes) });
      return;
    }
    const result = validate(item, { path });
    if (result.ok) messages.push(normalize(result.message, deps, { defaults }));
    else issues.push(...result.issues);
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return messages;
}

/**
 * An EventBridge event as delivered to a target (`{ 'detail-type', detail }`) or as a PutEvents entry
 * (`{ DetailType, Detail: '<json>' }`): DetailType is the Segment type and Detail the message.
 */
export function fromEventBridge(envelope: unknown, deps: ParseDeps): NormalizedMessage {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new ValidationError([{ path: [], message: 'EventBridge event must be an object' }]);
  }
  const record = envelope as Record<string, unknown>;
  const detailTypeKey = 'detail-type' in record ? 'detail-type' : 'DetailType';
  const detailKey = 'detail' in record ? 'detail' : 'Detail';
  const detailType = record[detailTypeKey];
  let detail = record[detailKey];
  if (typeof detail === 'string') {
    try {
      detail = JSON.parse(detail);
    } catch {
      throw new ValidationError([{ path: [detailKey], message: `${detailKey} must be a JSON object` }]);
    }
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new ValidationError([{ path: [detailKey], message: `${detailKey} must be a JSON object` }]);
  }
  if (!isSegmentType(detailType)) {
    // The DetailType names a kind of event, not a person: safe to show, so the sender sees the typo.
    const got = typeof detailType === 'string' ? ` (got ${JSON.stringify(detailType.slice(0, 64))})` : '';
    throw new ValidationError([
      {
        path: [detailTypeKey],
        message: `${detailTypeKey} must be one of ${segmentTypeList}${got}; no ingest rule takes it`,
      },
    ]);
  }
  const eventId = typeof record.id === 'string' && record.id !== '' ? record.id : undefined;
  return parseMessage(detail, deps, {
    type: detailType,
    path: [detailKey],
    ...(eventId === undefined ? {} : { messageIdFallback: eventId }),
  });
}

const segmentTypeList = segmentTypes.join(', ');
const segmentTypeSet = new Set<string>(segmentTypes);

export function isSegmentType(value: unknown): value is SegmentType {
  return typeof value === 'string' && segmentTypeSet.has(value);
}

type Validated =
  | { ok: true; message: z.output<typeof segmentMessageSchema> }
  | { ok: false; issues: Issue[] };

function validate(input: unknown, options: ParseOptions): Validated {
  const prefix = options.path ?? [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ path: prefix, message: 'message must be a JSON object' }] };
  }
  let candidate = input as Record<string, unknown>;
  if (options.type !== undefined) {
    if (candidate.type === undefined) candidate = { ...candidate, type: options.type };
    else if (candidate.type !== options.type) {
      return {
        ok: false,
        issues: [
          {
            path: [...prefix, 'type'],
            message: `type must be ${options.type} here, got ${String(candidate.type)}`,
          },
        ],
      };
    }
  }
  if (!isSegmentType(candidate.type)) {
    const message =
      candidate.type === undefined ? 'type is required' : `type must be one of ${segmentTypeList}`;
    return { ok: false, issues: [{ path: [...prefix, 'type'], message }] };
  }
  const parsed = segmentMessageSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, prefix) };
  return { ok: true, message: parsed.data };
}

function toIssues(error: z.ZodError, prefix: (string | number)[]): Issue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    return { path, message: issue.message };
  });
}

function normalize(
  message: z.output<typeof segmentMessageSchema>,
  deps: ParseDeps,
  options: ParseOptions,
): NormalizedMessage {
  const now = deps.clock.now();
  const receivedAt = new Date(now).toISOString();
  const time = eventTime(message, now);
  const out: NormalizedMessage = {
    type: message.type,
    messageId: message.messageId ?? options.messageIdFallback ?? derivedMessageId(message) ?? deps.ids.next(),
    properties: 'properties' in message ? (message.properties ?? {}) : {},
    traits: 'traits' in message ? (message.traits ?? {}) : {},
    context: message.context ?? options.defaults?.context ?? {},
    timestamp: time.timestamp,
    receivedAt,
  };
  if (time.clamped !== undefined) out.clampedTimestamp = time.clamped;
  if (message.userId !== undefined) out.userId = message.userId;
  if (message.anonymousId !== undefined) out.anonymousId = message.anonymousId;
  const integrations = message.integrations ?? options.defaults?.integrations;
  if (integrations !== undefined) out.integrations = integrations;
  if (message.sentAt !== undefined) out.sentAt = toUtc(message.sentAt);
  if (message.originalTimestamp !== undefined) out.originalTimestamp = toUtc(message.originalTimestamp);
  switch (message.type) {
    case 'track':
      out.event = message.event;
      break;
    case 'alias':
      out.previousId = message.previousId;
      break;
    case 'group':
      out.groupId = message.groupId;
      break;
    case 'page':
    case 'screen':
      if (message.name !== undefined) out.name = message.name;
      if (message.category !== undefined) out.category = message.category;
      break;
  }
  return out;
}

/**
 * A messageId for a message sent over HTTP without one. A client that retries a request sends the
 * same bytes again, so a message that carries its own time (`timestamp` or `originalTimestamp`, as
 * every Segment library sends) gets an id derived from its content: the retry is recognised as the
 * same message. A message without any time of its own cannot be told apart from a genuine repeat,
 * so it gets a fresh id (README: reliability).
 */
export function derivedMessageId(message: Record<string, unknown>): string | undefined {
  if (message.timestamp === undefined && message.originalTimestamp === undefined) return undefined;
  return `cairn-${stableHash(canonicalJson(message)).slice(0, 32)}`;
}

/** JSON with object keys sorted, so equal content gives equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    const body = keys
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${body.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The earliest time `toISOString` writes with a four-digit year (string order = time order). */
const earliestTime = Date.parse('0000-01-01T00:00:00.000Z');

/**
 * Segment's rule: an explicit `timestamp` wins; otherwise `originalTimestamp` corrected for the
 * device's clock skew (receivedAt - (sentAt - originalTimestamp)); otherwise the time it arrived.
 * A result more than `futureTolerance` after the receive time, or outside years 0000-9999, is
 * clamped to the receive time and reported as `clamped`.
 */
function eventTime(
  message: { timestamp?: string; originalTimestamp?: string; sentAt?: string },
  now: number,
): { timestamp: string; clamped?: string } {
  let time = now;
  let sent: string | undefined;
  if (message.timestamp !== undefined) {
    time = Date.parse(message.timestamp);
    sent = message.timestamp;
  } else if (message.originalTimestamp !== undefined) {
    const original = Date.parse(message.originalTimestamp);
    time = message.sentAt !== undefined ? now - (Date.parse(message.sentAt) - original) : original;
    sent = message.originalTimestamp;
  }
  if (Number.isFinite(time) && time >= earliestTime && time <= now + futureTolerance) {
    return { timestamp: new Date(time).toISOString() };
  }
  const representable = Number.isFinite(time) && Math.abs(time) <= 8.64e15;
  return {
    timestamp: new Date(now).toISOString(),
    clamped: representable ? new Date(time).toISOString() : String(sent),
  };
}

function toUtc(iso: string): string {
  return new Date(Date.parse(iso)).toISOString();
}

function tooLarge(what: string, size: number, limit: number): string {
  return `${what} is ${size} bytes; the limit is ${limit} bytes (${limit / 1024} KB)`;
}
