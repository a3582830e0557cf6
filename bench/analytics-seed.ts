/**
 * Seeding for the analytics bench (bench/analytics-executions.ts, `BENCH_REPORT_SEED=1`): the
 * runtime's own entry, step and stop code runs in process against a DynamoDB document client that
 * CAPTURES its writes instead of sending them one request at a time. So the seeded items are,
 * byte for byte, the items the runtime builds (shared/runtime/store.ts `writeStep`, stats-store.ts
 * `addStats`, shared/analytics/store.ts `analyticsItems`): nothing here knows an item's shape.
 *
 * What the capture does with a write (as DynamoDB would apply it):
 *   Put / Delete     keep / drop the item by (table, pk, sk); written at `flush` with BatchWriteItem
 *                    (25 a request, several requests in parallel)
 *   Update, ADDs only  counters (stats shards, analytics day items): summed per item over every
 *                    execution, written at `flushCounters` as ONE UpdateItem ADD per item (≈1,400
 *                    for 100 days), added to what real executions wrote there
 *   other Update     (the entry record, the presence upsert) applied to the captured item: `SET a = :v`,
 *                    `SET #a = if_not_exists(#a, :v)`, `ADD a :v`, `REMOVE a`; written with the items
 *   ConditionCheck   ignored (a seeded profile is never erased)
 * A condition other than one a fresh profile's item meets (`attribute_not_exists(pk) …` on an item
 * the capture does not hold) throws, as does any other expression: the capture would no longer be
 * what DynamoDB holds.
 *
 * Reads go to the real table, except the one read of an execution's own writes, the trail Query
 * of its timeline entries (AnalyticsReader.executionEntries), answered from the captured items.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AnalyticsReader } from '../shared/analytics/store.js';
import type { TrailEntry } from '../shared/analytics/trail.js';
import { batchWriteAll } from '../shared/store/dynamodb.js';
import { pool } from './support/stats.js';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

interface UpdateInput {
  TableName?: string;
  Key?: Record<string, unknown>;
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

const sep = '\u0000';
const keyOf = (table: string, key: Record<string, unknown> | undefined) => {
  const { pk, sk } = (key ?? {}) as Partial<Key>;
  if (typeof pk !== 'string' || typeof sk !== 'string')
    throw new Error(`seed: item without pk/sk in ${table}`);
  return `${table}${sep}${pk}${sep}${sk}`;
};

/** The ADD pairs of a counter update (attribute → amount); throws on anything but `ADD #a :v, …`. */
export function counterAdds(update: UpdateInput): Record<string, number> {
  const match = /^ADD (.+)$/.exec(update.UpdateExpression ?? '');
  if (!match || update.ConditionExpression) {
    throw new Error(`seed: only unconditional ADD updates can be summed, not ${update.UpdateExpression}`);
  }
  const adds: Record<string, number> = {};
  for (const pair of match[1]!.split(/,\s*/)) {
    const [name, value] = pair.trim().split(/\s+/);
    const attribute = name && update.ExpressionAttributeNames?.[name];
    const by = value && update.ExpressionAttributeValues?.[value];
    if (!attribute || typeof by !== 'number') throw new Error(`seed: cannot read ADD pair "${pair}"`);
    adds[attribute] = (adds[attribute] ?? 0) + by;
  }
  return adds;
}

