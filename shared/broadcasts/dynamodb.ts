import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { cancellationReasons } from '../store/dynamodb.js';
import {
  type BroadcastRecord,
  type BroadcastStore,
  emptyRun,
  type RunRecord,
  type SlotOutcome,
} from './store.js';

/**
 * Broadcasts in the Journeys table. `BROADCAST#<id>`: the plan (`PLAN`), one item per run
 * (`RUN#<runKey>`, counters updated with ADD), one marker per counted slot (`SLOT#<runKey>#<slotId>`,
 * expiring after 30 days). `JOURNEY_BROADCASTS#<journeyId>`: the journey's broadcasts by creation time.
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
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: pk(record.broadcastId), sk: 'PLAN', record },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
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
    return out.Item?.record as BroadcastRecord | undefined;
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

  async update(broadcastId: string, patch: Partial<BroadcastRecord>): Promise<void> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(broadcastId), sk: 'PLAN' },
        UpdateExpression: `SET ${entries.map((_, i) => `#record.#f${i} = :v${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          '#record': 'record',
          ...Object.fromEntries(entries.map(([key], i) => [`#f${i}`, key])),
        },
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
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
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: pk(broadcastId),
                  sk: `SLOT#${runKey}#${slotId}`,
                  expiresAt: Math.floor(Date.now() / 1000) + 30 * 86_400,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
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
