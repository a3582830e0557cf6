import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { type Issue, ValidationError } from '../errors.js';

/**
 * Events that can never be ingested as sent (invalid, too large, not JSON). They are not retried:
 * they are kept here with the reason and the failing field paths, so nothing is dropped silently.
 * Journeys table: `pk = DLQ#<yyyy-mm-dd>` (day received, UTC), `sk = <receivedAt>#<id>`, TTL `expiresAt`.
 */
export interface DeadLetter {
  id: string;
  receivedAt: string;
  /** Error code: `validation_failed`, `payload_too_large`, `malformed_json`. */
  code: string;
  /** Human-readable reason (field paths and what is wrong; never the values). */
  reason: string;
  issues: Issue[];
  /** Where it came from, e.g. `sqs:<queue record id>`. */
  source: string;
  /** The raw body, cut at `maxStoredBodyBytes`; `bodyBytes` is its full size. */
  body: string;
  bodyBytes: number;
}

export interface DeadLetterStore {
  put(letter: DeadLetter): Promise<void>;
  list(query: {
    date: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: DeadLetter[]; nextCursor?: string }>;
}

export const maxStoredBodyBytes = 64 * 1024;

export interface DynamoDeadLetterStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  /** Default 30 days. */
  retentionDays?: number;
}

export class DynamoDeadLetterStore implements DeadLetterStore {
  constructor(private readonly options: DynamoDeadLetterStoreOptions) {}

  async put(letter: DeadLetter): Promise<void> {
    const expiresAt =
      Math.floor(this.options.clock.now() / 1000) + (this.options.retentionDays ?? 30) * 86_400;
    await this.options.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          pk: `DLQ#${letter.receivedAt.slice(0, 10)}`,
          sk: `${letter.receivedAt}#${letter.id}`,
          ...letter,
          issues: JSON.stringify(letter.issues),
          expiresAt,
        },
      }),
    );
  }

  async list(query: { date: string; limit?: number; cursor?: string }) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.date)) {
      throw new ValidationError([{ path: ['date'], message: 'date must be YYYY-MM-DD' }]);
    }
    const now = Math.floor(this.options.clock.now() / 1000);
    const out = await this.options.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `DLQ#${query.date}` },
        Limit: query.limit ?? 100,
        ExclusiveStartKey:
          query.cursor === undefined ? undefined : { pk: `DLQ#${query.date}`, sk: decode(query.cursor) },
      }),
    );
    const items = (out.Items ?? [])
      .filter((item) => typeof item.expiresAt !== 'number' || item.expiresAt > now)
      .map(
        (item): DeadLetter => ({
          id: String(item.id),
          receivedAt: String(item.receivedAt),
          code: String(item.code),
          reason: String(item.reason),
          issues: JSON.parse(String(item.issues ?? '[]')) as Issue[],
          source: String(item.source),
          body: String(item.body),
          bodyBytes: Number(item.bodyBytes),
        }),
      );
    const last = out.LastEvaluatedKey?.sk;
    return {
      items,
      ...(typeof last === 'string' ? { nextCursor: Buffer.from(last).toString('base64url') } : {}),
    };
  }
}

/** Dead letters received on a day (UTC, `YYYY-MM-DD`), oldest first. */
export function listDeadLetters(
  store: DeadLetterStore,
  query: { date: string; limit?: number; cursor?: string },
): Promise<{ items: DeadLetter[]; nextCursor?: string }> {
  return store.list(query);
}

function decode(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** The body as stored: at most `maxStoredBodyBytes` bytes of it. */
export function storedBody(body: string): { body: string; bodyBytes: number } {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes <= maxStoredBodyBytes) return { body, bodyBytes: bytes };
  return {
    body: Buffer.from(body, 'utf8').subarray(0, maxStoredBodyBytes).toString('utf8'),
    bodyBytes: bytes,
  };
}
