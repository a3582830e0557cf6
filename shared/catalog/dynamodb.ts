import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../errors.js';
import { createOnly, queryAll, sendRetryingConflicts } from '../store/dynamodb.js';
import type {
  CatalogStore,
  JourneyRecord,
  JourneyVersionRecord,
  JourneyVersionSummary,
  TemplateRecord,
} from './types.js';

/**
 * The catalog in the Journeys table (layouts in README.md):
 *   journey head   pk JOURNEYS   sk J#<id>                  one Query lists them all
 *   version        pk J#<id>     sk V#<version, 6 digits>   immutable
 *   template       pk TEMPLATES  sk T#<id>
 *   change stamp   pk JOURNEYS   sk STAMP                   `revision`: +1 after a publish or status change
 */
export const journeysPartition = 'JOURNEYS';
export const templatesPartition = 'TEMPLATES';

const headKey = (id: string) => ({ pk: journeysPartition, sk: `J#${id}` });
const versionKey = (id: string, version: number) => ({
  pk: `J#${id}`,
  sk: `V#${String(version).padStart(6, '0')}`,
});
const templateKey = (id: string) => ({ pk: templatesPartition, sk: `T#${id}` });
const stampKey = { pk: journeysPartition, sk: 'STAMP' };

function strip<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

/*
 * Definitions are stored as JSON text: it keeps the author's key order (DynamoDB maps are unordered),
 * is smaller than nested maps, and is not subject to the 32-level nesting limit.
 */
function headItem(record: JourneyRecord) {
  const { draft, published, ...rest } = record;
  return {
    ...headKey(record.id),
    ...rest,
    draft: JSON.stringify(draft),
    ...(published && { published: { ...published, definition: JSON.stringify(published.definition) } }),
  };
}

function headFromItem(item: Record<string, unknown> | undefined): JourneyRecord | undefined {
  const head = strip<JourneyRecord & { draft: string; published?: { definition: string } }>(item);
  if (!head) return undefined;
  return {
    ...head,
    draft: JSON.parse(head.draft),
    ...(head.published && {
      published: { ...head.published, definition: JSON.parse(head.published.definition) },
    }),
  } as JourneyRecord;
}

/*
 * The compiled ASL is stored gzip-compressed (binary): it is several times larger than the journey
 * (up to ~3 KB per node) and compresses about tenfold, which keeps the largest journeys far below
 * DynamoDB's 400 KB item limit.
 */
function versionItem(version: JourneyVersionRecord) {
  const { asl, definition, ...rest } = version;
  return {
    ...versionKey(version.journeyId, version.version),
    ...rest,
    definition: JSON.stringify(definition),
    aslGzip: gzipSync(asl),
  };
}

function versionFromItem(item: Record<string, unknown> | undefined): JourneyVersionRecord | undefined {
  const stored = strip<Omit<JourneyVersionRecord, 'asl'> & { definition: string; aslGzip: Uint8Array }>(item);
  if (!stored) return undefined;
  const { aslGzip, definition, ...rest } = stored;
  return { ...rest, definition: JSON.parse(definition), asl: gunzipSync(aslGzip).toString('utf8') };
}

function isConditionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ConditionalCheckFailedException') return true;
  if (error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
}

function revisionCondition(expectedRevision: number | undefined) {
  return expectedRevision === undefined
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: 'revision = :expected',
        ExpressionAttributeValues: { ':expected': expectedRevision },
      };
}

export class DynamoCatalogStore implements CatalogStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getJourney(id: string): Promise<JourneyRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: headKey(id) }));
    return headFromItem(out.Item);
  }

  listJourneys(): Promise<JourneyRecord[]> {
    return this.queryAll(journeysPartition, 'J#', headFromItem);
  }

  async saveJourney(
    record: JourneyRecord,
    expectedRevision: number | undefined,
    options: { statusChanged?: boolean } = {},
  ): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: headItem(record),
          ...revisionCondition(expectedRevision),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          `journey ${record.id} was changed by another request; read it again and retry`,
        );
      }
      throw error;
    }
    if (options.statusChanged) await this.bumpStamp();
  }

  async savePublished(
    head: JourneyRecord,
    expectedRevision: number | undefined,
    version: JourneyVersionRecord,
  ): Promise<void> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            createOnly(this.tableName, versionItem(version)),
            {
              Put: {
                TableName: this.tableName,
                Item: headItem(head),
                ...revisionCondition(expectedRevision),
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`journey ${head.id} was published or changed concurrently; retry`);
      }
      throw error;
    }
    await this.bumpStamp();
  }

  async catalogStamp(): Promise<number> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: stampKey,
        ConsistentRead: true,
        ProjectionExpression: 'revision',
      }),
    );
    return Number(out.Item?.revision ?? 0);
  }

  /**
   * After the head write, not in its transaction: writes of different journeys do not contend on the
   * stamp. Should this fail after the head was written, readers still reload within their maximum age.
   */
  private async bumpStamp(): Promise<void> {
    await sendRetryingConflicts(
      this.client,
      () =>
        new UpdateCommand({
          TableName: this.tableName,
          Key: stampKey,
          UpdateExpression: 'ADD revision :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
    );
  }

  async getVersion(journeyId: string, version: number): Promise<JourneyVersionRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: versionKey(journeyId, version) }),
    );
    return versionFromItem(out.Item);
  }

  listVersions(journeyId: string): Promise<JourneyVersionSummary[]> {
    return this.queryAll(`J#${journeyId}`, 'V#', (item) => strip<JourneyVersionSummary>(item), false, {
      ProjectionExpression: 'journeyId, version, versionArn, stateMachineArn, publishedAt',
    });
  }

  async getTemplate(id: string): Promise<TemplateRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: templateKey(id) }));
    return strip<TemplateRecord>(out.Item);
  }

  listTemplates(): Promise<TemplateRecord[]> {
    return this.queryAll(templatesPartition, 'T#', (item) => strip<TemplateRecord>(item));
  }

  async saveTemplate(record: TemplateRecord): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...templateKey(record.id), ...record } }),
    );
  }

  private async queryAll<T>(
    pk: string,
    prefix: string,
    read: (item: Record<string, unknown>) => T | undefined,
    forward = true,
    extra: { ProjectionExpression?: string } = {},
  ): Promise<T[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      ScanIndexForward: forward,
      ...extra,
    });
    return items.map((item) => read(item)!);
  }
}
