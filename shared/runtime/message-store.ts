import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { stableHash } from '../ids.js';
import type { Channel, MessageCategory } from '../messaging/policy.js';
import {
  cancellationReasons,
  isConditionFailure,
  sendRetryingConflicts,
  withoutKeys,
} from '../store/dynamodb.js';
import { journeysTable, profilesTable } from '../store/tables.js';
import { notErased, ProfileErasedError } from './erased.js';

/**
 * Message records in the Journeys table: `MSG#<executionName>` / `<nodeId>`, keyed by what makes a
 * send unique, with the status and its history (SES feedback adds to it).
 */

export type MessageStatus =
  | 'sending'
  | 'retry'
  | 'held'
  | 'sent'
  | 'skipped'
  | 'failed'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'opened'
  | 'clicked'
  /** The customer unsubscribed through this message's link (from everything, a channel or a topic). */
  | 'unsubscribed';

export interface MessageRecord {
  profileId: string;
  executionName: string;
  nodeId: string;
  journeyId: string;
  journeyVersion: number;
  messageId: string;
  channel: Channel;
  templateId: string;
  category?: MessageCategory;
  topic?: string;
  status: MessageStatus;
  /** Why it was skipped or failed. */
  reason?: string;
  providerMessageId?: string;
  /** An email's subject, an SMS's first words, a push title. */
  subject?: string;
  /** sms: billed parts; push: devices it went to. */
  parts?: number;
  recipients?: number;
  createdAt: string;
  history: { status: MessageStatus; at: string; detail?: string }[];
}

export interface MessageChange {
  status: MessageStatus;
  at: string;
  detail?: string;
  providerMessageId?: string;
  reason?: string;
  parts?: number;
  recipients?: number;
  /** Set the status only when it is one of these (else only the history grows). */
  ifStatusIn?: MessageStatus[];
  /** Only once per status (feedback redelivered by SQS): undefined when seen before. */
  once?: boolean;
}

/** Message records, one per (execution, node): what makes a send happen at most once. */
export interface MessageStore {
  /**
   * Conditional put of a new message record (or one left in `retry`); false when it exists.
   * Throws ProfileErasedError when the profile was erased.
   */
  claimMessage(record: MessageRecord): Promise<boolean>;
  /** Messages of a journey, newest first, a page at a time (the `gsi1` index: a Query, not a Scan). */
  listJourneyMessages(
    journeyId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ messages: MessageRecord[]; nextCursor?: string }>;
  getMessage(executionName: string, nodeId: string): Promise<MessageRecord | undefined>;
  /** Records by (execution, node), in one BatchGetItem per 100 keys; missing ones are left out. */
  getMessages(keys: { executionName: string; nodeId: string }[]): Promise<MessageRecord[]>;
  updateMessage(
    key: { executionName: string; nodeId: string },
    change: MessageChange,
  ): Promise<MessageRecord | undefined>;
}

/** The message id Cairn gives a send: stable per (execution, node), so retries and feedback agree. */
export function messageIdFor(executionName: string, nodeId: string): string {
  return `msg-${stableHash(executionName, nodeId).slice(0, 22)}`;
}

/** Message records are keyed by what makes a send unique: the execution and the node. */
export function messageKey(executionName: string, nodeId: string) {
  return { pk: `MSG#${executionName}`, sk: nodeId };
}

/** The status update as request parameters, for a request of its own or an item of a transaction. */
export function messageWrite(table: string) {
  return (key: { executionName: string; nodeId: string }, change: MessageChange, setStatus: boolean) => {
    const sets = ['#h = list_append(if_not_exists(#h, :empty), :h)'];
    const values: Record<string, unknown> = {
      ':h': [{ status: change.status, at: change.at, ...(change.detail && { detail: change.detail }) }],
      ':empty': [],
      ':seen': new Set([change.status]),
    };
    const conditions = ['attribute_exists(pk)'];
    if (setStatus) {
      sets.push('#s = :s');
      values[':s'] = change.status;
      if (change.ifStatusIn) {
        const names = change.ifStatusIn.map((_, i) => `:if${i}`);
        change.ifStatusIn.forEach((status, i) => {
          values[names[i]!] = status;
        });
        conditions.push(`#s IN (${names.join(', ')})`);
      }
    }
    if (change.once) {
      values[':status'] = change.status;
      conditions.push('NOT contains(seen, :status)');
    }
    if (change.providerMessageId) {
      sets.push('providerMessageId = :p');
      values[':p'] = change.providerMessageId;
    }
    if (change.reason) {
      sets.push('reason = :r');
      values[':r'] = change.reason;
    }
    for (const counted of ['parts', 'recipients'] as const) {
      if (change[counted] === undefined) continue;
      sets.push(`${counted} = :${counted}`);
      values[`:${counted}`] = change[counted];
    }
    return {
      TableName: table,
      Key: messageKey(key.executionName, key.nodeId),
      UpdateExpression: `SET ${sets.join(', ')} ADD seen :seen`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: setStatus
        ? { '#s': 'status', '#h': 'history' }
        : ({ '#h': 'history' } as Record<string, string>),
      ExpressionAttributeValues: values,
    };
  };
}

