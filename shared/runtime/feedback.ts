import { readSesEvent } from '../channels/email-events.js';
import { readSmsReceipt } from '../channels/sms/receipts.js';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { createLogger, type Logger } from '../log.js';
import type { SuppressionReason } from '../messaging/channel.js';
import type { ProviderEventEnvelope, ProviderFeedback } from '../messaging/feedback.js';
import type { Channel } from '../messaging/policy.js';
import type { MessageStatus } from './message-store.js';
import type { RuntimeStore } from './store.js';

export type { ProviderEventEnvelope };

/**
 * Provider events about sent messages (through EventBridge and SQS), whatever the channel: SES
 * (delivery, bounce, complaint, open, click, reject) and End User Messaging SMS delivery receipts.
 * Each channel reads its own events into a `ProviderFeedback`; here it is recorded:
 *
 *   1. the addresses it reports dead are suppressed for their channel (hard bounce, complaint,
 *      permanent SMS failure), even for a message Cairn did not send (no tags)
 *   2. the message's status history and the node's counter (delivered, bounced, complained and
 *      failed count once per message even when SQS delivers the event twice; opens and clicks count
 *      every time: each is a real open or click)
 *
 * Push has no receipts: SNS reports a dead device token when Cairn publishes to it, and the send
 * gateway suppresses it then (shared/messaging/gateway.ts).
 */

/** Readers by EventBridge source. */
const readers: Record<string, (envelope: ProviderEventEnvelope) => ProviderFeedback | undefined> = {
  'aws.ses': readSesEvent,
  'aws.sms-voice': readSmsReceipt,
};

export interface FeedbackDeps {
  store: Pick<RuntimeStore, 'updateMessage' | 'addStats'>;
  suppressions: {
    suppress(channel: Channel, address: string, reason: SuppressionReason, at: string): Promise<void>;
  };
  clock: Clock;
  log?: Logger;
}

export type FeedbackResult = 'recorded' | 'duplicate' | 'ignored' | 'unknown-message';

const countedOnce = new Set<MessageStatus>(['delivered', 'bounced', 'complained', 'failed']);
const notAfterFailure: MessageStatus[] = ['sending', 'sent', 'delivered', 'opened', 'clicked'];

export async function applyFeedback(
  envelope: ProviderEventEnvelope,
  deps: FeedbackDeps,
): Promise<FeedbackResult> {
  const log = deps.log ?? createLogger({ component: 'feedback' });
  const read =
    envelope.source && Object.hasOwn(readers, envelope.source) ? readers[envelope.source] : undefined;
  const feedback = read?.(envelope);
  if (!feedback) return 'ignored';
  const at = feedback.at ?? isoAt(deps.clock);
  for (const address of feedback.suppress?.addresses ?? [])
    await deps.suppressions.suppress(feedback.channel, address, feedback.suppress!.reason, at);
  if (feedback.suppress)
    log.info('addresses suppressed', {
      channel: feedback.channel,
      reason: feedback.suppress.reason,
      count: feedback.suppress.addresses.length,
    });
  const status = feedback.outcome;
  if (!status) return 'ignored';
  if (!feedback.message) {
    log.warn('feedback without Cairn tags', { channel: feedback.channel, event: feedback.event });
    return feedback.suppress ? 'recorded' : 'ignored';
  }
  const { executionName, nodeId, journeyId } = feedback.message;
  const once = countedOnce.has(status);
  const updated = await deps.store.updateMessage(
    { executionName, nodeId },
    {
      status,
      at,
      ...(feedback.detail && { detail: feedback.detail }),
      once,
      // A late delivery report never hides a bounce, a complaint or a failure.
      ...(status === 'delivered' || status === 'opened' || status === 'clicked'
        ? { ifStatusIn: notAfterFailure }
        : {}),
    },
  );
  if (!updated) {
    if (!once) log.warn('feedback for an unknown message', { execution: executionName, nodeId });
    return once ? 'duplicate' : 'unknown-message';
  }
  await deps.store.addStats(journeyId, [{ nodeId, counter: status }]);
  return 'recorded';
}

/** Which message an unsubscribe link came from (the link carries it, shared/channels/unsubscribe.ts). */
export interface MessageRef {
  executionName: string;
  nodeId: string;
}

export interface UnsubscribeFeedbackDeps {
  store: Pick<RuntimeStore, 'getMessage' | 'updateMessage' | 'addStats'>;
  clock: Clock;
  log?: Logger;
}

/**
 * An unsubscribe made through a message's link, whatever its scope (all marketing, a channel, a
 * topic): the message's status history gains `unsubscribed` (`detail` says the scope) and its node's
 * `unsubscribed` counter (stats and the report's `messages`) counts it. Once per message: the history
 * says whether it was counted already, so a second click or a redelivery counts nothing. A message
 * that is not the profile's (the link is signed for the profile only) is ignored.
 */
export async function applyUnsubscribeFeedback(
  message: MessageRef,
  profileId: string,
  deps: UnsubscribeFeedbackDeps,
  detail?: string,
): Promise<FeedbackResult> {
  const record = await deps.store.getMessage(message.executionName, message.nodeId);
  if (!record || record.profileId !== profileId) {
    (deps.log ?? createLogger({ component: 'feedback' })).warn('unsubscribe for an unknown message', {
      execution: message.executionName,
      nodeId: message.nodeId,
    });
    return 'unknown-message';
  }
  const updated = await deps.store.updateMessage(message, {
    status: 'unsubscribed',
    at: isoAt(deps.clock),
    ...(detail && { detail }),
    once: true,
    // The status shows it, unless the message bounced, was complained about or failed (those stay).
    ifStatusIn: notAfterFailure,
  });
  if (!updated) return 'duplicate';
  await deps.store.addStats(record.journeyId, [{ nodeId: message.nodeId, counter: 'unsubscribed' }]);
  return 'recorded';
}
