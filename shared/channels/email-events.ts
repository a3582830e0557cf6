/**
 * SES event publishing (configuration set → EventBridge, source `aws.ses`) read as feedback. The
 * message is found by the EmailTags the send set (`execution`, `nodeId`, `journeyId`). A permanent
 * bounce suppresses each bounced address (`hard_bounce`), a complaint each complaining address
 * (`complaint`); a transient bounce (mailbox full, message too large) is recorded, not suppressed.
 */
import type { ProviderEventEnvelope, ProviderFeedback } from '../messaging/feedback.js';
import { feedbackMessage } from '../messaging/feedback.js';

interface SesEventDetail {
  eventType?: string;
  mail?: { messageId?: string; tags?: Record<string, string[] | undefined> };
  bounce?: { bounceType?: string; bounceSubType?: string; bouncedRecipients?: { emailAddress?: string }[] };
  complaint?: { complainedRecipients?: { emailAddress?: string }[]; complaintFeedbackType?: string };
  reject?: { reason?: string };
}

const outcomes: Record<string, ProviderFeedback['outcome']> = {
  Delivery: 'delivered',
  Bounce: 'bounced',
  Complaint: 'complained',
  Open: 'opened',
  Click: 'clicked',
  Reject: 'failed',
  'Rendering Failure': 'failed',
};

/** `Name <a@b.c>` or `a@b.c` → `a@b.c`. */
function bareAddress(address: unknown): string | undefined {
  if (typeof address !== 'string') return undefined;
  const bare = (/<([^>]+)>/.exec(address)?.[1] ?? address).trim();
  return bare.includes('@') ? bare : undefined;
}

function addresses(list: { emailAddress?: string }[] | undefined): string[] {
  return (Array.isArray(list) ? list : []).flatMap((r) => bareAddress(r?.emailAddress) ?? []);
}

/** One SES event as feedback; undefined for events that change nothing (`Send`, `DeliveryDelay`). */
export function readSesEvent(envelope: ProviderEventEnvelope): ProviderFeedback | undefined {
  const detail = (envelope.detail ?? {}) as SesEventDetail;
  const event = detail.eventType;
  const outcome = event ? outcomes[event] : undefined;
  if (!event || !outcome) return undefined;
  const tag = (name: string) => detail.mail?.tags?.[name]?.[0];
  const message = feedbackMessage({
    execution: tag('execution'),
    nodeId: tag('nodeId'),
    journeyId: tag('journeyId'),
  });
  const permanent = event === 'Bounce' && detail.bounce?.bounceType === 'Permanent';
  const dead = permanent
    ? { reason: 'hard_bounce' as const, addresses: addresses(detail.bounce?.bouncedRecipients) }
    : event === 'Complaint'
      ? { reason: 'complaint' as const, addresses: addresses(detail.complaint?.complainedRecipients) }
      : undefined;
  const text =
    event === 'Bounce'
      ? [detail.bounce?.bounceType, detail.bounce?.bounceSubType].filter(Boolean).join('/')
      : event === 'Reject'
        ? detail.reject?.reason
        : event === 'Complaint'
          ? detail.complaint?.complaintFeedbackType
          : undefined;
  return {
    channel: 'email',
    event,
    outcome,
    ...(message && { message }),
    ...(envelope.time && { at: new Date(envelope.time).toISOString() }),
    ...(text && { detail: text }),
    ...(dead && dead.addresses.length > 0 && { suppress: dead }),
  };
}
