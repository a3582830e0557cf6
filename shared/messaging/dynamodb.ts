import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { notErased, ProfileErasedError } from '../runtime/erased.js';
import { type MessageStatus, messageClaimWrite, messageKey } from '../runtime/message-store.js';
import type { SuppressionReason } from './channel.js';
import { emptySendLog, type SendLog } from './frequency.js';
import type { ClaimOutcome, ClaimRequest, MessagingStore } from './gateway.js';
import { policyKey, sendLogKey, suppressionKey } from './keys.js';
import { type Channel, type MessagingPolicy, messagingPolicySchema, openPolicy } from './policy.js';

export interface DynamoMessagingStoreOptions {
  client: DynamoDBDocumentClient;
  profilesTable: string;
  journeysTable: string;
}

/**
 * The gateway's store on DynamoDB. `claim` is ONE TransactWriteItems: write the message record
 * (unless one exists that is not `retry` or `held`), replace the send log if its version is still the one
 * read, check each address has no suppression item, and check the profile was not erased. A
 * cancelled transaction says which part failed (`CancellationReasons`, in request order).
 */
export class DynamoMessagingStore implements MessagingStore {
  constructor(private readonly options: DynamoMessagingStoreOptions) {}

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const { client, profilesTable, journeysTable } = this.options;
    const { record } = request;
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Update: {
          ...messageClaimWrite(journeysTable, record),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ];
    if (request.sendLog) {
      const { expected, next } = request.sendLog;
      items.push({
        Put: {
          TableName: profilesTable,
          Item: {
            ...sendLogKey(record.profileId),
            kind: 'send-log',
            version: next.version,
            sends: next.sends,
          },
          ConditionExpression:
            expected.version === 0 ? 'attribute_not_exists(pk) OR version = :v' : 'version = :v',
          ExpressionAttributeValues: { ':v': expected.version },
        },
      });
    }
    for (const address of request.addresses) {
      items.push({
        ConditionCheck: {
          TableName: profilesTable,
          Key: suppressionKey(record.channel, address),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    // Last, so the indexes above stay as they are: a step that read the profile just before an erasure sends nothing.
    items.push(notErased(profilesTable, record.profileId));
    const erasedCheck = items.length - 1;
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return { claimed: true };
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, unknown> }[] })
        .CancellationReasons;
      if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw error;
      const failed = (index: number) => reasons[index]?.Code === 'ConditionalCheckFailed';
      if (failed(erasedCheck)) throw new ProfileErasedError(record.profileId);
      if (failed(0)) {
        const existing =
          reasons[0]?.Item ??
          (
            await client.send(
              new GetCommand({
                TableName: journeysTable,
                Key: messageKey(record.executionName, record.nodeId),
                ConsistentRead: true,
              }),
            )
          ).Item ??
          {};
        const providerMessageId = stringAttribute(existing, 'providerMessageId');
        const reason = stringAttribute(existing, 'reason');
        return {
          claimed: false,
          why: 'duplicate',
          existing: {
            status: (stringAttribute(existing, 'status') as MessageStatus | undefined) ?? 'sending',
            ...(providerMessageId && { providerMessageId }),
            ...(reason && { reason }),
          },
        };
      }
      const checksFrom = request.sendLog ? 2 : 1;
      const suppressed = request.addresses.filter((_, i) => failed(checksFrom + i));
      if (suppressed.length > 0) return { claimed: false, why: 'suppressed', addresses: suppressed };
      if (request.sendLog && failed(1)) return { claimed: false, why: 'send_log_changed' };
      throw error;
    }
  }

  async readSendLog(profileId: string): Promise<SendLog> {
    const out = await this.options.client.send(
      new GetCommand({
        TableName: this.options.profilesTable,
        Key: sendLogKey(profileId),
        ConsistentRead: true,
      }),
    );
    return out.Item ? { version: Number(out.Item.version), sends: out.Item.sends ?? {} } : emptySendLog;
  }

  async suppress(channel: Channel, address: string, reason: SuppressionReason, at: string): Promise<void> {
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.profilesTable,
        Item: { ...suppressionKey(channel, address), kind: 'suppression', channel, reason, at },
      }),
    );
  }

  async unsuppress(channel: Channel, address: string): Promise<void> {
    await this.options.client.send(
      new DeleteCommand({ TableName: this.options.profilesTable, Key: suppressionKey(channel, address) }),
    );
  }

  /** The suppressions of these addresses (one BatchGetItem of up to 100 keys). */
  async suppressions(
    entries: { channel: Channel; address: string }[],
  ): Promise<{ channel: Channel; address: string; reason: SuppressionReason; at: string }[]> {
    const wanted = entries.slice(0, 100);
    if (wanted.length === 0) return [];
    const table = this.options.profilesTable;
    const out = await this.options.client.send(
      new BatchGetCommand({
        RequestItems: {
          [table]: { Keys: wanted.map((entry) => suppressionKey(entry.channel, entry.address)) },
        },
      }),
    );
    const found = new Map((out.Responses?.[table] ?? []).map((item) => [String(item.pk), item]));
    return wanted.flatMap((entry) => {
      const item = found.get(suppressionKey(entry.channel, entry.address).pk);
      return item ? [{ ...entry, reason: item.reason as SuppressionReason, at: String(item.at) }] : [];
    });
  }

  async getPolicy(): Promise<MessagingPolicy> {
    const out = await this.options.client.send(
      new GetCommand({ TableName: this.options.journeysTable, Key: policyKey }),
    );
    return out.Item ? messagingPolicySchema.parse(out.Item.policy) : openPolicy;
  }

  async putPolicy(policy: MessagingPolicy, at: string): Promise<void> {
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.journeysTable,
        Item: { ...policyKey, kind: 'policy', policy, updatedAt: at },
      }),
    );
  }
}

/**
 * A string attribute of an item. The item a cancelled transaction returns
 * (`ReturnValuesOnConditionCheckFailure`) is not unmarshalled by the document client: `{ S: … }`.
 */
function stringAttribute(item: Record<string, unknown>, name: string): string | undefined {
  const value = item[name];
  if (typeof value === 'string') return value;
  const wrapped = value && typeof value === 'object' ? (value as { S?: unknown }).S : undefined;
  return typeof wrapped === 'string' ? wrapped : undefined;
}
