import { claimable, claimedRecord, type MessageRecord, type MessageStore } from '../runtime/message-store.js';
import type { SuppressionReason } from './channel.js';
import { emptySendLog, type SendLog } from './frequency.js';
import type { ClaimOutcome, ClaimRequest, MessagingStore } from './gateway.js';
import { suppressionKey } from './keys.js';
import { type Channel, type MessagingPolicy, openPolicy } from './policy.js';

/** Message records by (execution, node), for a store used on its own. */
function recordMap(): Pick<MessageStore, 'claimMessage' | 'getMessage'> {
  const records = new Map<string, MessageRecord>();
  return {
    async claimMessage(record) {
      const key = `${record.executionName}/${record.nodeId}`;
      records.set(key, claimedRecord(records.get(key), record));
      return true;
    },
    async getMessage(executionName, nodeId) {
      return records.get(`${executionName}/${nodeId}`);
    },
  };
}

/**
 * The gateway's store in memory, with the DynamoDB adapter's conditions (unit tests, benchmarks).
 * Message records go to the runtime's message store when given (in DynamoDB both are one table).
 */
export class MemoryMessagingStore implements MessagingStore {
  constructor(private readonly records: Pick<MessageStore, 'claimMessage' | 'getMessage'> = recordMap()) {}

  readonly sendLogs = new Map<string, SendLog>();
  readonly suppressed = new Map<string, { channel: Channel; reason: SuppressionReason; at: string }>();
  policy: MessagingPolicy = openPolicy;

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const existing = await this.records.getMessage(request.record.executionName, request.record.nodeId);
    if (existing && !claimable(existing))
      return {
        claimed: false,
        why: 'duplicate',
        existing: {
          status: existing.status,
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
    await this.records.claimMessage(request.record);
    return { claimed: true };
  }

  async readSendLog(profileId: string): Promise<SendLog> {
    return this.sendLogs.get(profileId) ?? emptySendLog;
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
