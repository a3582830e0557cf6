import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { createLogger, type Logger } from '../log.js';
import type { MessageStatus } from './message-store.js';
import type { RuntimeStore } from './store.js';
import type { StatCounter } from './types.js';

/**
 * SES event-destination events (through EventBridge and SQS): the message's status history and the
 * per-node message counters. The message is found by the EmailTags the step set (`execution`,
 * `nodeId`, `journeyId`). Delivery, bounce and complaint count once per message even when SQS
 * delivers the event twice; opens and clicks count every time (each is a real open or click).
 */

/** An EventBridge event as delivered in an SQS message body. */
export interface SesEventEnvelope {
  source?: string;
  'detail-type'?: string;
  time?: string;
  detail?: {
    eventType?: string;
    mail?: { messageId?: string; tags?: Record<string, string[] | undefined> };
    bounce?: { bounceType?: string; bounceSubType?: string };
    click?: { link?: string };
    reject?: { reason?: string };
  };
}

const statusOf: Record<string, { status: MessageStatus; counter?: StatCounter; once: boolean }> = {
  Delivery: { status: 'delivered', counter: 'delivered', once: true },
  Bounce: { status: 'bounced', counter: 'bounced', once: true },
  Complaint: { status: 'complained', counter: 'complained', once: true },
  Open: { status: 'opened', counter: 'opened', once: false },
  Click: { status: 'clicked', counter: 'clicked', once: false },
  Reject: { status: 'failed', counter: 'failed', once: true },
  'Rendering Failure': { status: 'failed', counter: 'failed', once: true },
};

export interface FeedbackDeps {
  store: Pick<RuntimeStore, 'updateMessage' | 'addStats'>;
  clock: Clock;
  log?: Logger;
}

export type FeedbackOutcome = 'recorded' | 'duplicate' | 'ignored' | 'unknown-message';

export async function applyEmailFeedback(
  envelope: SesEventEnvelope,
  deps: FeedbackDeps,
): Promise<FeedbackOutcome> {
  const log = deps.log ?? createLogger({ component: 'feedback' });
  const detail = envelope.detail;
  const type = detail?.eventType;
  const mapping = type ? statusOf[type] : undefined;
  // `Send` is recorded by the step itself; DeliveryDelay and Subscription change nothing here.
  if (!mapping) return 'ignored';
  const tag = (name: string) => detail?.mail?.tags?.[name]?.[0];
  const executionName = tag('execution');
  const nodeId = tag('nodeId');
  const journeyId = tag('journeyId');
  if (!executionName || !nodeId || !journeyId) {
    log.warn('email event without Cairn tags', {
      eventType: type,
      providerMessageId: detail?.mail?.messageId,
    });
    return 'ignored';
  }
  const feedbackDetail =
    type === 'Bounce'
      ? [detail?.bounce?.bounceType, detail?.bounce?.bounceSubType].filter(Boolean).join('/')
      : type === 'Reject'
        ? detail?.reject?.reason
        : undefined;
  const updated = await deps.store.updateMessage(
    { executionName, nodeId },
    {
      status: mapping.status,
      at: envelope.time ? new Date(envelope.time).toISOString() : isoAt(deps.clock),
      ...(feedbackDetail && { detail: feedbackDetail }),
      once: mapping.once,
      // A late delivery report never hides a bounce or a complaint.
      ...(mapping.status === 'delivered' || mapping.status === 'opened' || mapping.status === 'clicked'
        ? { ifStatusIn: ['sending', 'sent', 'delivered', 'opened', 'clicked'] as MessageStatus[] }
        : {}),
    },
  );
  if (!updated) {
    if (!mapping.once) log.warn('email event for an unknown message', { execution: executionName, nodeId });
    return mapping.once ? 'duplicate' : 'unknown-message';
  }
  if (mapping.counter) await deps.store.addStats(journeyId, [{ nodeId, counter: mapping.counter }]);
  return 'recorded';
}
