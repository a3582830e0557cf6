import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isObject } from '../json.js';
import { presenceKey, presencePrefix } from '../profiles/dynamodb.js';
import { isConditionFailure, sendRetryingConflicts, writeIfCondition } from '../store/dynamodb.js';
import { profilePk } from '../store/keys.js';
import { journeysTable, profilesTable } from '../store/tables.js';
import { entryDataPut, entryDataRetentionSeconds } from './entry-data.js';
import { notErased } from './erased.js';
import type { EntryRecord, EntryRun, PresenceRecord, ProfileJourneyState, WaitingFor } from './types.js';

/**
 * Journey presence in the Profiles table (layout in shared/runtime/README.md): `P#<profileId>` /
 * `S#<executionName>` per execution the profile is in, `S#entry#<journeyId>` per journey it entered.
 * They sort after the profile item, so the profile store reads them with the profile (one Query).
 */

/** Which executions a profile is in and what they wait for, and its journey entry history. */
export interface PresenceStore {
  readJourneyState(profileId: string): Promise<ProfileJourneyState>;
  /**
   * Records an entry and its presence item atomically; false when the re-entry rule forbids it (a
   * concurrent or earlier entry won) or the profile was erased. A redelivery (the entry record's last
   * execution is this one) writes nothing and answers true, so its StartExecution is redone.
   * `notEnteredSince` (epoch ms) null = never entered before (reentry never), undefined = no rule
   * (always).
   */
  recordEntry(entry: {
    presence: PresenceRecord;
    notEnteredSince: number | null | undefined;
    /** At most once per run of this broadcast (EntryRun). */
    run?: EntryRun;
    /** The entry's properties, kept beside the execution (entry-data.ts), in the same transaction. */
    properties?: Record<string, unknown>;
  }): Promise<boolean>;
  setWaiting(presence: Omit<PresenceRecord, 'waiting'>, waiting: WaitingFor): Promise<void>;
  /** Removes the `waiting` attribute if it still holds this token; false when it did not. */
  clearWaiting(profileId: string, executionName: string, token: string): Promise<boolean>;
  removePresence(profileId: string, executionName: string): Promise<void>;
}

/**
 * Entry records live under the presence prefix so they come with the profile read and move with the
 * presence items on an identity merge. `#` never occurs in an execution name, so they cannot collide.
 */
const entryName = (journeyId: string) => `entry#${journeyId}`;

/**
 * Whether an entry's transaction was refused only because its entry record already names this
 * execution (a redelivered trigger, recorded by its first delivery): then nothing is to be written
 * and the entry goes on (StartExecution, which a failed first delivery may not have reached). The
 * record comes back in the cancellation reason (ALL_OLD, in wire format); any other refused item
 * (the erasure tombstone's check) is a refusal.
 */
function isRedelivery(error: unknown, executionName: string): boolean {
  if ((error as { name?: string }).name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, unknown> }[] })
    .CancellationReasons;
  const [entry, ...others] = reasons ?? [];
  if (entry?.Code !== 'ConditionalCheckFailed') return false;
  if (others.some((reason) => reason.Code !== undefined && reason.Code !== 'None')) return false;
  const last = entry.Item?.lastExecution;
  return (typeof last === 'string' ? last : (last as { S?: string } | undefined)?.S) === executionName;
}
export const entryPrefix = `${presencePrefix}${entryName('')}`;
/** Attribute of an entry record holding a broadcast's last run mark (EntryRecord.runs). */
const runAttribute = 'run#';

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

/** A stored presence item read back as the record presenceUpsert wrote (setWaiting adds `waiting`). */
function toPresence(item: Record<string, unknown>, executionName: string): PresenceRecord {
  const { executionArn, goal, exitOn, waiting } = item;
  return {
    profileId: String(item.profileId),
    executionName,
    journeyId: String(item.journeyId),
    version: Number(item.version),
    enteredAt: Number(item.enteredAt),
    triggerMessageId: String(item.triggerMessageId),
    ...(typeof executionArn === 'string' && { executionArn }),
    ...(isObject(goal) && {
      goal: { ...eventCondition(goal), ...(goal.until !== undefined && { until: Number(goal.until) }) },
    }),
    ...(Array.isArray(exitOn) && { exitOn: exitOn.filter(isObject).map(eventCondition) }),
    ...(isObject(waiting) && { waiting: waitingFor(waiting) }),
    ...(item.entryData === true && { entryData: true as const }),
  };
}

function eventCondition(value: Record<string, unknown>): { event: string; where?: Record<string, unknown> } {
  return { event: String(value.event), ...(isObject(value.where) && { where: value.where }) };
}

