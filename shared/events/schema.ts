import * as z from 'zod';
import { putEventsLimits, segmentTypes } from '../routing.js';

/**
 * Segment messages (https://segment.com/docs/connections/spec/), the one definition used by the ingest
 * handler, the HTTP API and the docs. `userId`, `previousId` and `groupId` may be strings or numbers,
 * as Segment's libraries allow; numbers are normalised to their decimal string so that `42` and `"42"`
 * are the same person. `anonymousId` must be a string (Segment's libraries always send one).
 */

/** Segment's own per-message limit is 32 KB; Cairn follows EventBridge's (one PutEvents call, 256 KB). */
export const maxEventBytes = putEventsLimits.bytes;
/** Segment's `/v1/batch` limit. */
export const maxBatchBytes = 500 * 1024;
/**
 * Ids become DynamoDB keys (`I#userId#<id>`: a partition key holds at most 2,048 bytes), so they are
 * limited in UTF-8 bytes, not characters: 1,024 "€" are 3,072 bytes.
 */
export const maxIdBytes = 1024;
/** A messageId is part of the event's sort key (at most 1,024 bytes with the timestamp). */
export const maxMessageIdBytes = 512;
/** How deep properties, traits and context may nest (DynamoDB's own limit for nested attributes). */
export const maxMessageDepth = 32;

const nonBlank = (what: string, maxBytes = maxIdBytes) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`),
    })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .refine((text) => Buffer.byteLength(text, 'utf8') <= maxBytes, {
      error: `${what} must be at most ${maxBytes} bytes in UTF-8`,
    });

/** A string id, or a finite number that becomes its decimal string. */
const idLike = (what: string) =>
  z.union(
    [
      nonBlank(what),
      z
        .number()
        .finite()
        .transform((n) => String(n)),
    ],
    {
      error: (issue) =>
        issue.input === undefined ? `${what} is required` : `${what} must be a non-empty string or a number`,
    },
  );

const isoTimestamp = (what: string) =>
  z.iso.datetime({ offset: true, error: `${what} must be an ISO-8601 date-time, e.g. 2026-01-31T09:30:00Z` });

/**
 * A JSON object, passed through as parsed: `z.record` would copy it by assignment, which drops a key
 * named `__proto__` (a trait or property name like any other).
 */
const objectOf = (what: string) =>
  z
    .custom<Record<string, unknown>>(
      (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
      { error: `${what} must be an object` },
    )
    .optional();

const common = {
  messageId: nonBlank('messageId', maxMessageIdBytes).optional(),
  userId: idLike('userId').optional(),
  anonymousId: nonBlank('anonymousId').optional(),
  timestamp: isoTimestamp('timestamp').optional(),
  originalTimestamp: isoTimestamp('originalTimestamp').optional(),
  sentAt: isoTimestamp('sentAt').optional(),
  context: objectOf('context'),
  integrations: objectOf('integrations'),
};

export const trackMessageSchema = z.object({
  ...common,
  type: z.literal('track'),
  event: nonBlank('event'),
  properties: objectOf('properties'),
});

export const identifyMessageSchema = z.object({
  ...common,
  type: z.literal('identify'),
  traits: objectOf('traits'),
});

export const aliasMessageSchema = z.object({
  ...common,
  type: z.literal('alias'),
  previousId: idLike('previousId'),
});

/** What a page view and a screen view carry besides the common fields. */
const viewFields = {
  name: z.string({ error: 'name must be a string' }).optional(),
  category: z.string({ error: 'category must be a string' }).optional(),
  properties: objectOf('properties'),
};

export const pageMessageSchema = z.object({ ...common, type: z.literal('page'), ...viewFields });

export const screenMessageSchema = z.object({ ...common, type: z.literal('screen'), ...viewFields });

export const groupMessageSchema = z.object({
  ...common,
  type: z.literal('group'),
  groupId: idLike('groupId'),
  traits: objectOf('traits'),
});

/**
 * One Segment message as sent. At least one of userId / anonymousId (checked with a path of `userId`),
 * `event` for track, `previousId` for alias, `groupId` for group. Unknown top-level keys are dropped.
 */
export const segmentMessageSchema = z
  .discriminatedUnion(
    'type',
    [
      trackMessageSchema,
      identifyMessageSchema,
      aliasMessageSchema,
      pageMessageSchema,
      screenMessageSchema,
      groupMessageSchema,
    ],
    { error: `type must be one of ${segmentTypes.join(', ')}` },
  )
  .superRefine((message, ctx) => {
    if (message.userId === undefined && message.anonymousId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'userId or anonymousId is required' });
    }
  });

export type SegmentMessage = z.output<typeof segmentMessageSchema>;
export type SegmentMessageInput = z.input<typeof segmentMessageSchema>;

/** `POST /v1/batch` body. Items are validated one by one (see parseBatch) so each issue names its index. */
export const batchSchema = z.object({
  batch: z.array(z.unknown(), { error: 'batch must be an array of messages' }).min(1, {
    error: 'batch must contain at least one message',
  }),
  context: objectOf('context'),
  integrations: objectOf('integrations'),
  sentAt: isoTimestamp('sentAt').optional(),
});
