import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { stableHash } from '../ids.js';
import type { Channel, MessageCategory } from '../messaging/policy.js';
import { resendingUnprocessed } from '../retry.js';
import {
  cancellationReasons,
  isConditionFailure,
  sendRetryingConflicts,
  unprocessedBackoff,
  withoutKeys,
} from '../store/dynamodb.js';
import { executionPk } from '../store/keys.js';
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
  /**
   * A message the gateway held or skipped before any claim: the record is created with these fields
   * when absent (kept when it exists), and the change applies only when it is absent or its status is
   * in `ifStatusIn`. No extra request: it is an item of the step's one final write.
   */
  create?: MessageIdentity;
}

/** What a message record is before anything happened to it: who, which journey node, which template. */
export type MessageIdentity = Pick<
  MessageRecord,
  | 'profileId'
  | 'executionName'
  | 'nodeId'
  | 'journeyId'
  | 'journeyVersion'
  | 'messageId'
  | 'channel'
  | 'templateId'
  | 'category'
  | 'topic'
  | 'createdAt'
>;

/** Message records, one per (execution, node): what makes a send happen at most once. */
export interface MessageStore {
  /**
   * Conditional write of a new message record (or of one left in `retry` or `held`, whose history it
   * keeps); false when it exists otherwise. Throws ProfileErasedError when the profile was erased.
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
  return { pk: executionPk(executionName), sk: nodeId };
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
    const names: Record<string, string> = { '#h': 'history' };
    const conditions = ['attribute_exists(pk)'];
    const statusIn = () => {
      const placeholders = (change.ifStatusIn ?? []).map((status, i) => {
        values[`:if${i}`] = status;
        return `:if${i}`;
      });
      return `#s IN (${placeholders.join(', ')})`;
    };
    if (setStatus) {
      sets.push('#s = :s');
      values[':s'] = change.status;
      names['#s'] = 'status';
      if (change.create) {
        // Created when absent (a held or skipped message has no claim before it): its fields stay as first written.
        const created = { ...journeyMessageIndexKeys(change.create), kind: 'message', ...change.create };
        setFields({ names, values, sets }, created, 'c', true);
        conditions[0] = change.ifStatusIn?.length
          ? `(attribute_not_exists(pk) OR ${statusIn()})`
          : 'attribute_not_exists(pk)';
      } else if (change.ifStatusIn) {
        conditions.push(statusIn());
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
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  };
}

/** `SET` clauses for these attributes (undefined ones left out); `firstOnly`: kept when present. */
function setFields(
  expression: { names: Record<string, string>; values: Record<string, unknown>; sets: string[] },
  fields: Record<string, unknown>,
  prefix: string,
  firstOnly: boolean,
): void {
  let i = 0;
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const name = `#${prefix}${i}`;
    const placeholder = `:${prefix}${i++}`;
    expression.names[name] = field;
    expression.values[placeholder] = value;
    expression.sets.push(
      firstOnly ? `${name} = if_not_exists(${name}, ${placeholder})` : `${name} = ${placeholder}`,
    );
  }
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

/** Statuses a claim takes a record over from: a transient failure (`retry`), a hold that ended (`held`). */
const claimableStatuses: readonly MessageStatus[] = ['retry', 'held'];

/** Whether a claim may take over an existing record (what `messageClaimWrite`'s condition says). */
export function claimable(existing: Pick<MessageRecord, 'status'> | undefined): boolean {
  return !existing || claimableStatuses.includes(existing.status);
}

/** The record a claim leaves (in-memory stores): the claimed one, after the history of the one it took over. */
export function claimedRecord(existing: MessageRecord | undefined, record: MessageRecord): MessageRecord {
  const { reason: _reason, ...kept } = existing ?? record;
  return structuredClone({
    ...kept,
    ...record,
    createdAt: existing?.createdAt ?? record.createdAt,
    history: [...(existing?.history ?? []), ...record.history],
  });
}

/**
 * The conditional write that claims a send: a new record, or one a transient failure left in `retry`
 * or a hold left in `held` (its history is kept: `held`, then `sending`, …). An Update rather than a
 * Put for that reason; one definition for `claimMessage` and the send gateway's claim transaction
 * (shared/messaging).
 */
export function messageClaimWrite(table: string, record: MessageRecord) {
  const { history, createdAt, ...fields } = record;
  const names: Record<string, string> = { '#h': 'history', '#s': 'status' };
  const values: Record<string, unknown> = { ':h': history, ':empty': [] };
  const sets = ['#h = list_append(if_not_exists(#h, :empty), :h)'];
  const keep = { ...journeyMessageIndexKeys(record), createdAt };
  const expression = { names, values, sets };
  setFields(expression, { kind: 'message', ...fields }, 'f', false);
  // A held record keeps its place in the journey's message index.
  setFields(expression, keep, 'k', true);
  const statuses = claimableStatuses.map((status, i) => {
    values[`:claimable${i}`] = status;
    return `:claimable${i}`;
  });
  return {
    TableName: table,
    Key: messageKey(record.executionName, record.nodeId),
    UpdateExpression: `SET ${sets.join(', ')} REMOVE reason`,
    ConditionExpression: `attribute_not_exists(pk) OR #s IN (${statuses.join(', ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
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
              { Update: messageClaimWrite(journeys, record) },
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
        // After 8 requests what is still unprocessed is left out: the message list shows what it could read.
        await resendingUnprocessed<Record<string, unknown>>(
          keys.slice(i, i + 100).map((k) => messageKey(k.executionName, k.nodeId)),
          async (pending) => {
            const out = await client.send(
              new BatchGetCommand({ RequestItems: { [journeys]: { Keys: pending } } }),
            );
            records.push(...(out.Responses?.[journeys] ?? []).map((item) => stripKeys<MessageRecord>(item)));
            return out.UnprocessedKeys?.[journeys]?.Keys ?? [];
          },
          { attempts: 8, backoff: unprocessedBackoff },
        );
      }
      return records;
    },

    async updateMessage(key, change) {
      const update = async (setStatus: boolean) => {
        const out = await sendRetryingConflicts(
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
      // A held or skipped record (`create`) is only ever written whole: nothing when it moved on.
      if (!change.ifStatusIn || change.create) return undefined;
      try {
        return await update(false);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
