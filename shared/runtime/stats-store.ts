import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sendRetryingConflicts } from '../store/dynamodb.js';
import { journeysTable, tableName } from '../store/tables.js';
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

/** The counter update as request parameters (a random shard each time); undefined when there is none. */
export function statsWrite(table: string, shard: () => number) {
  return (journeyId: string, deltas: StatDelta[]) => {
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
      Key: { pk: `STATS#${journeyId}`, sk: `SHARD#${shard()}` },
      UpdateExpression: `ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  };
}

export function dynamoStatsStore(
  client: DynamoDBDocumentClient,
  options: { tableName?: string; shard?: () => number } = {},
): StatsStore {
  const journeys = options.tableName ?? tableName(journeysTable);
  const addStats = statsWrite(journeys, options.shard ?? (() => Math.floor(Math.random() * statShards)));
  return {
    async addStats(journeyId, deltas) {
      if (deltas.length === 0) return;
      // Built again on a retry: another random shard.
      await sendRetryingConflicts(client, () => new UpdateCommand(addStats(journeyId, deltas)!));
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
  };
}
