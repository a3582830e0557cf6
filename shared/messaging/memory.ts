import type { SuppressionReason } from './channel.js';
import { emptySendLog, type SendLog } from './frequency.js';
import type { ClaimOutcome, ClaimRequest, MessagingStore } from './gateway.js';
import { suppressionKey } from './keys.js';
import { type Channel, type MessagingPolicy, openPolicy } from './policy.js';

type StoredMessage = ClaimRequest['record'] & {
  status: string;
  reason?: string;
  providerMessageId?: string;
  history: { status: string; at: string; detail?: string }[];
};

/** The gateway's store in memory, with the DynamoDB adapter's conditions (unit tests, benchmarks). */
export class MemoryMessagingStore implements MessagingStore {
  readonly messages = new Map<string, StoredMessage>();
  readonly sendLogs = new Map<string, SendLog>();
  readonly suppressed = new Map<string, { channel: Channel; reason: SuppressionReason; at: string }>();
  policy: MessagingPolicy = openPolicy;

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const key = `${request.record.executionName}/${request.record.nodeId}`;
    const existing = this.messages.get(key);
    if (existing && existing.status !== 'retry')
      return {
        claimed: false,
        why: 'duplicate',
        existing: {
          status: existing.status as never,
          ...(existing.providerMessageId && { providerMessageId: existing.providerMessageId }),
          ...(existing.reason && { reason: existing.reason }),
        },
      };
    const suppressed = request.addresses.filter((address) =>
      this.suppressed.has(suppressionKey(request.record.channel, address).pk),
    );
    if (suppressed.length > 0) return { claimed: false, why: 'suppressed', addresses: suppressed };
    if (request.sendLog) {
      const current = this.sendLogs.get(request.record.profileId) ?? emptySendLog;
      if (current.version !== request.sendLog.expected.version)
        return { claimed: false, why: 'send_log_changed' };
      this.sendLogs.set(request.record.profileId, request.sendLog.next);
    }
    this.messages.set(key, {
      ...request.record,
      status: 'sending',
      history: [{ status: 'sending', at: request.record.createdAt }],
    });
    return { claimed: true };
  }

  async readSendLog(profileId: string): Promise<SendLog> {
    return this.sendLogs.get(profileId) ?? emptySendLog;
  }

  async updateMessage(
    key: { executionName: string; nodeId: string },
    change: { status: string; at: string; reason?: string; detail?: string },
  ): Promise<void> {
    const message = this.messages.get(`${key.executionName}/${key.nodeId}`);
    if (!message) return;
    message.status = change.status;
    if (change.reason) message.reason = change.reason;
    message.history.push({
      status: change.status,
      at: change.at,
      ...(change.detail && { detail: change.detail }),
    });
  }

  async suppress(channel: Channel, address: string, reason: SuppressionReason, at: string): Promise<void> {
    this.suppressed.set(suppressionKey(channel, address).pk, { channel, reason, at });
  }

  async unsuppress(channel: Channel, address: string): Promise<void> {
    this.suppressed.delete(suppressionKey(channel, address).pk);
  }

  async getPolicy(): Promise<MessagingPolicy> {
    return this.policy;
  }

  async putPolicy(policy: MessagingPolicy): Promise<void> {
    this.policy = policy;
  }
}
