import { stableHash } from '../ids.js';
import { canonicalJson, type NormalizedMessage } from './normalize.js';

/**
 * What makes two deliveries "the same message" for deduplication.
 *
 * Scope: a messageId is only unique per sender (Segment: per source and user), so the dedupe key is
 * the sender's identity (userId and anonymousId as sent) plus the messageId: two people's events
 * never collide, whatever ids their apps pick.
 *
 * Content: a redelivery carries the same content. A second message under the same key with other
 * content is not a duplicate: it is processed as a message of its own, and logged as a reused
 * messageId. The times (`timestamp`, `receivedAt`, `sentAt`, `originalTimestamp`) are left out: an
 * HTTP retry without a timestamp is stamped again on arrival, and is still the same message.
 */
export function dedupeKey(message: NormalizedMessage): string {
  return stableHash('dedupe', message.userId ?? '', message.anonymousId ?? '', message.messageId);
}

export function contentHash(message: NormalizedMessage): string {
  const {
    messageId: _messageId,
    timestamp: _timestamp,
    receivedAt: _receivedAt,
    sentAt: _sentAt,
    originalTimestamp: _originalTimestamp,
    clampedTimestamp: _clampedTimestamp,
    messageIdReused: _messageIdReused,
    ...content
  } = message;
  return stableHash(canonicalJson(content)).slice(0, 22);
}

/**
 * The message under a messageId of its own, for when its sender's messageId was already used for a
 * message with other content: `<messageId>#<content hash>`, flagged `messageIdReused`, so it is
 * stored, deduplicated and journeyed as the distinct message it is, and its own redelivery is
 * recognised too.
 */
export function withOwnMessageId(message: NormalizedMessage): NormalizedMessage {
  return {
    ...message,
    messageId: `${message.messageId}#${contentHash(message).slice(0, 12)}`,
    messageIdReused: true,
  };
}
