/**
 * A channel is an adapter behind one port: where this customer can be reached on it, and how one
 * rendered message goes out. Email (SES v2), SMS (End User Messaging) and push (SNS) implement it;
 * a new channel is one more adapter and a node module.
 */
import type { DeviceRecord } from '../channels/push/devices.js';
import { CairnError } from '../errors.js';
import type { Channel, MessageCategory } from './policy.js';

/** The customer as the gateway sees it. */
export interface Recipient {
  profileId: string;
  traits: Record<string, unknown>;
  /** Push devices learnt from events (shared/channels/push/devices.ts). */
  devices?: readonly DeviceRecord[];
}

/** A message a channel sends: one address, the rendered content, the tags feedback comes back with. */
export interface ChannelMessage<Content> {
  to: string;
  content: Content;
  category: MessageCategory;
  /** journeyId, journeyVersion, nodeId, profileId, execution. */
  tags: Record<string, string>;
}

export interface ChannelSendResult {
  providerMessageId: string;
  /** Billed units where the channel has them (SMS parts). */
  parts?: number;
}

export interface ChannelAdapter<Content> {
  channel: Channel;
  /** The addresses this customer has on the channel; `problem` says why there is none. */
  addresses(recipient: Recipient): { addresses: string[]; problem?: string };
  send(message: ChannelMessage<Content>): Promise<ChannelSendResult>;
}

/** Why an address is suppressed: what the channel reported about it. */
export type SuppressionReason =
  | 'hard_bounce'
  | 'complaint'
  | 'permanent_failure'
  | 'opted_out'
  | 'invalid_token';

/**
 * A send a channel refused. `retryable`: the same message may go through later (throttling, a
 * service error). `suppress`: the address itself is dead for this channel (an opted-out number, a
 * disabled device endpoint), so it is suppressed and not tried again.
 */
export class ChannelSendError extends CairnError {
  readonly code = 'send_failed';
  readonly status = 502;
  readonly reason: string;
  readonly retryable: boolean;
  readonly suppress?: SuppressionReason;
  constructor(
    reason: string,
    options: { retryable: boolean; suppress?: SuppressionReason; message?: string },
  ) {
    super(options.message ?? reason);
    this.reason = reason;
    this.retryable = options.retryable;
    if (options.suppress) this.suppress = options.suppress;
  }
}
