import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { analyticsItems } from '../analytics/store.js';
import { retrying } from '../retry.js';
import {
  cancellationReasons,
  conflictBackoff,
  queryAll,
  sendItemRetryingConflicts,
  sendRetryingConflicts,
  type TransactItem,
} from '../store/dynamodb.js';
import { journeysTable } from '../store/tables.js';
import type { StatDelta } from './types.js';

/**
 * Journey counters in the Journeys table: `STATS#<journeyId>` / `SHARD#<n>`, one attribute per
 * counter (`node|<nodeId>|<counter>`, `journey|<counter>`), summed over the shards when read.
 */

/** Per-node and per-journey counters, sharded over items so no partition key runs hot. */
export interface StatsStore {
  addStats(journeyId: string, deltas: StatDelta[]): Promise<void>;
  readStats(journeyId: string): Promise<Record<string, number>>;
}

export const statShards = 10;

/** Attribute name of one counter in a stats shard item. */
export function statAttribute(delta: StatDelta): string {
  return delta.nodeId === undefined ? `journey|${delta.counter}` : `node|${delta.nodeId}|${delta.counter}`;
}

/** Counter deltas as attribute → amount, duplicates summed (the day's analytics counters). */
export function deltaCounters(deltas: StatDelta[]): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const delta of deltas) {
    const attribute = statAttribute(delta);
    counters[attribute] = (counters[attribute] ?? 0) + (delta.by ?? 1);
  }
  return counters;
}

/** The counter update as request parameters (a random shard unless given); undefined when there is none. */
export function statsWrite(table: string, shard: () => number) {
  return (journeyId: string, deltas: StatDelta[], shardIndex = shard()) => {
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
      TableName: table,
      Key: { pk: `STATS#${journeyId}`, sk: `SHARD#${shardIndex}` },
      UpdateExpression: `ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  };
}

export function dynamoStatsStore(
  client: DynamoDBDocumentClient,
  options: {
    tableName?: string;
    shard?: () => number;
    /**
     * Also add the counters to the day's analytics item (shared/analytics), same shard number: in one
     * TransactWriteItems (`transaction`) or one UpdateItem each (`separate`). Default: stats only.
     */
    dayCounters?: { writes: 'transaction' | 'separate'; now: () => number };
  } = {},
): StatsStore {
  const journeys = options.tableName ?? journeysTable.defaultName;
  const shard = options.shard ?? (() => Math.floor(Math.random() * statShards));
  const addStats = statsWrite(journeys, shard);
  const day = options.dayCounters;
  return {
    async addStats(journeyId, deltas) {
      if (deltas.length === 0) return;
      if (!day) {
        // Built again on a retry: another random shard.
        await sendRetryingConflicts(client, () => new UpdateCommand(addStats(journeyId, deltas)!));
        return;
      }
      const build = () => {
        const shardIndex = shard();
        return [
          { Update: addStats(journeyId, deltas, shardIndex)! },
          ...analyticsItems(journeyId, day.now(), deltaCounters(deltas), undefined, journeys, shardIndex),
        ];
      };
      const separately = async (items: ReturnType<typeof build>) => {
        await Promise.all(items.map((item) => sendItemRetryingConflicts(client, item)));
      };
      if (day.writes === 'separate') return separately(build());
      await transactRetryingConflicts(client, build, separately);
    },

    async readStats(journeyId) {
      const totals: Record<string, number> = {};
      const items = await queryAll(client, {
        TableName: journeys,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `STATS#${journeyId}` },
      });
      for (const item of items) {
        for (const [attribute, value] of Object.entries(item)) {
          if (typeof value === 'number') totals[attribute] = (totals[attribute] ?? 0) + value;
        }
      }
      return totals;
    },
  };
}

/**
 * Unconditional items in one TransactWriteItems, built again (other random shards) when it met
 * another transaction on the same item, up to 6 attempts; then `separately`.
 */
export async function transactRetryingConflicts<I extends TransactItem>(
  client: DynamoDBDocumentClient,
  build: () => I[],
  separately: (items: I[]) => Promise<void>,
): Promise<void> {
  const conflict = (error: unknown) =>
    (error as { name?: string }).name === 'TransactionConflictException' ||
    (cancellationReasons(error)?.every((code) => code === 'None' || code === 'TransactionConflict') ?? false);
  let items: I[] = [];
  try {
    await retrying(
      async () => {
        items = build();
        await client.send(new TransactWriteCommand({ TransactItems: items }));
      },
      { attempts: 6, retryable: conflict, backoff: conflictBackoff },
    );
  } catch (error) {
    if (!conflict(error)) throw error;
    await separately(items);
  }
}
