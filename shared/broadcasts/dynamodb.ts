import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { cancellationReasons, createOnly, isConditionFailure } from '../store/dynamodb.js';
import {
  type BroadcastRecord,
  type BroadcastStore,
  emptyRun,
  type PendingFiring,
  type RunRecord,
  type SlotOutcome,
} from './store.js';

/**
 * Broadcasts in the Journeys table. `BROADCAST#<id>`: the plan (`PLAN`: the record, and the pending
 * firings as a map by run and zone, each added and removed on its own), one item per run
 * (`RUN#<runKey>`, counters updated with ADD), one marker per counted slot (`SLOT#<runKey>#<slotId>`,
 * expiring after 30 days), the entry timeline (`TIMELINE`: the first second no slot holds yet).
 * `JOURNEY_BROADCASTS#<journeyId>`: the journey's broadcasts by creation time.
 */
export class BroadcastDynamoStore implements BroadcastStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: BroadcastRecord): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          createOnly(this.tableName, {
            pk: pk(record.broadcastId),
            sk: 'PLAN',
            record: { ...record, pending: [] },
            firings: firingMap(record.pending),
          }),
          {
            Put: {
              TableName: this.tableName,
              Item: {
                pk: `JOURNEY_BROADCASTS#${record.journeyId}`,
                sk: `${record.createdAt}#${record.broadcastId}`,
                broadcastId: record.broadcastId,
              },
            },
          },
        ],
      }),
    );
  }

  async get(broadcastId: string): Promise<BroadcastRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pk(broadcastId), sk: 'PLAN' },
        ConsistentRead: true,
      }),
    );
    if (!out.Item?.record) return undefined;
    const firings = Object.values((out.Item.firings ?? {}) as Record<string, PendingFiring>);
    return {
      ...(out.Item.record as BroadcastRecord),
      pending: firings.sort((a, b) => (a.at < b.at ? -1 : 1)),
    };
  }

  async listByJourney(journeyId: string): Promise<BroadcastRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `JOURNEY_BROADCASTS#${journeyId}` },
        ScanIndexForward: false,
        Limit: 100,
      }),
    );
    const found = await Promise.all((out.Items ?? []).map((item) => this.get(String(item.broadcastId))));
    return found.filter((b): b is BroadcastRecord => b !== undefined);
  }

  async updatePending(
    broadcastId: string,
    change: { add?: PendingFiring[]; remove?: Pick<PendingFiring, 'runKey' | 'zone'> },
  ): Promise<void> {
    const add = Object.entries(firingMap(change.add ?? []));
    const remove = change.remove && firingKey(change.remove);
    const sets = add.map((_, i) => `firings.#a${i} = :a${i}`);
    if (sets.length === 0 && !remove) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(broadcastId), sk: 'PLAN' },
        UpdateExpression: [
          ...(sets.length ? [`SET ${sets.join(', ')}`] : []),
          ...(remove ? ['REMOVE firings.#r'] : []),
        ].join(' '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          ...Object.fromEntries(add.map(([key], i) => [`#a${i}`, key])),
          ...(remove && { '#r': remove }),
        },
        ...(add.length > 0 && {
          ExpressionAttributeValues: Object.fromEntries(add.map(([, firing], i) => [`:a${i}`, firing])),
        }),
      }),
    );
  }

  async update(broadcastId: string, patch: Partial<BroadcastRecord>): Promise<void> {
    const { pending, ...rest } = patch;
    const entries: [string, unknown][] = Object.entries(rest).filter(([, v]) => v !== undefined);
    if (entries.length === 0 && !pending) return;
    const sets = entries.map((_, i) => `#record.#f${i} = :v${i}`);
    if (pending) sets.push('firings = :firings');
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(broadcastId), sk: 'PLAN' },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          ...(entries.length > 0 && { '#record': 'record' }),
          ...Object.fromEntries(entries.map(([key], i) => [`#f${i}`, key])),
        },
        ExpressionAttributeValues: {
          ...Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
          ...(pending && { ':firings': firingMap(pending) }),
        },
      }),
    );
  }

  async runs(broadcastId: string): Promise<RunRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
        ExpressionAttributeValues: { ':pk': pk(broadcastId), ':run': 'RUN#' },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((item) => {
      const run = emptyRun(String(item.sk).slice('RUN#'.length));
      for (const key of ['audience', 'entered', 'skipped', 'failed', 'slots', 'slotsDone', 'paging'] as const)
        run[key] = Number(item[key] ?? 0);
      for (const [key, value] of Object.entries(item))
        if (key.startsWith('reason_')) run.reasons[key.slice('reason_'.length)] = Number(value);
      return run;
    });
  }

  async addToRun(
    broadcastId: string,
    runKey: string,
    delta: { audience?: number; slots?: number; paging?: number },
  ) {
    const entries = Object.entries(delta).filter(([, n]) => n !== undefined && n !== 0);
    if (entries.length === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(broadcastId), sk: `RUN#${runKey}` },
        UpdateExpression: `ADD ${entries.map(([key]) => `${key} :${key}`).join(', ')}`,
        ExpressionAttributeValues: Object.fromEntries(entries.map(([key, n]) => [`:${key}`, n])),
      }),
    );
  }

  async reserveSeconds(broadcastId: string, count: number, fromSecond: number): Promise<number> {
    const key = { pk: pk(broadcastId), sk: 'TIMELINE' };
    try {
      // The timeline is behind: the reservation starts now.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET nextSecond = :end',
          ConditionExpression: 'attribute_not_exists(nextSecond) OR nextSecond <= :from',
          ExpressionAttributeValues: { ':from': fromSecond, ':end': fromSecond + count },
        }),
      );
      return fromSecond;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // Ahead of now (another firing holds the next seconds): take the seconds after them. It only
    // grows, so the reservation still starts after fromSecond.
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'ADD nextSecond :count',
        ExpressionAttributeValues: { ':count': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.nextSecond) - count;
  }

  async applySlot(
    broadcastId: string,
    runKey: string,
    slotId: string,
    outcome: SlotOutcome,
  ): Promise<boolean> {
    const counters: Record<string, number> = {
      entered: outcome.entered,
      skipped: outcome.skipped,
      failed: outcome.failed,
      slotsDone: 1,
      ...Object.fromEntries(
        Object.entries(outcome.reasons).map(([reason, n]) => [
          `reason_${reason.replace(/[^A-Za-z0-9_]/g, '_')}`,
          n,
        ]),
      ),
    };
    const names = Object.keys(counters);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            createOnly(this.tableName, {
              pk: pk(broadcastId),
              sk: `SLOT#${runKey}#${slotId}`,
              expiresAt: Math.floor(Date.now() / 1000) + 30 * 86_400,
            }),
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: pk(broadcastId), sk: `RUN#${runKey}` },
                UpdateExpression: `ADD ${names.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
                ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#c${i}`, name])),
                ExpressionAttributeValues: Object.fromEntries(
                  names.map((name, i) => [`:c${i}`, counters[name]]),
                ),
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }
}

const pk = (broadcastId: string) => `BROADCAST#${broadcastId}`;
const firingKey = (f: Pick<PendingFiring, 'runKey' | 'zone'>) => `${f.runKey} ${f.zone}`;
const firingMap = (firings: PendingFiring[]) => Object.fromEntries(firings.map((f) => [firingKey(f), f]));