/** An item after an update expression of SET (values, if_not_exists), ADD and REMOVE clauses. */
export function applyUpdate(before: Item, update: UpdateInput): Item {
  const item = { ...before };
  const name = (token: string) =>
    token.startsWith('#') ? (update.ExpressionAttributeNames?.[token] ?? fail(token)) : token;
  const value = (token: string) =>
    token in (update.ExpressionAttributeValues ?? {})
      ? update.ExpressionAttributeValues![token]
      : fail(token);
  const fail = (token: string): never => {
    throw new Error(`seed: cannot read "${token}" in ${update.UpdateExpression}`);
  };
  const clauses = (update.UpdateExpression ?? '').split(/\b(?=SET |ADD |REMOVE )/);
  for (const clause of clauses) {
    const [keyword, ...rest] = clause.trim().split(' ');
    // Commas inside if_not_exists(…) do not separate actions.
    for (const action of rest
      .join(' ')
      .split(/,(?![^(]*\))/)
      .map((a) => a.trim())
      .filter(Boolean)) {
      if (keyword === 'SET') {
        const set = /^(\S+) = (?:if_not_exists\((\S+), (\S+)\)|(\S+))$/.exec(action) ?? fail(action);
        const attribute = name(set[1]!);
        if (set[2] !== undefined) {
          if (name(set[2]) !== attribute) fail(action);
          if (!(attribute in item)) item[attribute] = value(set[3]!);
        } else item[attribute] = value(set[4]!);
      } else if (keyword === 'ADD') {
        const [n, v] = action.split(/\s+/);
        const by = value(v ?? fail(action));
        if (typeof by !== 'number') fail(action);
        const attribute = name(n!);
        item[attribute] = Number(item[attribute] ?? 0) + (by as number);
      } else if (keyword === 'REMOVE') delete item[name(action)];
      else fail(clause);
    }
  }
  return item;
}

export interface Capture {
  /** Give this to createRuntime({ documentClient }): writes are captured, reads go to `real`. */
  client: DynamoDBDocumentClient;
  /** The trail Query, answered from the captured timeline entries. */
  reader: Pick<AnalyticsReader, 'executionEntries'>;
  /** Items as DynamoDB would hold them now (Puts minus Deletes), not yet written. */
  items(): IterableIterator<[string, Item]>;
  /** Summed counter ADDs per item: `table\0pk\0sk` → attribute → amount. */
  counters: Map<string, Record<string, number>>;
  /** Write the captured items with BatchWriteItem (`concurrency` requests at once) and forget them. */
  flush(concurrency: number): Promise<number>;
  /** Write the summed counters, one UpdateItem ADD per item, and forget them. */
  flushCounters(concurrency: number): Promise<number>;
  /** Reads sent on to the real table, by command. */
  reads: Record<string, number>;
  /** Write requests the runtime made (captured, not sent), by command. */
  writes: Record<string, number>;
}

