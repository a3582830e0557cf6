/**
 * DynamoDB items of journey analytics (Journeys table), written as extra items of the step's one
 * TransactWriteItems (shared/runtime/store.ts) and read by the report with one paginated Query.
 *
 * | item               | pk                               | sk                                   |
 * | ------------------ | -------------------------------- | ------------------------------------ |
 * | day counters       | `AN#<journeyId>`                 | `D#<yyyy-mm-dd>#c#<stats shard 0-9>` |
 * | end-of-execution   | `AN#<journeyId>`                 | `D#<yyyy-mm-dd>#p#<shard 0-3>`       |
 * | transition record  | `TR#<journeyId>#<yyyy-mm-dd>`    | `<iso at>#<executionName>#<to node>` |
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../store/dynamodb.js';
import { profilePk, timelinePrefix } from '../store/keys.js';
import { journeysTable, profilesTable } from '../store/tables.js';
import { dayOf, sumCounters } from './counters.js';
import type { TrailEntry } from './trail.js';

/**
 * Shards of the end-of-execution counters per day (they are written once per execution). The day's
 * step counters use the stats shard's number (0-9), so they contend exactly where the stats do.
 */
export const analyticsShards = 4;
/** Transition records are kept this long (like timeline entries). */
const transitionRetentionSeconds = 400 * 86_400;

/** One node transition of one execution. */
export interface TransitionRecord {
  journeyId: string;
  version: number;
  executionName: string;
  /** The node before (absent for the first node of an execution). */
  from?: string;
  to: string;
  outcome: string;
  /** Split arms taken so far: `<split>:<next>` joined by `,`. */
  arm?: string;
  /** Epoch ms. */
  at: number;
}

/** What a step, resume or stop adds to analytics, in the same request as its own writes. */
export interface AnalyticsWrite {
  transition?: TransitionRecord;
  /** End-of-execution counters (`path|…`, `edge|…`, `arm|…`, `tn|…`, `tms|…`, `end|…`). */
  end?: Record<string, number>;
}

type Update = {
  TableName: string;
  Key: Record<string, string>;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, number>;
};

/** An ADD of counters to one day's item (`kind` c: step counters, p: end-of-execution). */
export function dayCounterUpdate(
  journeyId: string,
  day: string,
  kind: 'c' | 'p',
  counters: Record<string, number>,
  shard = Math.floor(Math.random() * analyticsShards),
  table = journeysTable.defaultName,
): Update | undefined {
  const entries = Object.entries(counters).filter(([, by]) => by !== 0);
  if (entries.length === 0) return undefined;
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const adds = entries.map(([attribute, by], i) => {
    names[`#n${i}`] = attribute;
    values[`:n${i}`] = by;
    return `#n${i} :n${i}`;
  });
  return {
    TableName: table,
    Key: { pk: `AN#${journeyId}`, sk: `D#${day}#${kind}#${shard}` },
    UpdateExpression: `ADD ${adds.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The Put of a transition record. */
export function transitionPut(record: TransitionRecord, table = journeysTable.defaultName) {
  const at = new Date(record.at).toISOString();
  return {
    TableName: table,
    Item: {
      pk: `TR#${record.journeyId}#${dayOf(record.at)}`,
      sk: `${at}#${record.executionName}#${record.to}`,
      kind: 'transition',
      ...record,
      at,
      expiresAt: Math.floor(record.at / 1000) + transitionRetentionSeconds,
    },
  };
}

/** An item of a transaction that analytics writes: a day's counters, or a transition record. */
export type AnalyticsItem = { Update: Update } | { Put: ReturnType<typeof transitionPut> };

/** The analytics items of one write, for a transaction (or requests of their own). */
export function analyticsItems(
  journeyId: string,
  now: number,
  counters: Record<string, number>,
  write: AnalyticsWrite | undefined,
  table = journeysTable.defaultName,
  statsShard?: number,
): AnalyticsItem[] {
  const day = dayOf(now);
  const items: AnalyticsItem[] = [];
  const steps = dayCounterUpdate(journeyId, day, 'c', counters, statsShard, table);
  if (steps) items.push({ Update: steps });
  const end = write?.end && dayCounterUpdate(journeyId, day, 'p', write.end, undefined, table);
  if (end) items.push({ Update: end });
  if (write?.transition) items.push({ Put: transitionPut(write.transition, table) });
  return items;
}

/** Reads analytics: counters of a date range, transitions of a day range, an execution's timeline. */
export interface AnalyticsReader {
  /** Counters summed over `from`..`to` (UTC days, inclusive; open ends = all). One paginated Query. */
  readCounters(journeyId: string, range: { from?: string; to?: string }): Promise<Record<string, number>>;
  listTransitions(journeyId: string, day: string): Promise<TransitionRecord[]>;
  /** The journey-step timeline entries of one execution since it entered (one Query). */
  executionEntries(profileId: string, executionName: string, since: string): Promise<TrailEntry[]>;
}

export function dynamoAnalyticsReader(
  client: DynamoDBDocumentClient,
  options: { journeysTableName?: string; profilesTableName?: string } = {},
): AnalyticsReader {
  const journeys = options.journeysTableName ?? journeysTable.defaultName;
  const profiles = options.profilesTableName ?? profilesTable.defaultName;
  return {
    async readCounters(journeyId, range) {
      const items = await queryAll(client, {
        TableName: journeys,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': `AN#${journeyId}`,
          ':from': `D#${range.from ?? '0000-00-00'}`,
          ':to': `D#${range.to ?? '9999-99-99'}#~`,
        },
      });
      return sumCounters(items);
    },
    async listTransitions(journeyId, day) {
      const items = await queryAll(client, {
        TableName: journeys,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `TR#${journeyId}#${day}` },
      });
      return items.map(transitionFromItem);
    },
    async executionEntries(profileId, executionName, since) {
      const items = await queryAll(client, {
        TableName: profiles,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        FilterExpression: 'executionName = :exec',
        ProjectionExpression: 'nodeId, nodeType, outcome, #at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: {
          ':pk': profilePk(profileId),
          ':from': `${timelinePrefix}${since}`,
          ':to': `${timelinePrefix}~`,
          ':exec': executionName,
        },
      });
      return items.map((item) => ({
        nodeId: String(item.nodeId),
        outcome: String(item.outcome),
        at: String(item.at),
      }));
    },
  };
}

/** A transition record as `transitionPut` stored it (its `at` back to epoch ms). */
function transitionFromItem(item: Record<string, unknown>): TransitionRecord {
  return {
    journeyId: String(item.journeyId),
    version: Number(item.version),
    executionName: String(item.executionName),
    ...(typeof item.from === 'string' && { from: item.from }),
    to: String(item.to),
    outcome: String(item.outcome),
    ...(typeof item.arm === 'string' && { arm: item.arm }),
    at: Date.parse(String(item.at)),
  };
}
