/**
 * The send gateway: every message node, whatever its channel, sends through here. In order:
 *
 *   1. holdout arm                       → skipped `holdout`
 *   2. no address on the channel         → skipped `no_address` (with the problem)
 *   3. marketing: unsubscribed / consent → skipped `unsubscribed` / `no_consent`
 *   4. `sendAt: best` (first visit only) → `held` until the customer's best time (send-time.ts)
 *   5. marketing: quiet hours            → `held` until the window ends (the execution sleeps in a
 *                                          Wait state), or skipped `quiet_hours`
 *   6. render (a template error fails the node)
 *   7. claim, ONE conditional write: the message record (at most once per execution and node), a
 *      frequency-cap slot (marketing), and a check that no address is suppressed
 *                                        → skipped `frequency_cap` / `suppressed`
 *   8. send through the channel adapter, to each address; an address the channel reports dead is
 *      suppressed. `sent` is left for the step's one final write.
 *
 * Transactional messages skip 3, 5 and the cap in 7; suppression always applies.
 */

import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { TransientStepError } from '../journeys/execution.js';
import type {
  MessageChange,
  MessageIdentity,
  MessageRecord,
  MessageStatus,
  MessageStore,
} from '../runtime/message-store.js';
import { type ChannelAdapter, ChannelSendError, type Recipient, type SuppressionReason } from './channel.js';
import { consentSkipReason } from './consent.js';
import { claimSend as claimSendSlot, emptySendLog, type SendLog } from './frequency.js';
import type { Channel, MessageCategory, MessagingPolicy } from './policy.js';
import { quietHoursAt } from './quiet-hours.js';

export type SkipReason =
  | 'holdout'
  | 'no_address'
  | 'unsubscribed'
  | 'no_consent'
  | 'quiet_hours'
  | 'frequency_cap'
  | 'suppressed';

export const skipReasons: readonly SkipReason[] = [
  'frequency_cap',
  'quiet_hours',
  'unsubscribed',
  'suppressed',
  'no_consent',
  'no_address',
  'holdout',
];

export type GatewayOutcome =
  | { outcome: 'sent'; messageId: string; recipients: number; parts?: number; sent?: SentRecord }
  | { outcome: 'skipped'; reason: SkipReason; detail?: string; record?: MessageWrite }
  | { outcome: 'held'; until: string; reason: HoldReason; record?: MessageWrite };

/**
 * The record of a message held or skipped before any claim (status `held` / `skipped`, with the
 * reason), left for the step's one final write like `sent`: no request of its own.
 */
export interface MessageWrite {
  key: { executionName: string; nodeId: string };
  change: MessageChange;
}

/** Why a message waits: the quiet window, or the customer's best send time. */
export type HoldReason = 'quiet_hours' | 'send_time';
export const holdReasons: readonly HoldReason[] = ['quiet_hours', 'send_time'];

/** The record's `sent` status, left for the step's one final write. */
export interface SentRecord {
  key: { executionName: string; nodeId: string };
  change: {
    status: 'sent';
    at: string;
    providerMessageId: string;
    ifStatusIn: MessageStatus[];
    parts?: number;
    recipients?: number;
  };
}

/** One message a node asks the gateway to send. */
export interface GatewayRequest<Content> {
  channel: Channel;
  category: MessageCategory;
  topic?: string;
  recipient: Recipient;
  /** A customer in a split's holdout arm gets nothing. */
  heldOut: boolean;
  journeyId: string;
  journeyVersion: number;
  executionName: string;
  nodeId: string;
  templateId: string;
  /** Renders the content (after the cheap checks: nothing is rendered for a skipped message). */
  render(): Promise<Content>;
  /** A one-line summary kept on the message record (an email's subject, an SMS's first words). */
  summary(content: Content): string;
  /**
   * When the message should wait first (`sendAt: best`): epoch ms, or undefined / not later than
   * now to go on. Asked after the consent checks, before quiet hours.
   */
  holdUntil?(): Promise<number | undefined>;
}

export interface ClaimRequest {
  /** The message record, status `sending` (shared/runtime/message-store.ts). */
  record: MessageRecord;
  /** Addresses that must not be suppressed on this channel. */
  addresses: string[];
  /** Marketing: the send log to replace, conditional on its version (undefined: caps do not apply). */
  sendLog?: { expected: SendLog; next: SendLog };
}

export type ClaimOutcome =
  | { claimed: true }
  | {
      claimed: false;
      why: 'duplicate';
      existing: { status: MessageStatus; providerMessageId?: string; reason?: string };
    }
  | { claimed: false; why: 'suppressed'; addresses: string[] }
  | { claimed: false; why: 'send_log_changed' };

