import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { fromEventBridge } from '../../../shared/events/index.js';
import {
  eraseProfile,
  findProfile,
  getProfile,
  ingestMessage,
  timeline,
} from '../../../shared/profiles/index.js';
import { profileIngest, unique, useTestDynamo } from './dynamo.js';

const dynamo = useTestDynamo();
const setup = () => profileIngest(dynamo);

describe('deduplication on DynamoDB Local: scoped to the sender, by content', () => {
  test("two people's events with the same messageId are both ingested", async () => {
    const { ingest, store } = setup();
    const messageId = unique('shared-id');
    const a = await ingest({ type: 'track', userId: unique('a'), event: 'Viewed', messageId });
    const b = await ingest({ type: 'identify', userId: unique('b'), traits: { plan: 'pro' }, messageId });
    assert.equal(a.duplicate, false);
    assert.equal(b.duplicate, false);
    assert.deepEqual((await getProfile(store, b.profileId))?.traits, { plan: 'pro' });
  });

  test('the same messageId with other content is processed under its own id, and logged', async () => {
    const { ingest, store, log } = setup();
    const userId = unique('user');
    const messageId = unique('msg');
    const first = await ingest({ type: 'track', userId, event: 'Viewed', messageId });
    const other = await ingest({ type: 'track', userId, event: 'Bought', messageId });
    const otherAgain = await ingest({ type: 'track', userId, event: 'Bought', messageId });
    const firstAgain = await ingest({ type: 'track', userId, event: 'Viewed', messageId });
    assert.equal(other.duplicate, false);
    assert.equal(otherAgain.duplicate, true);
    assert.equal(firstAgain.duplicate, true);
    const profile = await getProfile(store, first.profileId);
    assert.equal(profile?.counters.events, 2);
    const events = (await timeline(store, first.profileId))?.events ?? [];
    assert.deepEqual(events.map((e) => e.event).sort(), ['Bought', 'Viewed']);
    const reused = events.find((e) => e.event === 'Bought');
    assert.equal(reused?.messageIdReused, true);
    assert.ok(reused?.messageId.startsWith(`${messageId}#`));
    assert.ok(log.lines.some((line) => /messageId reused/.test(JSON.stringify(line))));
  });

  test('a redelivered bus event without messageId is deduplicated by the bus event id', async () => {
    const { deps, parse, store } = setup();
    const userId = unique('user');
    const envelope = { id: randomUUID(), 'detail-type': 'track', detail: { userId, event: 'Viewed' } };
    const first = await ingestMessage(fromEventBridge(envelope, parse), deps);
    const again = await ingestMessage(fromEventBridge(envelope, parse), deps);
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(first.event.messageId, envelope.id);
    assert.equal((await getProfile(store, first.profileId))?.counters.events, 1);
  });

  test('erasure deletes the scoped dedupe records', async () => {
    const { ingest, store, client } = setup();
    const userId = unique('user');
    const messageId = unique('msg');
    const first = await ingest({ type: 'track', userId, event: 'Viewed', messageId });
    await ingest({ type: 'track', userId, event: 'Bought', messageId });
    const report = await eraseProfile(store, first.profileId);
    assert.equal(report?.dedupeRecords, 2);
    const items = await client.send(
      new ScanCommand({ TableName: dynamo.profilesTableName, ConsistentRead: true }),
    );
    // The erasure tombstone (`ERASED`: the profile id and when) stays by design.
    const left = (items.Items ?? []).filter(
      (item) => item.sk !== 'ERASED' && JSON.stringify(item).includes(first.profileId),
    );
    assert.deepEqual(left, []);
    assert.equal(await findProfile(store, { userId }), null);
  });
});
