/**
 * The write-key authorizer API Gateway runs for `/v1/*`, against the Journeys table on the local
 * stack's DynamoDB: bootstrap digests from the stack props, keys created through the catalog (stored
 * hashed), revoked keys, and requests without Basic auth.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { DynamoWriteKeyStore } from '../../shared/catalog/write-keys.js';
import { systemClock } from '../../shared/clock.js';
import { hashWriteKey } from '../../shared/http/auth.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../shared/store/tables.js';
import { testStack } from '../support/stack.js';

const bootstrapKey = `boot-${Date.now()}`;

interface Verdict {
  isAuthorized: boolean;
  context?: { source: string };
}
let authorize: (authorization?: string) => Promise<Verdict>;

before(async () => {
  const { edgeUrl } = await testStack();
  process.env.AWS_ENDPOINT_URL ??= edgeUrl;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.CAIRN_WRITE_KEY_SHA256 = [
    '0'.repeat(64),
    createHash('sha256').update(bootstrapKey).digest('hex'),
  ].join(',');
  const { handler } = await import('../../functions/authorizer/handler.js');
  authorize = (authorization) =>
    (handler as unknown as (event: APIGatewayRequestAuthorizerEventV2) => Promise<Verdict>)({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:123456789012:api/$default/POST/v1/track',
      identitySource: authorization ? [authorization] : [],
      routeKey: 'POST /v1/{proxy+}',
      rawPath: '/v1/track',
      rawQueryString: '',
      headers: authorization ? { authorization } : {},
      requestContext: { http: { method: 'POST', path: '/v1/track' } },
    } as unknown as APIGatewayRequestAuthorizerEventV2);
});

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

describe('write-key authorizer', () => {
  test('accepts a bootstrap key given as its sha-256 in the stack props', async () => {
    assert.deepEqual(await authorize(basic(bootstrapKey)), {
      isAuthorized: true,
      context: { source: 'cairn.http' },
    });
  });

  test('accepts a key created through the API (stored hashed) with the source it was created for', async () => {
    const store = new DynamoWriteKeyStore(createDocumentClient(), tableName(journeysTable, process.env));
    const { writeKey } = await store.create(`app-${Date.now()}`, systemClock);
    const result = await authorize(basic(writeKey));
    assert.equal(result.isAuthorized, true);
    assert.match(String(result.context?.source), /^app-/);
  });

  test('rejects a revoked key', async () => {
    const client = createDocumentClient();
    const store = new DynamoWriteKeyStore(client, tableName(journeysTable, process.env));
    const { writeKey } = await store.create(`revoked-${Date.now()}`, systemClock);
    await client.send(
      new UpdateCommand({
        TableName: tableName(journeysTable, process.env),
        Key: { pk: `K#${hashWriteKey(writeKey)}`, sk: 'WRITE_KEY' },
        UpdateExpression: 'SET revoked = :yes',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
    assert.equal((await authorize(basic(writeKey))).isAuthorized, false);
  });

  test('rejects an unknown key, a bearer token and a request without credentials', async () => {
    assert.equal((await authorize(basic(`unknown-${Date.now()}`))).isAuthorized, false);
    assert.equal((await authorize('Bearer dev-token')).isAuthorized, false);
    assert.equal((await authorize()).isAuthorized, false);
  });
});