/** What the gateway needs stored: one port, a DynamoDB and an in-memory adapter. */
export interface MessagingStore {
  /**
   * Step 7: the message record, the cap slot and the suppression checks in one conditional write.
   * Throws ProfileErasedError when the profile was erased meanwhile.
   */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /** The customer's recent marketing sends (strongly consistent: read again after a lost race). */
  readSendLog(profileId: string): Promise<SendLog>;
  suppress(channel: Channel, address: string, reason: SuppressionReason, at: string): Promise<void>;
}

export interface GatewayDeps {
  store: MessagingStore;
  /** A send's outcome other than `sent` (which goes with the step's final write). */
  messages: Pick<MessageStore, 'updateMessage'>;
  policy(): Promise<MessagingPolicy>;
  clock: Clock;
  /** The message id Cairn gives a send, stable per (execution, node). */
  messageIdFor(executionName: string, nodeId: string): string;
}

const maxClaimAttempts = 5;

export async function sendThroughGateway<Content>(
  request: GatewayRequest<Content>,
  adapter: ChannelAdapter<Content>,
  deps: GatewayDeps,
  knownSendLog?: SendLog,
): Promise<GatewayOutcome> {
  const outcome = await decideAndSend(request, adapter, deps, knownSendLog);
  if ('recorded' in outcome) {
    const { recorded: _recorded, ...skipped } = outcome;
    return skipped;
  }
  if (outcome.outcome === 'sent' || outcome.reason === 'holdout') return outcome;
  // Held or skipped before the claim wrote a record (or after a hold wrote one): the record with the
  // same history as a sent one. A holdout customer gets no message at all, so no record.
  const at = isoAt(deps.clock);
  const identity: MessageIdentity = {
    profileId: request.recipient.profileId,
    executionName: request.executionName,
    nodeId: request.nodeId,
    journeyId: request.journeyId,
    journeyVersion: request.journeyVersion,
    messageId: deps.messageIdFor(request.executionName, request.nodeId),
    channel: request.channel,
    templateId: request.templateId,
    category: request.category,
    ...(request.topic !== undefined && { topic: request.topic }),
    createdAt: at,
  };
  const detail =
    outcome.outcome === 'held'
      ? `${outcome.reason} until ${outcome.until}`
      : outcome.detail
        ? `${outcome.reason}: ${outcome.detail}`
        : outcome.reason;
  const record: MessageWrite = {
    key: { executionName: request.executionName, nodeId: request.nodeId },
    // Only over nothing or a hold: a record that went further (a retried step) is left as it is.
    change: {
      status: outcome.outcome,
      at,
      reason: outcome.reason,
      detail,
      ifStatusIn: ['held'],
      create: identity,
    },
  };
  return { ...outcome, record };
}

type Decision = GatewayOutcome | (Extract<GatewayOutcome, { outcome: 'skipped' }> & { recorded: true });

