/**
 * SMS delivery receipts: End User Messaging SMS sends `Text Message Delivery Status Updated` (source
 * `aws.sms-voice`) to the default EventBridge bus. The message is found by the `Context` the send
 * carried (`execution`, `nodeId`, `journeyId`: shared/channels/sms/sender.ts).
 *
 *   TEXT_DELIVERED, TEXT_SUCCESSFUL   delivered
 *   TEXT_QUEUED, TEXT_PENDING         nothing yet (not final)
 *   TEXT_INVALID, TEXT_BLOCKED        failed, and the number is suppressed (`permanent_failure`):
 *                                     it does not exist, or is barred from receiving SMS
 *   every other final type            failed (unreachable handset, expired, carrier or content
 *                                     problem, spam filter, unknown): the number may work next time
 */
import type { ProviderEventEnvelope, ProviderFeedback } from '../../messaging/feedback.js';
import { feedbackMessage } from '../../messaging/feedback.js';
import { isE164 } from './address.js';

export const smsReceiptDetailType = 'Text Message Delivery Status Updated';

interface SmsReceiptDetail {
  eventType?: string;
  eventTimestamp?: number;
  isFinal?: boolean;
  destinationPhoneNumber?: string;
  messageId?: string;
  messageStatusDescription?: string;
  context?: Record<string, unknown>;
}

const delivered = new Set(['TEXT_DELIVERED', 'TEXT_SUCCESSFUL']);
const pending = new Set(['TEXT_QUEUED', 'TEXT_PENDING']);
const permanent = new Set(['TEXT_INVALID', 'TEXT_BLOCKED']);

/** One receipt as feedback; undefined for other detail types and receipts that are not final. */
export function readSmsReceipt(envelope: ProviderEventEnvelope): ProviderFeedback | undefined {
  if (envelope['detail-type'] !== smsReceiptDetailType) return undefined;
  const detail = (envelope.detail ?? {}) as SmsReceiptDetail;
  const event = detail.eventType;
  if (typeof event !== 'string' || !event.startsWith('TEXT_') || pending.has(event)) return undefined;
  const context = detail.context ?? {};
  const message = feedbackMessage({
    execution: context.execution,
    nodeId: context.nodeId,
    journeyId: context.journeyId,
  });
  const at =
    typeof detail.eventTimestamp === 'number'
      ? new Date(detail.eventTimestamp).toISOString()
      : envelope.time && new Date(envelope.time).toISOString();
  const to = detail.destinationPhoneNumber;
  return {
    channel: 'sms',
    event,
    outcome: delivered.has(event) ? 'delivered' : 'failed',
    ...(message && { message }),
    ...(at && { at }),
    ...(!delivered.has(event) && { detail: event }),
    ...(permanent.has(event) &&
      isE164(to) && { suppress: { reason: 'permanent_failure' as const, addresses: [to] } }),
  };
}
