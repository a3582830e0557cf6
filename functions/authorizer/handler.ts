import middy from '@middy/core';
import type { APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { DynamoWriteKeyStore } from '../../shared/catalog/write-keys.js';
import { basicAuthUser, hashedWriteKeyVerifier, type WriteKeyStore } from '../../shared/http/auth.js';
import type { HttpApiEvent } from '../../shared/http/event.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger } from '../config.js';
import { lambdaLog } from '../middleware/index.js';

type SimpleAuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<{ source: string }>;

/**
 * API Gateway's write-key authorizer for `/v1/*` (HTTP API, simple responses). The key is the HTTP
 * Basic user name (Segment convention); it is accepted when its sha-256 is one of the bootstrap
 * digests in CAIRN_WRITE_KEY_SHA256 or a key stored (hashed) in the Journeys table. The verdict is
 * cached by API Gateway (per Authorization header) and by this container, so steady ingestion costs
 * no DynamoDB read per request. The api Lambda reads the source from the authorizer context.
 */
const bootstrap = new Set((process.env.CAIRN_WRITE_KEY_SHA256 ?? '').split(',').filter(Boolean));
const stored = new DynamoWriteKeyStore(createDocumentClient(), tableName(journeysTable, process.env));
const store: WriteKeyStore = {
  findByHash: async (hash) => (bootstrap.has(hash) ? { source: 'cairn.http' } : stored.findByHash(hash)),
};
const verifier = hashedWriteKeyVerifier(store);

export const handler = middy<HttpApiEvent, SimpleAuthorizerResult>()
  .use(
    lambdaLog<HttpApiEvent, SimpleAuthorizerResult>({
      log: edgeLogger({ component: 'authorizer' }),
      correlationId: (event) => event.requestContext?.requestId,
      outcome: (result) => ({ authorized: result.isAuthorized }),
      level: 'debug',
    }),
  )
  .handler(async (event) => {
    const writeKey = basicAuthUser(event);
    const verified = writeKey ? await verifier.verify(writeKey) : undefined;
    return verified
      ? { isAuthorized: true, context: { source: verified.source } }
      : { isAuthorized: false, context: { source: '' } };
  });
