import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../../shared/clock.js';
import { parseMessage } from '../../../shared/events/index.js';
import { randomIds } from '../../../shared/ids.js';
import { DynamoProfileStore, ingestMessage } from '../../../shared/profiles/index.js';
import { activeSegment, type SegmentEngineDeps } from '../../../shared/segments/engine.js';
import { DynamoSegmentStore } from '../../../shared/segments/index.js';
import { segmentsReactor } from '../../../shared/segments/wiring.js';
import { type TestDynamo, testDynamo } from '../profiles/dynamo.js';

let dynamo: TestDynamo;
before(async () => {
  dynamo = await testDynamo();
});
after(async () => {
  await dynamo?.stop();
});

describe("ingest's segments hook on DynamoDB Local", () => {
  test('a merge whose first delivery failed before segments were evaluated still moves the profile in on redelivery', async () => {
    const client = dynamo.documentClient();
    const profiles = new DynamoProfileStore({
      client,
      tableName: dynamo.profilesTableName,
      clock: systemClock,
    });
    const segments = new DynamoSegmentStore({
      client,
      profilesTable: dynamo.profilesTableName,
      journeysTable: dynamo.journeysTableName,
    });
    const id = `merged-${randomUUID().slice(0, 8)}`;
    const segment = activeSegment({
      id,
      name: id,
      where: { all: [{ traits: { plan: ['pro'] } }, { performed: { event: 'Order Completed' } }] },
    });
    const engine: SegmentEngineDeps = {
      store: segments,
      clock: systemClock,
      segments: async () => [segment],
    };
    const reactor = segmentsReactor(engine);
    const deps = { store: profiles, clock: systemClock, ids: randomIds };
    const ingest = async (input: Record<string, unknown>, react = true) => {
      const result = await ingestMessage(parseMessage(input, { clock: systemClock, ids: randomIds }), deps);
      if (react) await reactor.onEvent({ profile: result.profile, event: result.event, result });
      return result;
    };

    const anonymousId = `a-${randomUUID()}`;
    const userId = `u-${randomUUID()}`;
    await ingest({ type: 'track', anonymousId, event: 'Order Completed', messageId: randomUUID() });
    await ingest({ type: 'identify', userId, traits: { plan: 'pro' }, messageId: randomUUID() });
    assert.equal((await segments.listMembers(id)).members.length, 0);

    // The merge is stored, then the delivery fails before the hook ran (a timeout, a throttled
    // request): the queue redelivers it, and ingest sees a duplicate that no longer says it merged.
    const merge = { type: 'identify', userId, anonymousId, traits: {}, messageId: randomUUID() };
    const first = await ingest(merge, false);
    assert.equal(first.merged.length, 1);
    const redelivered = await ingest(merge);
    assert.equal(redelivered.duplicate, true);
    assert.deepEqual(
      (await segments.listMembers(id)).members.map((m) => m.profileId),
      [redelivered.profileId],
    );
    assert.equal(await segments.countOf(id), 1);
  });
});
