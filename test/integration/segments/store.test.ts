import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { erasedKey } from '../../../shared/profiles/dynamodb.js';
import { segmentSortKey } from '../../../shared/segments/dynamodb.js';
import { DynamoSegmentStore } from '../../../shared/segments/index.js';
import { useTestDynamo } from '../profiles/dynamo.js';

const dynamo = useTestDynamo();

function store() {
  return new DynamoSegmentStore({
    client: dynamo.documentClient(),
    profilesTable: dynamo.profilesTableName,
    journeysTable: dynamo.journeysTableName,
  });
}

async function defineSegment(segments: DynamoSegmentStore, id: string) {
  const now = new Date().toISOString();
  await segments.saveSegment({
    id,
    definition: { id, name: id, where: { traits: { plan: ['pro'] } } },
    status: 'ready',
    revision: 1,
    createdAt: now,
    updatedAt: now,
  });
}

describe('segment membership store (the port broadcasts read)', () => {
  test('lists members page by page in profile id order, checks one, and counts exactly', async () => {
    const segments = store();
    const id = `s-${randomUUID().slice(0, 8)}`;
    await defineSegment(segments, id);
    const ids = Array.from({ length: 7 }, (_, i) => `p${i}-${randomUUID()}`).sort();
    for (const profileId of ids)
      assert.equal(await segments.enter(id, profileId, '2026-01-01T00:00:00.000Z'), true);
    assert.equal(await segments.enter(id, ids[0]!, '2026-01-02T00:00:00.000Z'), false, 'already a member');

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const out = await segments.listMembers(id, { limit: 3, ...(cursor && { cursor }) });
      seen.push(...out.members.map((m) => m.profileId));
      assert.ok(out.members.every((m) => m.since === '2026-01-01T00:00:00.000Z'));
      if (!out.next) break;
      cursor = out.next;
    }
    assert.deepEqual(seen, ids);
    assert.equal(await segments.isMember(id, ids[3]!), true);
    assert.equal(await segments.isMember(id, 'nobody'), false);
    assert.deepEqual(await segments.status(id), { status: 'ready', count: 7 });

    assert.equal(await segments.exit(id, ids[3]!), true);
    assert.equal(await segments.exit(id, ids[3]!), false, 'not a member any more');
    assert.equal(await segments.isMember(id, ids[3]!), false);
    assert.equal((await segments.status(id))?.count, 6);
    assert.equal(await segments.status('no-such-segment'), undefined);
  });

  test('20 parallel writers entering one customer leave exactly one membership and a count of 1', async () => {
    const segments = store();
    const id = `s-${randomUUID().slice(0, 8)}`;
    await defineSegment(segments, id);
    const profileId = randomUUID();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => store().enter(id, profileId, new Date().toISOString())),
    );
    assert.equal(outcomes.filter(Boolean).length, 1);
    assert.equal((await segments.listMembers(id)).members.length, 1);
    assert.equal(await segments.countOf(id), 1);
  });

  test('timers: due ones are found by the due index, cleared ones are not', async () => {
    const segments = store();
    const id = `s-${randomUUID().slice(0, 8)}`;
    const a = randomUUID();
    const b = randomUUID();
    await segments.setDue(id, a, '2000-01-01T00:00:00.000Z', false);
    await segments.setDue(id, b, '2000-01-01T00:00:01.000Z', false);
    await segments.setDue(id, b, undefined, false);
    const due = (await segments.dueTimers('2000-01-02T00:00:00.000Z', 100)).filter((t) => t.segmentId === id);
    assert.deepEqual(
      due.map((t) => t.profileId),
      [a],
    );
    const read = await segments.readProfile(a);
    assert.equal(read.states.get(id)?.dueAt, '2000-01-01T00:00:00.000Z');
    assert.equal(read.states.get(id)?.member, false);
  });

  test('a timer is never written under an erased profile, and clearing one creates no item', async () => {
    const segments = store();
    const id = `s-${randomUUID().slice(0, 8)}`;
    const erased = randomUUID();
    const client = dynamo.documentClient();
    // The erasure's tombstone (shared/profiles/erasure.ts), as a late evaluation finds it.
    await client.send(new PutCommand({ TableName: dynamo.profilesTableName, Item: erasedKey(erased) }));
    assert.equal(await segments.setDue(id, erased, '2000-01-01T00:00:00.000Z', false), false);
    assert.equal(await segments.setDue(id, erased, undefined, true), true);
    const item = await client.send(
      new GetCommand({
        TableName: dynamo.profilesTableName,
        Key: { pk: `P#${erased}`, sk: segmentSortKey(id) },
        ConsistentRead: true,
      }),
    );
    assert.equal(item.Item, undefined);
    const due = await segments.dueTimers('2000-01-02T00:00:00.000Z', 100);
    assert.ok(!due.some((t) => t.profileId === erased));
    // A live profile's timer is still written.
    assert.equal(await segments.setDue(id, randomUUID(), '2000-01-01T00:00:00.000Z', false), true);
  });
});
