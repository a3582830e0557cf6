/**
 * Exact lifecycle counts, written in the same transaction as the profile whose stage they count:
 *   now    pk LC#<shard>  sk NOW           attribute per stage: profiles in it now
 *   flows  pk LC#<shard>  sk D#<YYYY-MM-DD> attribute `<from>><to>` per change that day (`+` = a new profile)
 * Eight shards by profile id keep any one partition far below 1,000 writes/s; `GET /lifecycle`
 * reads them with one Query per shard. Costs one extra item in the write of an event that creates a
 * profile, changes its stage or merges profiles; none otherwise.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CounterIncrement } from '../profiles/store.js';
import { queryAll } from '../store/dynamodb.js';

export const lifecycleShards = 8;
export const newProfileFlow = '+';

function shardOf(profileId: string): number {
  let hash = 0;
  for (let i = 0; i < profileId.length; i++) hash = (hash * 31 + profileId.charCodeAt(i)) | 0;
  return Math.abs(hash) % lifecycleShards;
}

/**
 * The counter increments of one write: `before` the stage read (undefined for a new profile),
 * `after` the stage written, `mergedStages` the stages of profiles merged away by it.
 */
export function lifecycleCounters(input: {
  profileId: string;
  before: string | undefined;
  after: string;
  mergedStages: (string | undefined)[];
  now: number;
}): CounterIncrement[] {
  const { profileId, before, after } = input;
  const now: Record<string, number> = {};
  const flows: Record<string, number> = {};
  const add = (target: Record<string, number>, key: string, by: number) => {
    target[key] = (target[key] ?? 0) + by;
  };
  if (before !== after) {
    if (before !== undefined) add(now, before, -1);
    add(now, after, 1);
    add(flows, `${before ?? newProfileFlow}>${after}`, 1);
  }
  for (const stage of input.mergedStages) if (stage !== undefined) add(now, stage, -1);
  for (const [key, by] of Object.entries(now)) if (by === 0) delete now[key];
  const pk = `LC#${shardOf(profileId)}`;
  const counters: CounterIncrement[] = [];
  if (Object.keys(now).length > 0) counters.push({ pk, sk: 'NOW', add: now });
  if (Object.keys(flows).length > 0)
    counters.push({ pk, sk: `D#${new Date(input.now).toISOString().slice(0, 10)}`, add: flows });
  return counters;
}

/**
 * What an erased profile takes off the counts: its stage now (erasure deletes the profile item with
 * these in one transaction). A profile merged away was taken off at the merge; the flows of past
 * days are totals without ids and stay.
 */
export function lifecycleRemoval(profile: {
  profileId: string;
  stage?: string;
  mergedInto?: string;
}): CounterIncrement[] {
  if (profile.mergedInto !== undefined || profile.stage === undefined) return [];
  return [{ pk: `LC#${shardOf(profile.profileId)}`, sk: 'NOW', add: { [profile.stage]: -1 } }];
}

export interface LifecycleReport {
  /** Profiles per stage now. */
  now: Record<string, number>;
  /** Newest first: changes between stages that day (`from>to`; `+>new` = new profiles), and the counts at the day's end. */
  days: { date: string; flows: Record<string, number>; counts: Record<string, number> }[];
}

/** Sums the shards and rebuilds each day's end counts backwards from now. */
export function lifecycleReport(
  items: { sk: string; values: Record<string, number> }[],
  options: { days: number; today: string },
): LifecycleReport {
  const now: Record<string, number> = {};
  const byDay = new Map<string, Record<string, number>>();
  for (const { sk, values } of items) {
    if (sk === 'NOW') for (const [stage, n] of Object.entries(values)) now[stage] = (now[stage] ?? 0) + n;
    else if (sk.startsWith('D#')) {
      const flows = byDay.get(sk.slice(2)) ?? {};
      for (const [flow, n] of Object.entries(values)) flows[flow] = (flows[flow] ?? 0) + n;
      byDay.set(sk.slice(2), flows);
    }
  }
  const days: LifecycleReport['days'] = [];
  let counts = { ...now };
  const day = Date.parse(`${options.today}T00:00:00.000Z`);
  for (let i = 0; i < options.days; i++) {
    const date = new Date(day - i * 86_400_000).toISOString().slice(0, 10);
    const flows = byDay.get(date) ?? {};
    days.push({ date, flows, counts: { ...counts } });
    // The day before ended with this day's flows undone.
    const previous = { ...counts };
    for (const [flow, n] of Object.entries(flows)) {
      const [from, to] = flow.split('>') as [string, string];
      previous[to] = (previous[to] ?? 0) - n;
      if (from !== newProfileFlow) previous[from] = (previous[from] ?? 0) + n;
    }
    counts = previous;
  }
  return { now, days };
}

/** Reads the counter items (one Query per shard). */
export async function readLifecycleCounters(
  client: DynamoDBDocumentClient,
  table: string,
): Promise<{ sk: string; values: Record<string, number> }[]> {
  const shards = await Promise.all(
    Array.from({ length: lifecycleShards }, async (_, shard) => {
      const items = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `LC#${shard}` },
      });
      return items.map(({ pk: _pk, sk, ...values }) => ({
        sk: String(sk),
        values: values as Record<string, number>,
      }));
    }),
  );
  return shards.flat();
}