/** Steps 1-8 (the module comment); a skip whose record the claim or the send already wrote says `recorded`. */
async function decideAndSend<Content>(
  request: GatewayRequest<Content>,
  adapter: ChannelAdapter<Content>,
  deps: GatewayDeps,
  knownSendLog?: SendLog,
): Promise<Decision> {
  if (request.heldOut) return { outcome: 'skipped', reason: 'holdout' };
  const { addresses, problem } = adapter.addresses(request.recipient);
  if (addresses.length === 0)
    return { outcome: 'skipped', reason: 'no_address', ...(problem && { detail: problem }) };
  const marketing = request.category === 'marketing';
  const policy = await deps.policy();
  const now = deps.clock.now();
  if (marketing) {
    const consent = consentSkipReason(request.recipient.traits, request.channel, request.topic);
    if (consent) return { outcome: 'skipped', reason: consent };
  }
  const holdUntil = await request.holdUntil?.();
  if (holdUntil !== undefined && holdUntil > now)
    return { outcome: 'held', until: new Date(holdUntil).toISOString(), reason: 'send_time' };
  if (marketing) {
    if (policy.quietHours) {
      const quiet = quietHoursAt(policy.quietHours, request.channel, now, request.recipient.traits.timezone);
      if (quiet.until !== undefined) {
        if (policy.quietHours.action === 'skip')
          return { outcome: 'skipped', reason: 'quiet_hours', detail: `quiet in ${quiet.timeZone}` };
        return { outcome: 'held', until: new Date(quiet.until).toISOString(), reason: 'quiet_hours' };
      }
    }
  }

  const content = await request.render();
  const at = isoAt(deps.clock);
  const key = { executionName: request.executionName, nodeId: request.nodeId };
  const messageId = deps.messageIdFor(request.executionName, request.nodeId);
  const record: MessageRecord = {
    profileId: request.recipient.profileId,
    executionName: request.executionName,
    nodeId: request.nodeId,
    journeyId: request.journeyId,
    journeyVersion: request.journeyVersion,
    messageId,
    channel: request.channel,
    templateId: request.templateId,
    category: request.category,
    ...(request.topic !== undefined && { topic: request.topic }),
    subject: request.summary(content),
    status: 'sending',
    createdAt: at,
    history: [{ status: 'sending', at }],
  };
  const caps = marketing ? policy.frequencyCaps : [];
  let sendLog =
    knownSendLog ?? (caps.length > 0 ? await deps.store.readSendLog(record.profileId) : emptySendLog);
  let liveAddresses = addresses;
  for (let attempt = 1; ; attempt++) {
    let logChange: ClaimRequest['sendLog'];
    if (caps.length > 0) {
      const verdict = claimCap(sendLog, caps, request.channel, now);
      if (!verdict.allowed) return verdict.skip;
      logChange = { expected: sendLog, next: verdict.next };
    }
    const claim = await deps.store.claim({ record, addresses: liveAddresses, sendLog: logChange });
    if (claim.claimed) break;
    if (claim.why === 'duplicate') {
      // A retried step: the first attempt claimed it. At most once: never send again.
      if (claim.existing.status === 'failed')
        throw new ChannelSendError(claim.existing.reason ?? 'failed', { retryable: false });
      if (claim.existing.status === 'skipped')
        return {
          outcome: 'skipped',
          reason: (claim.existing.reason as SkipReason) ?? 'suppressed',
          recorded: true,
        };
      return { outcome: 'sent', messageId: claim.existing.providerMessageId || messageId, recipients: 0 };
    }
    if (claim.why === 'suppressed') {
      liveAddresses = liveAddresses.filter((address) => !claim.addresses.includes(address));
      if (liveAddresses.length === 0)
        return { outcome: 'skipped', reason: 'suppressed', detail: `${request.channel} address suppressed` };
    }
    if (claim.why === 'send_log_changed') sendLog = await deps.store.readSendLog(record.profileId);
    if (attempt >= maxClaimAttempts) throw new TransientStepError('message claim kept conflicting');
  }

  let first: { providerMessageId: string } | undefined;
  let parts = 0;
  let accepted = 0;
  const errors: ChannelSendError[] = [];
  for (const to of liveAddresses) {
    try {
      const result = await adapter.send({
        to,
        content,
        category: request.category,
        tags: {
          journeyId: request.journeyId,
          journeyVersion: String(request.journeyVersion),
          nodeId: request.nodeId,
          profileId: request.recipient.profileId,
          execution: request.executionName,
        },
      });
      first ??= result;
      accepted += 1;
      parts += result.parts ?? 0;
    } catch (error) {
      if (!(error instanceof ChannelSendError)) throw error;
      if (error.suppress) await deps.store.suppress(request.channel, to, error.suppress, isoAt(deps.clock));
      errors.push(error);
    }
  }
  if (first) {
    return {
      outcome: 'sent',
      messageId: first.providerMessageId || messageId,
      recipients: accepted,
      ...(parts > 0 && { parts }),
      sent: {
        key,
        change: {
          status: 'sent',
          at: isoAt(deps.clock),
          providerMessageId: first.providerMessageId,
          ifStatusIn: ['sending', 'retry'],
          recipients: accepted,
          ...(parts > 0 && { parts }),
        },
      },
    };
  }
  // No address took it. Only when every one of them is dead is it a skip: a device that failed for
  // another reason (a refused payload, an outage) makes it a failure, retryable ones first.
  const error =
    errors.find((e) => e.retryable) ??
    errors.find((e) => !e.suppress) ??
    errors[0] ??
    new ChannelSendError('no address accepted the message', { retryable: false });
  if (error.suppress) {
    await deps.messages.updateMessage(key, {
      status: 'skipped',
      at: isoAt(deps.clock),
      reason: 'suppressed',
      detail: error.reason,
    });
    return { outcome: 'skipped', reason: 'suppressed', detail: error.reason, recorded: true };
  }
  await deps.messages.updateMessage(key, {
    status: error.retryable ? 'retry' : 'failed',
    at: isoAt(deps.clock),
    reason: error.reason,
    detail: error.reason,
  });
  if (error.retryable) throw new TransientStepError(`${request.channel} send failed: ${error.reason}`);
  throw error;
}

function claimCap(
  log: SendLog,
  caps: MessagingPolicy['frequencyCaps'],
  channel: Channel,
  now: number,
): { allowed: true; next: SendLog } | { allowed: false; skip: GatewayOutcome } {
  const verdict = claimSendSlot(log, caps, channel, now);
  if (verdict.allowed) return verdict;
  const { cap, count } = verdict;
  return {
    allowed: false,
    skip: {
      outcome: 'skipped',
      reason: 'frequency_cap',
      detail: `${count} ${cap.channel} in ${cap.per} (max ${cap.max})`,
    },
  };
}
