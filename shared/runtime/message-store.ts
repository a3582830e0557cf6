import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, sendRetryingConflicts, withoutKeys } from '../store/dynamodb.js';
import { journeysTable, tableName } from '../store/tables.js';

/**
 * Message records in the Journeys table: `MSG#<executionName>` / `<nodeId>`, keyed by what makes a
 * send unique, with the status and its history (SES feedback adds to it).
 */

export type MessageStatus =
  | 'sending'
  | 'retry'
  | 'sent'
  | 'skipped'
  | 'failed'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'opened'
  | 'clicked';

export interface MessageRecord {
  profileId: string;
  executionName: string;
  nodeId: string;
  journeyId: string;
  journeyVersion: number;
  messageId: string;
  channel: 'email';
  templateId: string;
  status: MessageStatus;
  /** Why it was skipped or failed. */
  reason?: string;
  providerMessageId?: string;
  subject?: string;
  createdAt: string;
  history: { status: MessageStatus; at: string; detail?: string }[];
}

export interface MessageChange {
  status: MessageStatus;
  at: string;
  detail?: string;
  providerMessageId?: string;
  reason?: string;
  /** Set the status only when it is one of these (else only the history grows). */
  ifStatusIn?: MessageStatus[];
  /** Only once per status (feedback redelivered by SQS): undefined when seen before. */
  once?: boolean;
}

/** Message records, one per (execution, node): what makes a send happen at most once. */
export interface MessageStore {
  /** Conditional put of a new message record (or one left in `retry`); false when it exists. */
  claimMessage(record: MessageRecord): Promise<boolean>;
  getMessage(executionName: string, nodeId: string): Promise<MessageRecord | undefined>;
  /** Records by (execution, node), in one BatchGetItem per 100 keys; missing ones are left out. */
  getMessages(keys: { executionName: string; nodeId: string }[]): Promise<MessageRecord[]>;
  updateMessage(
    key: { executionName: string; nodeId: string },
    change: MessageChange,
  ): Promise<MessageRecord | undefined>;
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

export function dynamoMessageStore(
  client: DynamoDBDocumentClient,
  options: { tableName?: string } = {},
): MessageStore {
  const journeys = options.tableName ?? tableName(journeysTable);
  const updateWrite = messageWrite(journeys);
  const stripKeys = withoutKeys;
  return {
    async claimMessage(record) {
      try {
        await client.send(
          new PutCommand({
            TableName: journeys,
            Item: {
              ...messageKey(record.executionName, record.nodeId),
              kind: 'message',
              ...record,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR #s = :retry',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':retry': 'retry' },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
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
