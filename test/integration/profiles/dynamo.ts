/**
 * DynamoDB for integration tests: the local stack's (AWS_ENDPOINT_URL, set by test/run.ts) when it
 * runs, else a DynamoDB Local process of this test file's own. Tables come from shared/store/tables.ts.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, localClient, startDynamoDbLocal } from '../../../infra/local/dynamodb-local.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../../shared/store/tables.js';

export interface TestDynamo {
  endpoint: string;
  /** A fresh document client per call, so a test can meter its own requests. */
  documentClient(): DynamoDBDocumentClient;
  profilesTableName: string;
  journeysTableName: string;
  stop(): Promise<void>;
}

export async function testDynamo(): Promise<TestDynamo> {
  const shared = process.env.AWS_ENDPOINT_URL;
  const local = shared ? undefined : await startDynamoDbLocal();
  const endpoint = shared ?? local!.endpoint;
  const raw = localClient(endpoint);
  await ensureTables(raw);
  raw.destroy();
  const clients: DynamoDBDocumentClient[] = [];
  return {
    endpoint,
    documentClient() {
      const client = createDocumentClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      clients.push(client);
      return client;
    },
    profilesTableName: tableName(profilesTable),
    journeysTableName: tableName(journeysTable),
    async stop() {
      for (const client of clients) client.destroy();
      await local?.stop();
    },
  };
}
