/**
 * DynamoDB for integration tests: the local stack's (AWS_ENDPOINT_URL, set by test/run.ts) when it
 * runs, else a DynamoDB Local process of this test file's own. Tables come from shared/store/tables.ts.
 */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { meterDynamo } from '../../../bench/support/ddb-meter.js';
import { ensureTables, localClient, startDynamoDbLocal } from '../../../infra/local/dynamodb-local.js';
import { type Clock, systemClock } from '../../../shared/clock.js';
import { parseMessage } from '../../../shared/events/index.js';
import { randomIds } from '../../../shared/ids.js';
import { memoryLogger } from '../../../shared/log.js';
import { DynamoProfileStore, type IngestDeps, ingestMessage } from '../../../shared/profiles/index.js';
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
    profilesTableName: tableName(profilesTable, process.env),
    journeysTableName: tableName(journeysTable, process.env),
    async stop() {
      for (const client of clients) client.destroy();
      await local?.stop();
    },
  };
}

/**
 * DynamoDB for the whole test file (call at its top level): started before its first test and
 * stopped after its last. Its fields are there once `before` has run.
 */
export function useTestDynamo(): TestDynamo {
  const dynamo = {} as TestDynamo;
  before(async () => {
    Object.assign(dynamo, await testDynamo());
  });
  after(async () => {
    await dynamo.stop?.();
  });
  return dynamo;
}

/**
 * Profile ingest on the test tables, as the ingest Lambda wires it: the store, its deps, a request
 * meter on its own client, and `ingest` from a raw Segment-style message.
 */
export function profileIngest(dynamo: TestDynamo, clock: Clock = systemClock) {
  const client = dynamo.documentClient();
  const meter = meterDynamo(client);
  const store = new DynamoProfileStore({ client, tableName: dynamo.profilesTableName, clock });
  const log = memoryLogger();
  const deps: IngestDeps = { store, clock, ids: randomIds, log };
  const parse = { clock, ids: randomIds };
  const ingest = (input: Record<string, unknown>) => ingestMessage(parseMessage(input, parse), deps);
  return { client, meter, store, log, deps, parse, ingest };
}

/** A name no other test run uses. */
export const unique = (prefix: string) => `${prefix}-${randomUUID()}`;
