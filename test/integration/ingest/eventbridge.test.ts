import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { systemClock } from '../../../shared/clock.js';
import { busEntry } from '../../../shared/http/ingestion.js';
import { DynamoProfileStore, findProfile, type Profile, timeline } from '../../../shared/profiles/index.js';
import { busName } from '../../../shared/routing.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../../shared/store/tables.js';
import { testStack } from '../../support/stack.js';

/**
 * The whole ingest path on the local stack with real SDK clients: PutEvents on the `cairn` bus →
 * local EventBridge rule → SQS-shaped batch → functions/ingest handler (its default wiring) → DynamoDB.
 */
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clients: { destroy(): void }[] = [];
after(() => {
  for (const client of clients) client.destroy();
});

async function connect() {
  const { edgeUrl } = await testStack();
  const bus = new EventBridgeClient({ endpoint: edgeUrl, region: 'us-east-1', credentials });
  const db: DynamoDBDocumentClient = createDocumentClient({
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials,
  });
  clients.push(bus, db);
  const store = new DynamoProfileStore({
    client: db,
    tableName: tableName(profilesTable, process.env),
    clock: systemClock,
  });
  const put = async (...messages: Record<string, unknown>[]) => {
    const out = await bus.send(
      new PutEventsCommand({
        Entries: messages.map((m) => ({ EventBusName: busName, ...busEntry(m, 'shop') })),
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
  };
  /** Dead letters whose stored body contains `marker` (polled: delivery is asynchronous). */
  const deadLettersWith = async (marker: string, count: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const out = await db.send(
        new ScanCommand({
          TableName: tableName(journeysTable, process.env),
          FilterExpression: 'begins_with(pk, :dlq) AND contains(body, :marker)',
          ExpressionAttributeValues: { ':dlq': 'DLQ#', ':marker': marker },
          ConsistentRead: true,
        }),
      );
      const items = out.Items ?? [];
      if (items.length >= count || Date.now() > deadline) return items;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { store, put, bus, deadLettersWith };
}

/** Polls until the profile satisfies `ready` (delivery is asynchronous, as on AWS). */
async function eventually(
  read: () => Promise<Profile | null>,
  ready: (p: Profile) => boolean,
): Promise<Profile> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const profile = await read();
    if (profile && ready(profile)) return profile;
    if (Date.now() > deadline) assert.fail(`profile not ready: ${JSON.stringify(profile?.counters)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PutEvents → local bus → ingest', () => {
  test('identify and track through EventBridge build the profile; a duplicate messageId is counted once', async () => {
    const { store, put } = await connect();
    const userId = `eb-${randomUUID()}`;
    const anonymousId = `anon-${randomUUID()}`;
    const messageId = `m-${randomUUID()}`;
    await put({ type: 'track', anonymousId, event: 'Product Viewed', properties: { sku: 'a' } });
    await put(
      { type: 'identify', userId, anonymousId, traits: { email: `${userId}@Example.com`, plan: 'pro' } },
      { type: 'track', userId, event: 'Order Completed', messageId },
    );
    await put({ type: 'track', userId, event: 'Order Completed', messageId });
    const profile = await eventually(
      () => findProfile(store, { userId }),
      (p) => p.counters.events >= 3,
    );
    assert.deepEqual(profile.identities.anonymousId, [anonymousId]);
    assert.deepEqual(profile.identities.email, [`${userId}@example.com`]);
    assert.equal(profile.traits.plan, 'pro');
    // Let the redelivered duplicate arrive too, then check it was not counted.
    await new Promise((r) => setTimeout(r, 500));
    const settled = await findProfile(store, { userId });
    assert.equal(settled?.counters.events, 3);
    assert.equal(settled?.counters.tracked['Order Completed'], 1);
    const events = (await timeline(store, profile.profileId))?.events ?? [];
    assert.deepEqual(events.map((e) => e.type).sort(), ['identify', 'track', 'track']);
  });

  test('an event whose DetailType no ingest rule takes lands in the dead letters with the reason', async () => {
    const { bus, deadLettersWith } = await connect();
    const marker = `unrouted-${randomUUID()}`;
    const out = await bus.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: 'shop',
            DetailType: 'Track',
            Detail: JSON.stringify({ userId: marker }),
          },
          {
            EventBusName: busName,
            Source: 'shop',
            DetailType: 'Order Placed',
            Detail: JSON.stringify({ marker }),
          },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
    const letters = await deadLettersWith(marker, 2);
    assert.deepEqual(letters.map((letter) => letter.reason).sort(), [
      'detail-type: detail-type must be one of track, identify, alias, page, screen, group (got "Order Placed"); no ingest rule takes it',
      'detail-type: detail-type must be one of track, identify, alias, page, screen, group (got "Track"); no ingest rule takes it',
    ]);
  });

  test('ids over the key limit in UTF-8 bytes are kept in the dead letters with the field and the reason', async () => {
    const { put, deadLettersWith } = await connect();
    const marker = `long-${randomUUID()}`;
    await put({ type: 'track', userId: '€'.repeat(1024), event: 'Viewed', properties: { marker } });
    const [letter] = await deadLettersWith(marker, 1);
    assert.equal(letter?.code, 'validation_failed');
    assert.equal(letter?.reason, 'detail.userId: userId must be at most 1024 bytes in UTF-8');
  });
});
