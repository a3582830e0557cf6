import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { hashWriteKey, type WriteKeyStore } from '../http/auth.js';

/**
 * Write keys stored hashed in the Journeys table (cloud): item `pk K#<sha256 hex>`, `sk WRITE_KEY`,
 * `{ source, createdAt, revoked? }`. The plaintext key is shown once, when created, and never stored.
 */
const keyOf = (hash: string) => ({ pk: `K#${hash}`, sk: 'WRITE_KEY' });

export class DynamoWriteKeyStore implements WriteKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findByHash(hash: string): Promise<{ source: string } | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keyOf(hash) }));
    const item = out.Item;
    if (!item || item.revoked || typeof item.source !== 'string') return undefined;
    return { source: item.source };
  }

  /** Creates a key for a source (the EventBridge `Source` its events carry); returns the plaintext once. */
  async create(source: string, clock: Clock): Promise<{ writeKey: string; source: string }> {
    const writeKey = randomBytes(24).toString('base64url');
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keyOf(hashWriteKey(writeKey)), source, createdAt: isoAt(clock) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { writeKey, source };
  }
}
