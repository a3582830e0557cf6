import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { journeysTable, profilesTable, tableName } from '../store/tables.js';
import type { EntryRecord, PresenceRecord, ProfileJourneyState, StatDelta, WaitingFor } from './types.js';

/**
 * DynamoDB persistence of the runtime. Item layouts are in shared/runtime/README.md. Every method is
 * one request (a transaction counts as one), so callers can count what an event or a step costs.
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

export interface TimelineEntry {
  profileId: string;
  /** ISO-8601. */
  at: string;
  kind: 'journey-step' | 'message';
  journeyId: string;
  journeyVersion: number;
  executionName: string;
  nodeId: string;
  nodeType: string;
  /** entered, completed, waiting, resumed, timed-out, skipped, failed, sent, converted, exited, ... */
  outcome: string;
  detail?: string;
  messageId?: string;
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

/** The writes that end a step (or a resume, a stop): see `RuntimeStore.writeStep`. */
export interface StepWrite {
  journeyId: string;
  deltas: StatDelta[];
  timeline?: TimelineEntry;
  presence?:
    | { remove: { profileId: string; executionName: string } }
    | { clearWaiting: { profileId: string; executionName: string; token: string } }
    | { setWaiting: { presence: Omit<PresenceRecord, 'waiting'>; waiting: WaitingFor } };
  message?: { key: { executionName: string; nodeId: string }; change: MessageChange };
}

export interface RuntimeStore {
  readJourneyState(profileId: string): Promise<ProfileJourneyState>;
  /**
   * Records an entry and its presence item atomically; false when the re-entry rule forbids it (a
   * concurrent or earlier entry won). `notEnteredSince` (epoch ms) null = never entered before
   * (reentry never), undefined = no rule (always).
   */
  recordEntry(entry: {
    presence: PresenceRecord;
    notEnteredSince: number | null | undefined;
  }): Promise<boolean>;
  setWaiting(presence: Omit<PresenceRecord, 'waiting'>, waiting: WaitingFor): Promise<void>;
  /** Removes the `waiting` attribute if it still holds this token; false when it did not. */
  clearWaiting(profileId: string, executionName: string, token: string): Promise<boolean>;
  removePresence(profileId: string, executionName: string): Promise<void>;
  /** Moves presence items of merged profiles to the surviving one (after an identity merge). */
  movePresence(records: PresenceRecord[], toProfileId: string): Promise<void>;
  addStats(journeyId: string, deltas: StatDelta[]): Promise<void>;
  readStats(journeyId: string): Promise<Record<string, number>>;
  /** Conditional put of a new message record (or one left in `retry`); false when it exists. */
  claimMessage(record: MessageRecord): Promise<boolean>;
  getMessage(executionName: string, nodeId: string): Promise<MessageRecord | undefined>;
  /** Records by (execution, node), in one BatchGetItem per 100 keys; missing ones are left out. */
  getMessages(keys: { executionName: string; nodeId: string }[]): Promise<MessageRecord[]>;
  updateMessage(
    key: { executionName: string; nodeId: string },
    change: MessageChange,
  ): Promise<MessageRecord | undefined>;
  addTimeline(entry: TimelineEntry): Promise<void>;
  /**
   * What a step, a resume or a stop records, in ONE request (a TransactWriteItems across both tables
   * when it is more than one item): counters, timeline entry, presence change, message status. Each
   * part behaves as its own method would (`addStats`, `addTimeline`, `removePresence`, `clearWaiting`,
   * `setWaiting`, `updateMessage`): a conditional part whose condition fails (a token already cleared,
   * a status feedback moved on) does not stop the others. Only then, or after repeated transaction
   * conflicts, does it fall back to one request per part.
   */
  writeStep(write: StepWrite): Promise<void>;
  listTimeline(profileId: string): Promise<TimelineEntry[]>;
}

type TransactWriteItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export const statShards = 10;
const presencePrefix = 'S#';
/**
 * Entry records live under the presence prefix so they come with the profile read and move with the
 * presence items on an identity merge. `#` never occurs in an execution name, so they cannot collide.
 */