/** The index of message records by journey (shared/store/tables.ts `gsi1`). */
export const journeyMessagesIndex = 'gsi1';

/** The `gsi1` keys of a message record: `MSGJ#<journeyId>` / `<createdAt>#<execution>#<node>`. */
function journeyMessageIndexKeys(
  record: Pick<MessageRecord, 'journeyId' | 'createdAt' | 'executionName' | 'nodeId'>,
) {
  return {
    gsi1pk: `MSGJ#${record.journeyId}`,
    gsi1sk: `${record.createdAt}#${record.executionName}#${record.nodeId}`,
  };
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ValidationError([{ path: ['cursor'], message: 'cursor is not valid' }]);
}

/**
 * The conditional put that claims a send: a new record, or one a transient failure left in `retry`.
 * One definition for `claimMessage` and the send gateway's claim transaction (shared/messaging).
 */
export function messageClaimPut(table: string, record: MessageRecord) {
  return {
    TableName: table,
    Item: {
      ...messageKey(record.executionName, record.nodeId),
      ...journeyMessageIndexKeys(record),
      kind: 'message',
      ...record,
    },
    ConditionExpression: 'attribute_not_exists(pk) OR #s = :retry',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: { ':retry': 'retry' },
  };
}

export function dynamoMessageStore(
  client: DynamoDBDocumentClient,
  options: { tableName?: string; profilesTableName?: string } = {},
): MessageStore {
  const journeys = options.tableName ?? journeysTable.defaultName;
  const profiles = options.profilesTableName ?? profilesTable.defaultName;
  const updateWrite = messageWrite(journeys);
  const stripKeys = withoutKeys;
  return {
    async claimMessage(record) {
      // With the erasure check: a step that read the profile just before it was erased sends nothing.
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: messageClaimPut(journeys, record) },
              notErased(profiles, record.profileId),
            ],
          }),
        );
        return true;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons?.[1] === 'ConditionalCheckFailed') throw new ProfileErasedError(record.profileId);
        if (reasons?.[0] === 'ConditionalCheckFailed') return false;
        throw error;
      }
    },

    async listJourneyMessages(journeyId, page) {
      const out = await client.send(
        new QueryCommand({
          TableName: journeys,
          IndexName: journeyMessagesIndex,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': `MSGJ#${journeyId}` },
          ScanIndexForward: false,
          Limit: page.limit,
          ...(page.cursor && { ExclusiveStartKey: decodeCursor(page.cursor) }),
        }),
      );
      const last = out.LastEvaluatedKey;
      return {
        messages: (out.Items ?? []).map((item) => stripKeys<MessageRecord>(item)),
        ...(last && { nextCursor: Buffer.from(JSON.stringify(last)).toString('base64url') }),
      };
    },

    async getMessage(executionName, nodeId) {
      const out = await client.send(
        new GetCommand({ TableName: journeys, Key: messageKey(executionName, nodeId), ConsistentRead: true }),
      );
      return out.Item ? stripKeys<MessageRecord>(out.Item) : undefined;
    },

    async getMessages(keys) {
      const records: MessageRecord[] = [];
      for (let i = 0; i < keys.length; i += 100) {
        let pending: Record<string, unknown>[] = keys
          .slice(i, i + 100)
          .map((k) => messageKey(k.executionName, k.nodeId));
        for (let round = 0; pending.length > 0 && round < 8; round++) {
          const out = await client.send(
            new BatchGetCommand({ RequestItems: { [journeys]: { Keys: pending } } }),
          );
          records.push(...(out.Responses?.[journeys] ?? []).map((item) => stripKeys<MessageRecord>(item)));
          pending = (out.UnprocessedKeys?.[journeys]?.Keys ?? []) as Record<string, unknown>[];
          if (pending.length) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
        }
      }
      return records;
    },

    async updateMessage(key, change) {
      const update = async (setStatus: boolean) => {
        const out = await sendRetryingConflicts<UpdateCommandOutput>(
          client,
          () => new UpdateCommand({ ...updateWrite(key, change, setStatus), ReturnValues: 'ALL_NEW' }),
        );
        return out.Attributes ? stripKeys<MessageRecord>(out.Attributes) : undefined;
      };
      try {
        return await update(true);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // Status moved on meanwhile (feedback arrived first): keep it, record the event in the history.
      if (!change.ifStatusIn) return undefined;
      try {
        return await update(false);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
