import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { hashWriteKey, type WriteKeyStore } from '../http/auth.js';
import { createOnly, queryAll } from '../store/dynamodb.js';

/**
 * Write keys stored hashed in the Journeys table (cloud): item `pk K#<sha256 hex>`, `sk WRITE_KEY`,
 * `{ source, createdAt, revoked? }`, and its listing entry `pk WRITE_KEYS`, `sk <sha256 hex>` (same
 * attributes), written in the same transaction so `GET /write-keys` is one Query, not a Scan. The
 * plaintext key is shown once, when created, and never stored.
 */
const keyOf = (hash: string) => ({ pk: `K#${hash}`, sk: 'WRITE_KEY' });
const listingOf = (hash: string) => ({ pk: 'WRITE_KEYS', sk: hash });

export interface WriteKeyListing {
  /** sha-256 hex of the key: names it for revocation, not a secret. */
  keyId: string;
  source: string;
  createdAt: string;
  revoked: boolean;
  revokedAt?: string;
}

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
    const attributes = { source, createdAt: isoAt(clock) };
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          createOnly(this.tableName, { ...keyOf(keyId), ...attributes }),
          { Put: { TableName: this.tableName, Item: { ...listingOf(keyId), ...attributes } } },
        ],
      }),
    );
    return { writeKey, keyId, source };
  }

  /**
   * Keys created through the API (ids, sources, dates; never the key), newest first: one Query of
   * the listing entries. Keys created before listing entries existed are not listed.
   */
  async list(): Promise<WriteKeyListing[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': listingOf('').pk },
    });
    const keys: WriteKeyListing[] = items.map((item) => ({
      keyId: String(item.sk),
      source: String(item.source),
      createdAt: String(item.createdAt),
      revoked: item.revoked === true,
      ...(typeof item.revokedAt === 'string' && { revokedAt: item.revokedAt }),
    }));
    return keys.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * Revokes a key by its id (sha-256 hex). The api container that revokes it forgets it at once;
   * others may accept it until their cache expires: 60 s locally, and in the cloud up to API
   * Gateway's authorizer cache (60 s) plus the authorizer's own (60 s).
   */
  async revoke(keyId: string, clock: Clock): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(keyId)) throw new NotFoundError('no such write key');
    const at = isoAt(clock);
    const revoke = (Key: Record<string, string>) => ({
      Update: {
        TableName: this.tableName,
        Key,
        ConditionExpression: 'attribute_exists(pk)',
        UpdateExpression: 'SET revoked = :true, revokedAt = :at',
        ExpressionAttributeValues: { ':true': true, ':at': at },
      },
    });
    try {
      await this.client.send(
        // Listed keys show as revoked; a key from before listing entries gets none.
        new TransactWriteCommand({ TransactItems: [revoke(keyOf(keyId)), revoke(listingOf(keyId))] }),
      );
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw error;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') throw new NotFoundError('no such write key');
      // Only the listing entry is missing (a key from before listings): revoke the key alone.
      if (reasons[1]?.Code !== 'ConditionalCheckFailed') throw error;
      await this.client.send(new TransactWriteCommand({ TransactItems: [revoke(keyOf(keyId))] }));
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
