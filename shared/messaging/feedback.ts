/**
 * What a provider reports about a message after it was sent, read into Cairn's words: the outcome
 * for the message's status history and counters, and the addresses that are dead for their channel.
 * Each channel reads its own provider's events (shared/channels/email-events.ts,
 * shared/channels/sms/receipts.ts); shared/runtime/feedback.ts records what they read.
 */
import type { SuppressionReason } from './channel.js';
import type { Channel } from './policy.js';

/** The status a feedback event gives the message (each is also the node's counter of that name). */
export type FeedbackOutcome = 'delivered' | 'failed' | 'bounced' | 'complained' | 'opened' | 'clicked';

export interface ProviderFeedback {
  channel: Channel;
  /** The provider's name for the event (`Bounce`, `TEXT_INVALID`), for logs. */
  event: string;
  /** Undefined: nothing to record on the message (a queued or pending receipt). */
  outcome?: FeedbackOutcome;
  /** The message record, from the tags / context the send carried. */
  message?: { executionName: string; nodeId: string; journeyId: string };
  /** ISO-8601, when the provider saw it. */
  at?: string;
  /** Kept in the status history: `Permanent/General`, `TEXT_INVALID`. */
  detail?: string;
  /** Addresses the channel reports dead: suppressed with this reason, whatever sent to them. */
  suppress?: { reason: SuppressionReason; addresses: string[] };
}

/** An EventBridge event as an SQS message body carries it. */
export interface ProviderEventEnvelope {
  source?: string;
  'detail-type'?: string;
  time?: string;
  detail?: unknown;
}

/** The message key from the three ids a send carried, or undefined when one is missing or empty. */
export function feedbackMessage(ids: {
  execution?: unknown;
  nodeId?: unknown;
  journeyId?: unknown;
}): ProviderFeedback['message'] {
  const { execution, nodeId, journeyId } = ids;
  if (typeof execution !== 'string' || typeof nodeId !== 'string' || typeof journeyId !== 'string')
    return undefined;
  if (!execution || !nodeId || !journeyId) return undefined;
  return { executionName: execution, nodeId, journeyId };
}
