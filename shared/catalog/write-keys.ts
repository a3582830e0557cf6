import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { NotFoundError, ValidationError } from '../errors.js';
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

  /**
   * Creates a key for a source (the EventBridge `Source` its events carry). Returns the plaintext
   * once, and `keyId` (its sha-256, not a secret) to revoke it with.
   */
  async create(source: string, clock: Clock): Promise<{ writeKey: string; keyId: string; source: string }> {
    assertSource(source);
    const writeKey = randomBytes(24).toString('base64url');
    const keyId = hashWriteKey(writeKey);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keyOf(keyId), source, createdAt: isoAt(clock) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { writeKey, keyId, source };
  }

  /**
   * Revokes a key by its id (sha-256 hex). The api container that revokes it forgets it at once;
   * others may accept it until their cache expires: 60 s locally, and in the cloud up to API
   * Gateway's authorizer cache (60 s) plus the authorizer's own (60 s).
   */
  async revoke(keyId: string, clock: Clock): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(keyId)) throw new NotFoundError('no such write key');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(keyId),
          UpdateExpression: 'SET revoked = :true, revokedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true, ':at': isoAt(clock) },
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException')
        throw new NotFoundError('no such write key');
      throw error;
    }
  }
}

/** EventBridge `Source`: 1-256 characters; `aws.` is reserved for AWS services. */
function assertSource(source: unknown): asserts source is string {
  if (typeof source !== 'string' || !/^[A-Za-z0-9._\-/]{1,256}$/.test(source) || source.startsWith('aws.')) {
    throw new ValidationError([
      {
        path: ['source'],
        message: "source must be 1-256 letters, digits, '.', '_', '-' or '/', not starting with aws.",
      },
    ]);
  }
}
