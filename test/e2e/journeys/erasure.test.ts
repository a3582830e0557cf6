import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig, readRejectedEvents } from '../../support/local.js';
import { graphs, journeyId, journeyTestKit, sortKeysUnderProfile } from './support.js';

/** `DELETE /profiles/{id}` of a customer who waits in a journey: nothing of them stays or comes back. */
describe('erasure on the local stack', () => {
  it('stops the executions, deletes messages, timeline and dead letters, and nothing is written again', async () => {
    const kit = await journeyTestKit();
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(kit.edgeUrl)));
    const id = journeyId('erase');
    await kit.template(`${id}-t`, { subject: 'Private subject', text: 'Hello' });
    await kit.publish({
      id,
      trigger: { event: `Start ${id}` },
      ...graphs.emailTwice(`${id}-t`, 'P2D'),
    });
    // A segment the person is in: erasure ends the membership and the count goes down.
    const segmentId = `erase-seg-${id}`;
    const segment = await kit.api.put(`/segments/${segmentId}`, {
      id: segmentId,
      name: 'Erasure',
      where: { traits: { eraseTag: [id] } },
    });
    assert.equal(segment.status, 201, JSON.stringify(segment.body));
    const lifecycleTotal = async () =>
      Object.values((await kit.api.get('/lifecycle?days=1')).body.now as Record<string, number>).reduce(
        (sum, n) => sum + n,
        0,
      );
    // The journey starts while the person is anonymous; identify merges the two profiles.
    const anonymousId = `anon-${id}`;
    const userId = `u-${id}`;
    await kit.identify(userId, { email: 'private@example.com', eraseTag: id });
    await kit.api.post('/v1/track', {
      anonymousId,
      event: `Start ${id}`,
      properties: { cartId: 'private-cart' },
    });
    await kit.identify(userId, { plan: 'pro' }, { anonymousId });
    assert.equal((await kit.stats(id)).nodes.pause.waiting, 1);
    await kit.advance('PT1S');
    const segmentBefore = (await kit.api.get(`/segments/${segmentId}`)).body.count;
    const members = async () =>
      (await kit.api.get(`/segments/${segmentId}/members?limit=1000`)).body.members.map(
        (m: { profileId: string }) => m.profileId,
      );
    assert.equal(segmentBefore, 1, 'the person is in the segment');
    const stagesBefore = await lifecycleTotal();
    const sentBefore = (await kit.outbox(id)).length;
    // A dead letter that names the person (an event ingest refused).
    await new EventBridgeClient(awsClientConfig(kit.edgeUrl)).send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'cairn',
            Source: 'shop.web',
            DetailType: 'track',
            Detail: JSON.stringify({ type: 'track', userId, event: 42 }),
          },
        ],
      }),
    );
    await kit.advance('PT1S');
    const namesUser = async () =>
      (await readRejectedEvents(kit.httpUrl)).filter((letter) => letter.body.includes(userId)).length;
    const deadBefore = await namesUser();

    const profileId = await kit.profileId(userId);
    const [execution] = await kit.executions(id);
    const executionName = execution!.name!;
    const executionItems = async () =>
      (
        await ddb.send(
          new QueryCommand({
            TableName: 'cairn-journeys',
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `MSG#${executionName}` },
          }),
        )
      ).Items ?? [];
    assert.ok(
      (await executionItems()).some((item) => item.sk === '#entry'),
      'the trigger properties are kept beside the execution (not in its input)',
    );
    const erased = await kit.api.delete(`/profiles/${profileId}`);
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(erased.body.executionsStopped, 1);
    assert.ok(erased.body.journeySteps >= 1, 'journey timeline deleted');
    assert.equal(erased.body.profileIds.length, 2, 'the merged anonymous profile too');
    assert.equal(erased.body.segmentMemberships, 1);
    assert.equal((await kit.api.get(`/segments/${segmentId}`)).body.count, segmentBefore - 1);
    assert.deepEqual(await members(), []);
    assert.equal(await lifecycleTotal(), stagesBefore - 1, 'the lifecycle stage counts lose the person');
    assert.equal((await kit.describe(execution!.executionArn!)).status, 'ABORTED');

    await kit.advance('P3D');
    assert.equal((await kit.outbox(id)).length, sentBefore, 'no email after the erasure');
    for (const erasedId of erased.body.profileIds as string[]) {
      assert.deepEqual(
        await sortKeysUnderProfile(ddb, erasedId),
        ['ERASED'],
        'only the tombstone stays under the profile',
      );
    }
    assert.deepEqual(
      await executionItems(),
      [],
      'no message record (subject, profile id) nor entry data (trigger properties) stays',
    );
    // Nothing re-enters the person later (the segment's count stays down after time passes).
    assert.equal((await kit.api.get(`/segments/${segmentId}`)).body.count, segmentBefore - 1);
    assert.ok(deadBefore > 0, 'the refused event was dead-lettered');
    assert.equal(await namesUser(), 0, 'no dead letter names the person');
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.pause.waiting, 0);
    assert.equal(stats.nodes.pause.exited, 1, 'the wait counts the customer who left it');
    assert.equal((await kit.api.get(`/profiles/${profileId}`)).status, 404);
  });
});