export function capture(real: DynamoDBDocumentClient, profilesTable: string): Capture {
  const items = new Map<string, { table: string; item: Item }>();
  const counters = new Map<string, Record<string, number>>();
  /** Timeline entries (profiles table, sk JT#…) by profile pk, for the trail Query. */
  const timelines = new Map<string, Item[]>();
  const reads: Record<string, number> = {};
  const writes: Record<string, number> = {};

  const put = (table: string, item: Item) => {
    items.set(keyOf(table, item), { table, item });
    if (table === profilesTable && String(item.sk).startsWith('JT#')) {
      const pk = String(item.pk);
      timelines.set(pk, [...(timelines.get(pk) ?? []), item]);
    }
  };
  const remove = (table: string, key: Record<string, unknown> | undefined) => {
    const k = keyOf(table, key);
    items.delete(k);
    if (table === profilesTable && String(key?.sk).startsWith('JT#')) {
      const pk = String(key?.pk);
      timelines.set(
        pk,
        (timelines.get(pk) ?? []).filter((item) => item.sk !== key?.sk),
      );
    }
  };
  const add = (update: UpdateInput) => {
    const table = update.TableName ?? '';
    const k = keyOf(table, update.Key);
    if (!/^ADD [^=]+$/.test(update.UpdateExpression ?? '') || update.ConditionExpression) {
      const held = items.get(k);
      if (
        update.ConditionExpression &&
        (held || !update.ConditionExpression.startsWith('attribute_not_exists(pk)'))
      )
        throw new Error(`seed: condition ${update.ConditionExpression} on ${k.replaceAll(sep, ' ')}`);
      put(table, applyUpdate(held?.item ?? { ...update.Key }, update));
      return;
    }
    const sums = counters.get(k) ?? {};
    for (const [attribute, by] of Object.entries(counterAdds(update)))
      sums[attribute] = (sums[attribute] ?? 0) + by;
    counters.set(k, sums);
  };
  const noCondition = (input: { ConditionExpression?: string }, what: string) => {
    // A create-only Put of a fresh execution's item cannot fail; other conditions could.
    if (input.ConditionExpression && input.ConditionExpression !== 'attribute_not_exists(pk)')
      throw new Error(`seed: conditional ${what} (${input.ConditionExpression}) is not supported`);
  };

  const send = async (command: unknown): Promise<unknown> => {
    const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    const count = (into: Record<string, number>) => {
      into[name] = (into[name] ?? 0) + 1;
    };
    if (!/^(Get|Query|Scan|BatchGet|TransactGet)$/.test(name)) count(writes);
    if (command instanceof TransactWriteCommand) {
      for (const part of command.input.TransactItems ?? []) {
        if (part.Put) {
          noCondition(part.Put, 'Put');
          put(part.Put.TableName ?? '', part.Put.Item as Item);
        } else if (part.Delete) {
          noCondition(part.Delete, 'Delete');
          remove(part.Delete.TableName ?? '', part.Delete.Key);
        } else if (part.Update) add(part.Update as UpdateInput);
        // ConditionCheck: the not-erased check of a profile that is never erased.
      }
      return {};
    }
    if (command instanceof UpdateCommand) {
      add(command.input as UpdateInput);
      return {};
    }
    if (command instanceof PutCommand) {
      noCondition(command.input, 'Put');
      put(command.input.TableName ?? '', command.input.Item as Item);
      return {};
    }
    if (command instanceof DeleteCommand) {
      noCondition(command.input, 'Delete');
      remove(command.input.TableName ?? '', command.input.Key);
      return {};
    }
    if (command instanceof BatchWriteCommand)
      throw new Error('seed: BatchWriteItem by the runtime is not captured');
    count(reads);
    return real.send(command as never);
  };

  return {
    client: { send } as unknown as DynamoDBDocumentClient,
    reads,
    writes,
    counters,
    reader: {
      // As dynamoAnalyticsReader's: pk P#<profile>, sk BETWEEN JT#<since> AND JT#~, this execution's.
      async executionEntries(profileId, executionName, since) {
        return (timelines.get(`P#${profileId}`) ?? [])
          .filter((item) => String(item.sk) >= `JT#${since}` && item.executionName === executionName)
          .map((item) => ({
            nodeId: item.nodeId,
            ...(item.nodeType !== undefined && { nodeType: item.nodeType }),
            outcome: item.outcome,
            at: item.at,
          })) as unknown as TrailEntry[];
      },
    },
    items: function* () {
      for (const [k, { item }] of items) yield [k, item];
    },
    async flush(concurrency) {
      const byTable = new Map<string, Item[]>();
      for (const { table, item } of items.values()) {
        byTable.set(table, [...(byTable.get(table) ?? []), { PutRequest: { Item: item } }]);
      }
      const batches: { table: string; requests: Item[] }[] = [];
      for (const [table, requests] of byTable) {
        for (let i = 0; i < requests.length; i += 25)
          batches.push({ table, requests: requests.slice(i, i + 25) });
      }
      await pool(batches.length, concurrency, (i) =>
        batchWriteAll(real, batches[i]!.table, batches[i]!.requests),
      );
      const written = items.size;
      items.clear();
      timelines.clear();
      return written;
    },
    async flushCounters(concurrency) {
      const all = [...counters];
      await pool(all.length, concurrency, async (i) => {
        const [k, sums] = all[i]!;
        const [table, pk, sk] = k.split(sep) as [string, string, string];
        const entries = Object.entries(sums).filter(([, by]) => by !== 0);
        if (entries.length === 0) return;
        await real.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk, sk },
            UpdateExpression: `ADD ${entries.map((_, j) => `#a${j} :v${j}`).join(', ')}`,
            ExpressionAttributeNames: Object.fromEntries(
              entries.map(([attribute], j) => [`#a${j}`, attribute]),
            ),
            ExpressionAttributeValues: Object.fromEntries(entries.map(([, by], j) => [`:v${j}`, by])),
          }),
        );
      });
      counters.clear();
      return all.length;
    },
  };
}
