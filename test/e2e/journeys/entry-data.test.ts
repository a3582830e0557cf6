import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { presenceKey } from '../../../shared/profiles/dynamodb.js';
import { entryDataKey } from '../../../shared/runtime/entry-data.js';
import { awsClientConfig } from '../../support/local.js';
import { journeyId, journeyTestKit } from './support.js';

type Kit = Awaited<ReturnType<typeof journeyTestKit>>;

/**
 * The entry's properties (personal data kept beside the execution, `MSG#<execution>` / `#entry`) go
 * when the execution ends, however it ends: exit, goal, exit event, removal, failure. The re-entry
 * rule still holds afterwards (it reads the per-journey entry record, which stays).
 */
describe('entry data ends with its execution on the local stack', () => {
  async function entryItems(kit: Kit, id: string) {
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(kit.edgeUrl)));
    const executions = await kit.executions(id);
    const items = await Promise.all(
      executions.map(async (execution) => {
        const out = await ddb.send(
          new GetCommand({
            TableName: 'cairn-journeys',
            Key: entryDataKey(execution.name!),
            ConsistentRead: true,
          }),
        );
        return { status: (await kit.describe(execution.executionArn!)).status, item: out.Item };
      }),
    );
    return items;
  }

  it('is deleted at an exit, a goal, an exit event and a removal; re-entry never still refuses', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('entrydata');
    await kit.publish({
      ...pausingADay(id),
      reentry: 'never',
      goal: { event: `Bought ${id}`, within: 'P7D' },
      exitOn: [{ event: `Leave ${id}` }],
    });
    const [exits, buys, leaves, removed] = ['exit', 'buy', 'leave', 'removed'].map((u) => `${u}-${id}`);
    for (const userId of [exits!, buys!, leaves!, removed!])
      await kit.track(userId, `Start ${id}`, { cartId: `private-${userId}` });
    const before = await entryItems(kit, id);
    assert.equal(before.length, 4);
    assert.ok(
      before.every(({ status, item }) => status === 'RUNNING' && item?.properties?.cartId),
      'kept while the executions run',
    );

    await kit.track(buys!, `Bought ${id}`);
    await kit.track(leaves!, `Leave ${id}`);
    const out = await kit.api.delete(`/journeys/${id}/enrollments/${await kit.profileId(removed!)}`);
    assert.equal(out.status, 200, JSON.stringify(out.body));
    await kit.advance('P2D');

    const after = await entryItems(kit, id);
    assert.deepEqual(after.map(({ status }) => status).sort(), [
      'ABORTED',
      'ABORTED',
      'ABORTED',
      'SUCCEEDED',
    ]);
    assert.deepEqual(
      after.filter(({ item }) => item !== undefined),
      [],
      'no entry data outlives its execution',
    );
    // The re-entry rule is not the entry data's: a second trigger is still refused.
    await kit.track(exits!, `Start ${id}`, { cartId: 'again' });
    assert.equal((await kit.executions(id)).length, 4);
    assert.equal((await kit.stats(id)).refused, 1);
  });

  it('a trigger redelivered after its execution ended writes no presence nor entry data back; one redelivered while it runs changes nothing', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('redelivered');
    await kit.publish({ ...pausingADay(id), reentry: 'never' });
    const userId = `late-${id}`;
    // The same messageId, timestamp and content: ingest's dedupe calls it a redelivery, and the
    // reactor retries its entry (a previous delivery may have failed before StartExecution).
    const trigger = () =>
      kit.track(
        userId,
        `Start ${id}`,
        { cartId: `private-${userId}` },
        { messageId: `trigger-${id}`, timestamp: '2026-01-01T00:00:00.000Z' },
      );
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(kit.edgeUrl)));
    const kept = async () => {
      const [execution] = await kit.executions(id);
      assert.ok(execution?.name);
      const [presence, entry] = await Promise.all([
        ddb.send(
          new GetCommand({
            TableName: 'cairn-profiles',
            Key: presenceKey(await kit.profileId(userId), execution.name),
            ConsistentRead: true,
          }),
        ),
        ddb.send(
          new GetCommand({
            TableName: 'cairn-journeys',
            Key: entryDataKey(execution.name),
            ConsistentRead: true,
          }),
        ),
      ]);
      return {
        status: (await kit.describe(execution.executionArn!)).status,
        presence: presence.Item !== undefined,
        entryData: entry.Item !== undefined,
      };
    };

    await trigger();
    await trigger();
    assert.deepEqual(
      await kept(),
      { status: 'RUNNING', presence: true, entryData: true },
      'a live one keeps its items',
    );
    await kit.advance('P2D');
    assert.deepEqual(await kept(), { status: 'SUCCEEDED', presence: false, entryData: false });

    await trigger();
    assert.deepEqual(
      await kept(),
      { status: 'SUCCEEDED', presence: false, entryData: false },
      'the redelivery after the end leaves nothing behind',
    );
    assert.equal((await kit.executions(id)).length, 1);
    assert.equal((await kit.stats(id)).started, 1);
  });

  it('a redelivered trigger is not a new entry: entries stays 1 and lastEnteredAt where the first delivery put it', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('recount');
    await kit.publish({ ...pausingADay(id), reentry: { after: 'PT2H' } });
    const userId = `again-${id}`;
    const trigger = () =>
      kit.track(
        userId,
        `Start ${id}`,
        {},
        { messageId: `trigger-${id}`, timestamp: '2026-01-01T00:00:00.000Z' },
      );
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(kit.edgeUrl)));
    const record = async () => {
      const out = await ddb.send(
        new GetCommand({
          TableName: 'cairn-profiles',
          Key: presenceKey(await kit.profileId(userId), `entry#${id}`),
          ConsistentRead: true,
        }),
      );
      return { entries: out.Item?.entries, lastEnteredAt: out.Item?.lastEnteredAt };
    };

    await trigger();
    const first = await record();
    assert.equal(first.entries, 1);
    await kit.advance('PT1H');
    await trigger();
    assert.deepEqual(await record(), first, 'the redelivery changed the entry record');
    assert.equal((await kit.executions(id)).length, 1);
    // `after PT2H` counts from the first delivery: a new trigger 2h after it gets in.
    await kit.advance('PT1H1M');
    await kit.track(userId, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 2);
    assert.equal((await record()).entries, 2);
  });

  it('is deleted when the execution fails', async () => {
    const kit = await journeyTestKit();
    const id = await kit.failingWebhookJourney('entryfail');
    await kit.track(`u-${id}`, `Start ${id}`, { cartId: 'private' });
    await kit.advance('PT5M');
    assert.equal((await kit.stats(id)).failed, 1);
    const after = await entryItems(kit, id);
    assert.equal(after.length, 1);
    assert.equal(after[0]!.item, undefined, 'the failed execution keeps no entry data');
  });
});

/** A journey whose customers wait a day in `pause` before they exit: started by `Start <id>`. */
function pausingADay(id: string) {
  return {
    id,
    trigger: { event: `Start ${id}` },
    start: 'pause',
    nodes: { pause: { type: 'wait', for: 'P1D', next: 'done' }, done: { type: 'exit' } },
  };
}