function waitingFor(value: Record<string, unknown>): WaitingFor {
  return {
    nodeId: String(value.nodeId),
    event: String(value.event),
    token: String(value.token),
    since: Number(value.since),
    ...(isObject(value.where) && { where: value.where }),
    ...(isObject(value.match) && { match: value.match }),
    ...(value.expiresAt !== undefined && { expiresAt: Number(value.expiresAt) }),
  };
}

/** Presence writes as request parameters, for a request of their own or an item of a transaction. */
export function presenceWrites(table: string) {
  return {
    removePresence(profileId: string, executionName: string) {
      return { TableName: table, Key: presenceKey(profileId, executionName) };
    },
    clearWaiting(profileId: string, executionName: string, token: string) {
      return {
        TableName: table,
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
        TableName: table,
        Key: presenceKey(presence.profileId, presence.executionName),
        ...presenceUpsert(presence, { waiting }),
      };
    },
  };
}

export function dynamoPresenceStore(
  client: DynamoDBDocumentClient,
  options: { tableName?: string; journeysTableName?: string } = {},
): PresenceStore {
  const profiles = options.tableName ?? profilesTable.defaultName;
  const journeys = options.journeysTableName ?? journeysTable.defaultName;
  const writes = presenceWrites(profiles);
  return {
    async readJourneyState(profileId) {
      const out = await client.send(
        new QueryCommand({
          TableName: profiles,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': profilePk(profileId), ':prefix': presencePrefix },
        }),
      );
      return splitJourneyState(out.Items ?? []);
    },

    async recordEntry({ presence, notEnteredSince, run, properties }) {
      const key = presenceKey(presence.profileId, entryName(presence.journeyId));
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':at': presence.enteredAt,
        ':exec': presence.executionName,
        ':one': 1,
        ':jid': presence.journeyId,
        ':kind': 'journey-entry',
      };
      // A redelivered trigger (the execution name of the last entry) writes nothing: its entry was
      // recorded, with its presence and entry data, by the first delivery; counting it again would
      // inflate `entries` and move `lastEnteredAt` (delaying a re-entry `after`). The failed
      // condition returns the record (ALL_OLD), so it is told from a refusal in the same request.
      let condition = '(attribute_not_exists(lastExecution) OR lastExecution <> :exec)';
      if (notEnteredSince === null) condition += ' AND attribute_not_exists(pk)';
      else if (notEnteredSince !== undefined) {
        condition += ' AND (attribute_not_exists(pk) OR lastEnteredAt <= :since)';
        values[':since'] = notEnteredSince;
      }
      let setRun = '';
      if (run) {
        // Marks sort as `<runKey> <slot>`: this run's mark (or a later run's) is never below the key.
        condition += ' AND (attribute_not_exists(#run) OR #run < :runKey)';
        names['#run'] = `${runAttribute}${run.scope}`;
        values[':runKey'] = run.key;
        values[':mark'] = run.mark;
        setRun = ', #run = :mark';
      }
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: profiles,
                  Key: key,
                  UpdateExpression: `SET lastEnteredAt = :at, lastExecution = :exec, journeyId = :jid, kind = :kind, profileId = :pid${setRun} ADD entries :one`,
                  ConditionExpression: condition,
                  ...(run && { ExpressionAttributeNames: names }),
                  ExpressionAttributeValues: { ...values, ':pid': presence.profileId },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
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
              notErased(profiles, presence.profileId),
              ...(properties
                ? [
                    {
                      Put: entryDataPut(journeys, presence.executionName, {
                        properties,
                        expiresAt: Math.floor(presence.enteredAt / 1000) + entryDataRetentionSeconds,
                      }),
                    },
                  ]
                : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (isRedelivery(error, presence.executionName)) return true;
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async setWaiting(presence, waiting) {
      // An upsert: the presence item normally exists (written at entry), but a token must never be lost.
      await sendRetryingConflicts(client, () => new UpdateCommand(writes.setWaiting(presence, waiting)));
    },

    async clearWaiting(profileId, executionName, token) {
      return writeIfCondition(
        sendRetryingConflicts(
          client,
          () => new UpdateCommand(writes.clearWaiting(profileId, executionName, token)),
        ),
      );
    },

    async removePresence(profileId, executionName) {
      await sendRetryingConflicts(
        client,
        () => new DeleteCommand(writes.removePresence(profileId, executionName)),
      );
    },
  };
}

function entryRuns(item: Record<string, unknown>): Pick<EntryRecord, 'runs'> {
  const runs = Object.entries(item).filter(([name]) => name.startsWith(runAttribute));
  if (runs.length === 0) return {};
  return {
    runs: Object.fromEntries(runs.map(([name, mark]) => [name.slice(runAttribute.length), String(mark)])),
  };
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
        ...entryRuns(item),
      } satisfies EntryRecord);
    } else if (typeof item.journeyId === 'string') {
      state.presence.push(toPresence(item, sk.slice(presencePrefix.length)));
    }
  }
  return state;
}
