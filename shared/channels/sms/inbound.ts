/**
 * A reply to one of Cairn's SMS (locally `POST /local/sms/inbound`; on AWS the phone number's
 * two-way SMS destination, an SNS topic, invokes the feedback handler). Keywords act on the number:
 *
 *   STOP (UNSUBSCRIBE, CANCEL, …)  the number is suppressed for SMS (reason `opted_out`): no message,
 *                                  marketing or transactional, goes to it again until START
 *   START (UNSTOP, YES)            the suppression is lifted
 *   HELP (INFO)                    answered with the help text
 *
 * Every reply also goes onto the bus as a track event of the profile that has the number, so
 * journeys can react: `Unsubscribed` / `Subscribed` (`properties.channel: "sms"`) for keywords, and
 * `SMS Received` (`properties.keyword`, `properties.text`) for every reply.
 */
import { stableHash } from '../../ids.js';
import { ChannelSendError, type SuppressionReason } from '../../messaging/channel.js';
import { isE164 } from './address.js';
import { type SmsKeyword, smsKeyword, smsKeywordReplies } from './keywords.js';

export interface InboundSms {
  /** The customer's number, E.164. */
  from: string;
  body: string;
  /** Cairn's number the reply was sent to, when known. */
  to?: string;
  /**
   * The provider's id of the inbound message (locally, the caller's `messageId`): the events of a
   * message handled twice carry the same ids, so ingest keeps them once. Without one, the time counts.
   */
  messageId?: string;
}

export interface InboundSmsDeps {
  suppressions: {
    suppress(channel: 'sms', address: string, reason: SuppressionReason, at: string): Promise<void>;
    unsuppress(channel: 'sms', address: string): Promise<void>;
  };
  /** The profile that has this phone number, with the ids an event for it needs. */
  findByPhone(phone: string): Promise<{ userId?: string; anonymousId?: string } | undefined>;
  /** Puts one track event onto the bus (as Cairn's own). */
  publish(event: {
    type: 'track';
    messageId: string;
    userId?: string;
    anonymousId?: string;
    event: string;
    properties: Record<string, unknown>;
    traits: Record<string, unknown>;
    context: Record<string, unknown>;
    timestamp: string;
    receivedAt: string;
  }): Promise<void>;
  /** Texts the keyword's confirmation back (left out where the provider answers keywords itself). */
  reply?(to: string, text: string): Promise<void>;
  now(): number;
}

export interface InboundSmsResult {
  keyword: SmsKeyword | null;
  /** Whether a profile has the number (events were emitted for it). */
  knownProfile: boolean;
  replied: boolean;
  /** Why the confirmation could not be sent and never will be (a retryable failure throws instead). */
  replyFailed?: string;
}

export async function handleInboundSms(sms: InboundSms, deps: InboundSmsDeps): Promise<InboundSmsResult> {
  if (!isE164(sms.from)) throw new TypeError('from must be an E.164 phone number');
  const keyword = smsKeyword(sms.body) ?? null;
  const at = new Date(deps.now()).toISOString();
  if (keyword === 'opt-out') await deps.suppressions.suppress('sms', sms.from, 'opted_out', at);
  if (keyword === 'opt-in') await deps.suppressions.unsuppress('sms', sms.from);

  const owner = await deps.findByPhone(sms.from);
  if (owner && (owner.userId || owner.anonymousId)) {
    const id = sms.messageId ?? stableHash(sms.from, sms.body, at);
    const base = {
      type: 'track' as const,
      ...(owner.userId && { userId: owner.userId }),
      ...(owner.anonymousId && !owner.userId && { anonymousId: owner.anonymousId }),
      traits: {},
      context: { cairn: { inboundSms: true } },
      timestamp: at,
      receivedAt: at,
    };
    if (keyword === 'opt-out' || keyword === 'opt-in')
      await deps.publish({
        ...base,
        messageId: `cairn-sms-${keyword}-${id}`,
        event: keyword === 'opt-out' ? 'Unsubscribed' : 'Subscribed',
        properties: { channel: 'sms' },
      });
    await deps.publish({
      ...base,
      messageId: `cairn-sms-in-${id}`,
      event: 'SMS Received',
      properties: { keyword, text: sms.body.slice(0, 1600) },
    });
  }
  // The keyword has taken effect (stored above, its events out under ids stable per inbound message),
  // so a sender that retries this message changes nothing more. A confirmation that failed for now
  // (throttling, an outage) fails the call (ChannelSendError: 502 `send_failed`) so that the sender
  // retries it and the customer gets it; one that never can go (the number refuses SMS) is reported.
  let replied = false;
  let replyFailed: string | undefined;
  if (keyword && deps.reply) {
    try {
      await deps.reply(sms.from, smsKeywordReplies[keyword]);
      replied = true;
    } catch (error) {
      if (!(error instanceof ChannelSendError) || error.retryable) throw error;
      replyFailed = error.reason;
    }
  }
  return { keyword, knownProfile: owner !== undefined, replied, ...(replyFailed && { replyFailed }) };
}

/**
 * The two-way SMS destination's notification (the SNS message body End User Messaging SMS
 * publishes: `originationNumber`, `destinationNumber`, `messageBody`, `inboundMessageId`, …) as an
 * inbound SMS. Throws a TypeError naming the field when it is not one.
 */
export function readInboundSms(message: string): InboundSms {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(message) as Record<string, unknown>;
  } catch {
    throw new TypeError('inbound SMS: the notification is not JSON');
  }
  if (!body || typeof body !== 'object')
    throw new TypeError('inbound SMS: the notification is not an object');
  const from = body.originationNumber;
  if (!isE164(from)) throw new TypeError('inbound SMS: originationNumber must be an E.164 phone number');
  if (typeof body.messageBody !== 'string') throw new TypeError('inbound SMS: messageBody must be a string');
  return {
    from,
    body: body.messageBody,
    ...(typeof body.destinationNumber === 'string' && { to: body.destinationNumber }),
    ...(typeof body.inboundMessageId === 'string' && { messageId: body.inboundMessageId }),
  };
}