const entryPrefix = 'S#entry#';
/** Journey steps and messages in the profile's timeline: between its events (E#) and PROFILE. */
const timelinePrefix = 'JT#';

function presenceKey(profileId: string, executionName: string) {
  return { pk: `P#${profileId}`, sk: `${presencePrefix}${executionName}` };
}
/** Message records are keyed by what makes a send unique: the execution and the node. */
function messageKey(executionName: string, nodeId: string) {
  return { pk: `MSG#${executionName}`, sk: nodeId };
}

/** Attribute name of one counter in a stats shard item. */
export function statAttribute(delta: StatDelta): string {
  return delta.nodeId === undefined ? `journey|${delta.counter}` : `node|${delta.nodeId}|${delta.counter}`;
}

/** SET expression for a presence item: `overwrite` fields are set, the others only when missing. */
function presenceUpsert(presence: Omit<PresenceRecord, 'waiting'>, overwrite: Record<string, unknown>) {
  const names: Record<string, string> = { '#kind': 'kind' };
  const values: Record<string, unknown> = { ':kind': 'journey-presence' };
  const sets = ['#kind = :kind'];
  let i = 0;
  for (const [field, value] of Object.entries(overwrite)) {
    names[`#o${i}`] = field;
    values[`:o${i}`] = value;
    sets.push(`#o${i} = :o${i}`);
    i++;
  }
  for (const [field, value] of Object.entries(presence)) {
    if (value === undefined || field === 'waiting' || field in overwrite) continue;
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = if_not_exists(#f${i}, :f${i})`);
    i++;
  }
  return {
    UpdateExpression: `SET ${sets.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function isConditionFailure(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

function toPresence(item: Record<string, unknown>): PresenceRecord {
  const { pk: _pk, sk: _sk, kind: _kind, expiresAt: _e, ...rest } = item;
  return rest as unknown as PresenceRecord;
}

export interface DynamoRuntimeStoreOptions {
  profilesTableName?: string;
  journeysTableName?: string;
  /** Shard picker for counters; default random. */
  shard?: () => number;
  /**
   * How `writeStep` writes: `transaction` (default: one TransactWriteItems, 2 WCU per KB of each item)
   * or `separate` (one request per part, in parallel, 1 WCU per KB). Default from
   * `CAIRN_STEP_WRITES`. The trade-off is in shared/runtime/README.md.
   */
  stepWrites?: 'transaction' | 'separate';
  /** Keep timeline entries this long (seconds); default 400 days. */
  timelineRetentionSeconds?: number;
  now?: () => number;
}

export function dynamoRuntimeStore(
  client: DynamoDBDocumentClient,
  options: DynamoRuntimeStoreOptions = {},
): RuntimeStore {
  const profiles = options.profilesTableName ?? tableName(profilesTable);
  const journeys = options.journeysTableName ?? tableName(journeysTable);
  const shard = options.shard ?? (() => Math.floor(Math.random() * statShards));
  const retention = options.timelineRetentionSeconds ?? 400 * 86_400;
  const now = options.now ?? Date.now;
  const transactSteps = options.stepWrites
    ? options.stepWrites === 'transaction'
    : process.env.CAIRN_STEP_WRITES !== 'separate';

  /** Every write as request parameters, for a request of its own or an item of a transaction. */
  const writes = {
    addStats(journeyId: string, deltas: StatDelta[]) {
      if (deltas.length === 0) return undefined;
      const names: Record<string, string> = {};
      const values: Record<string, number> = {};
      const adds: string[] = [];
      // Sum duplicates: one attribute may appear only once per update expression.
      const sums = new Map<string, number>();
      for (const delta of deltas) {
        const attribute = statAttribute(delta);
        sums.set(attribute, (sums.get(attribute) ?? 0) + (delta.by ?? 1));
      }
      let i = 0;
      for (const [attribute, by] of sums) {
        names[`#a${i}`] = attribute;
        values[`:v${i}`] = by;
        adds.push(`#a${i} :v${i}`);
        i++;
      }
      return {
        TableName: journeys,
        Key: { pk: `STATS#${journeyId}`, sk: `SHARD#${shard()}` },
        UpdateExpression: `ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      };
    },
    addTimeline(entry: TimelineEntry) {
      return {
        TableName: profiles,
        Item: {
          pk: `P#${entry.profileId}`,
          sk: `${timelinePrefix}${entry.at}#${entry.executionName}#${entry.nodeId}#${entry.outcome}`,
          ...entry,
          expiresAt: Math.floor(now() / 1000) + retention,
        },
      };
    },
    removePresence(profileId: string, executionName: string) {
      return { TableName: profiles, Key: presenceKey(profileId, executionName) };
    },
    clearWaiting(profileId: string, executionName: string, token: string) {
      return {
        TableName: profiles,
        Key: presenceKey(profileId, executionName),
        UpdateExpression: 'REMOVE waiting',
        ConditionExpression: 'waiting.#t = :t',
        ExpressionAttributeNames: { '#t': 'token' },
        ExpressionAttributeValues: { ':t': token },
      };
    },
    setWaiting(presence: Omit<PresenceRecord, 'waiting'>, waiting: WaitingFor) {
      // An upsert: the presence item normally exists (written at entry), but a token must never be lost.
      return {
        TableName: profiles,
        Key: presenceKey(presence.profileId, presence.executionName),
        ...presenceUpsert(presence, { waiting }),
      };
    },
    /** `setStatus` false: only the history grows (the status moved on meanwhile). */
    updateMessage(key: { executionName: string; nodeId: string }, change: MessageChange, setStatus: boolean) {
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
        TableName: journeys,
        Key: messageKey(key.executionName, key.nodeId),
        UpdateExpression: `SET ${sets.join(', ')} ADD seen :seen`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: setStatus
          ? { '#s': 'status', '#h': 'history' }
          : ({ '#h': 'history' } as Record<string, string>),
        ExpressionAttributeValues: values,
      };
    },
  };

  /**
   * A single write, again (up to 4 attempts) when it met a step's transaction on the same item (a
   * counter shard, a presence item, a message record): DynamoDB rejects it with
   * TransactionConflictException, which the SDK does not retry.
   */
  const sendWrite = async <O>(command: () => { readonly input: unknown }): Promise<O> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await client.send(command() as never)) as O;
      } catch (error) {
        if ((error as { name?: string }).name !== 'TransactionConflictException' || attempt >= 4) throw error;
        await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
      }
    }
  };

  /** The items of one `writeStep` (counters on a random shard). */
  const stepItems = (write: StepWrite, setMessageStatus: boolean) => {
    const items: TransactWriteItem[] = [];
    /** Which item is which, to read the cancellation reasons (same order as the items). */
    const parts: ('stats' | 'timeline' | 'presence' | 'message')[] = [];
    const stats = writes.addStats(write.journeyId, write.deltas);
    if (stats) {
      items.push({ Update: stats });
      parts.push('stats');
    }
    if (write.timeline) {
      items.push({ Put: writes.addTimeline(write.timeline) });
      parts.push('timeline');
    }
    const presence = write.presence;
    if (presence && 'remove' in presence) {
      const { profileId, executionName } = presence.remove;
      items.push({ Delete: writes.removePresence(profileId, executionName) });
    } else if (presence && 'clearWaiting' in presence) {
      const { profileId, executionName, token } = presence.clearWaiting;
      items.push({ Update: writes.clearWaiting(profileId, executionName, token) });
    } else if (presence && 'setWaiting' in presence) {
      items.push({ Update: writes.setWaiting(presence.setWaiting.presence, presence.setWaiting.waiting) });
    }
    if (presence) parts.push('presence');
    if (write.message) {
      items.push({ Update: writes.updateMessage(write.message.key, write.message.change, setMessageStatus) });
      parts.push('message');
    }
    return { items, parts };
  };

  const store: RuntimeStore = {
    async readJourneyState(profileId) {
      const out = await client.send(
        new QueryCommand({
          TableName: profiles,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':prefix': presencePrefix },
        }),
      );
      return splitJourneyState(out.Items ?? []);
    },

    async recordEntry({ presence, notEnteredSince }) {
      const key = { pk: `P#${presence.profileId}`, sk: `${entryPrefix}${presence.journeyId}` };
      let condition: string | undefined;
      const values: Record<string, unknown> = {
        ':at': presence.enteredAt,
        ':exec': presence.executionName,
        ':one': 1,
        ':jid': presence.journeyId,
        ':kind': 'journey-entry',
      };
      // A retry of the same entry (same execution name) passes, so a failed StartExecution can be redone.
      if (notEnteredSince === null) condition = 'attribute_not_exists(pk) OR lastExecution = :exec';
      else if (notEnteredSince !== undefined) {
        condition = 'attribute_not_exists(pk) OR lastEnteredAt <= :since OR lastExecution = :exec';
        values[':since'] = notEnteredSince;
      }
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: profiles,
                  Key: key,
                  UpdateExpression:
                    'SET lastEnteredAt = :at, lastExecution = :exec, journeyId = :jid, kind = :kind, profileId = :pid ADD entries :one',
                  ConditionExpression: condition,
                  ExpressionAttributeValues: { ...values, ':pid': presence.profileId },
                },
              },
              {
                // An upsert that keeps what is there: a redelivered trigger must not wipe a stored task token.
                Update: {
                  TableName: profiles,
                  Key: presenceKey(presence.profileId, presence.executionName),
                  ...presenceUpsert(presence, {}),
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async setWaiting(presence, waiting) {
      // An upsert: the presence item normally exists (written at entry), but a token must never be lost.
      await sendWrite(() => new UpdateCommand(writes.setWaiting(presence, waiting)));
    },

    async clearWaiting(profileId, executionName, token) {
      try {
        await sendWrite(() => new UpdateCommand(writes.clearWaiting(profileId, executionName, token)));
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async removePresence(profileId, executionName) {
      await sendWrite(() => new DeleteCommand(writes.removePresence(profileId, executionName)));
    },

    async movePresence(records, toProfileId) {
      for (let i = 0; i < records.length; i += 12) {
        const chunk = records.slice(i, i + 12);
        await client.send(
          new BatchWriteCommand({
            RequestItems: {
              [profiles]: chunk.flatMap((record) => [
                {
                  PutRequest: {
                    Item: {
                      ...presenceKey(toProfileId, record.executionName),
                      kind: 'journey-presence',
                      ...record,
                      profileId: toProfileId,
                    },
                  },
                },
                { DeleteRequest: { Key: presenceKey(record.profileId, record.executionName) } },
              ]),
            },
          }),
        );
      }
    },

    async addStats(journeyId, deltas) {
      if (deltas.length === 0) return;
      // Built again on a retry: another random shard.
      await sendWrite(() => new UpdateCommand(writes.addStats(journeyId, deltas)!));
    },

    async readStats(journeyId) {
      const totals: Record<string, number> = {};
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: journeys,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `STATS#${journeyId}` },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of out.Items ?? []) {
          for (const [attribute, value] of Object.entries(item)) {
            if (typeof value === 'number') totals[attribute] = (totals[attribute] ?? 0) + value;
          }
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return totals;
    },

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
        const out = await sendWrite<UpdateCommandOutput>(
          () =>
            new UpdateCommand({ ...writes.updateMessage(key, change, setStatus), ReturnValues: 'ALL_NEW' }),
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

    async addTimeline(entry) {
      await sendWrite(() => new PutCommand(writes.addTimeline(entry)));
    },

    async writeStep(original) {
      let write = original;
      let setMessageStatus = true;
      if (stepItems(write, true).items.length <= 1 || !transactSteps)
        return writeStepSeparately(store, write);
      for (let attempt = 1; ; attempt++) {
        // Built on every attempt: another random counter shard, away from one in contention.
        const { items, parts } = stepItems(write, setMessageStatus);
        try {
          await client.send(new TransactWriteCommand({ TransactItems: items }));
          return;
        } catch (error) {
          const reasons = cancellationReasons(error);
          if (!reasons) throw error;
          if (attempt >= 6 || reasons.length !== items.length) return writeStepSeparately(store, write);
          // Nothing was written. A part whose condition failed does what its own method would, the
          // others are tried again: a cleared or deleted token is left alone (clearWaiting → false);
          // a message whose status moved on (feedback first) only gets the history entry, or nothing
          // when it is gone.
          const failed = new Set(parts.filter((_, i) => reasons[i] === 'ConditionalCheckFailed'));
          const other = reasons.some(
            (code) => !['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(code),
          );
          if (other || failed.has('stats') || failed.has('timeline'))
            return writeStepSeparately(store, write);
          if (failed.has('presence')) write = { ...write, presence: undefined };
          if (failed.has('message')) {
            if (setMessageStatus && write.message?.change.ifStatusIn) setMessageStatus = false;
            else write = { ...write, message: undefined };
          }
          if (failed.size === 0)
            await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
          if (stepItems(write, setMessageStatus).items.length <= 1) {
            // One part left: its own request (the history-only message update is updateMessage's fallback).
            return writeStepSeparately(store, write);
          }
        }
      }
    },

    async listTimeline(profileId) {
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: profiles,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            FilterExpression: 'attribute_not_exists(expiresAt) OR expiresAt > :now',
            ExpressionAttributeValues: {
              ':pk': `P#${profileId}`,
              ':prefix': timelinePrefix,
              ':now': Math.floor(now() / 1000),
            },
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return items.map((item) => stripKeys<TimelineEntry>(item));
    },
  };
  return store;
}

/**
 * `writeStep` as one request per part, in parallel: the fallback of the DynamoDB store, and the
 * behaviour every part must keep when it is written in a transaction.
 */
export async function writeStepSeparately(store: RuntimeStore, write: StepWrite): Promise<void> {
  const presence = write.presence;
  await Promise.all([
    store.addStats(write.journeyId, write.deltas),
    write.timeline && store.addTimeline(write.timeline),
    presence && 'remove' in presence
      ? store.removePresence(presence.remove.profileId, presence.remove.executionName)
      : undefined,
    presence && 'clearWaiting' in presence
      ? store.clearWaiting(
          presence.clearWaiting.profileId,
          presence.clearWaiting.executionName,
          presence.clearWaiting.token,
        )
      : undefined,
    presence && 'setWaiting' in presence
      ? store.setWaiting(presence.setWaiting.presence, presence.setWaiting.waiting)
      : undefined,
    write.message && store.updateMessage(write.message.key, write.message.change),
  ]);
}

/** The per-item codes of a cancelled transaction; undefined for any other error. */
function cancellationReasons(error: unknown): string[] | undefined {
  if ((error as { name?: string }).name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (!reasons?.length) return ['Unknown'];
  return reasons.map((reason) => reason.Code ?? 'None');
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, kind, expiresAt: _e, seen: _seen, ...rest } = item;
  if (kind === 'journey-step' || kind === 'message') return { kind, ...rest } as T;
  return rest as T;
}

/**
 * Splits the runtime's items under `S#` into presence and entry records. Takes raw items (with `sk`)
 * or the profile store's `presence` list (sk stripped, `executionName` = sk without `S#`).
 */
export function splitJourneyState(items: readonly Record<string, unknown>[]): ProfileJourneyState {
  const state: ProfileJourneyState = { presence: [], entries: [] };
  for (const item of items) {
    const sk = typeof item.sk === 'string' ? item.sk : `${presencePrefix}${String(item.executionName ?? '')}`;
    if (!sk.startsWith(presencePrefix)) continue;
    if (sk.startsWith(entryPrefix) || item.kind === 'journey-entry') {
      state.entries.push({
        profileId: String(item.profileId ?? ''),
        journeyId: String(item.journeyId ?? sk.slice(entryPrefix.length)),
        lastEnteredAt: Number(item.lastEnteredAt ?? 0),
        lastExecution: String(item.lastExecution ?? ''),
        entries: Number(item.entries ?? 0),
      } satisfies EntryRecord);
    } else if (typeof item.journeyId === 'string') {
      state.presence.push({ ...toPresence(item), executionName: sk.slice(presencePrefix.length) });
    }
  }
  return state;
}
