import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { localTime } from '../../../shared/journeys/timezone.js';
import { awsClientConfig } from '../../support/local.js';
import { journeyId, kitKeepingMessagingPolicy, sortKeysUnderProfile } from './support.js';

const files = kitKeepingMessagingPolicy();

/**
 * Everything that wakes up later for a customer, once they are erased: a wait until a local time, a
 * message held for quiet hours (a Wait of the execution), a broadcast at 09:00 local time to a
 * segment they were in, the lifecycle timer on their profile. None of them sends, enters or writes
 * anything under the person when its time comes.
 */
describe('erasure and what was due later, on the local stack', () => {
  it('a wait until, a quiet-hours hold, a pending broadcast and the lifecycle timer do nothing after the erasure', async () => {
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(files.kit.edgeUrl)));
    const base = journeyId('ertm');
    const [hold, until, broadcastJourney] = ['h', 'u', 'b'].map((k) => `${base}-${k}`.slice(0, 40)) as [
      string,
      string,
      string,
    ];
    // Quiet hours for push, now in Tokyo (where Ann lives), not in the fallback zone.
    const tokyo = localTime(await files.kit.clockNow(), 'Asia/Tokyo');
    const pad = (n: number) => String(n).padStart(2, '0');
    const policy = await files.kit.api.put('/messaging/policy', {
      quietHours: {
        start: `${pad(tokyo.hour)}:00`,
        end: `${pad((tokyo.hour + 2) % 24)}:00`,
        fallbackTimezone: 'America/New_York',
        action: 'hold',
        channels: ['push'],
      },
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    await files.kit.api.put(`/templates/${base}-push`, { channel: 'push', title: 'Hi', body: 'Your cart' });
    await files.kit.template(`${base}-mail`, { subject: 'Good morning', text: 'Hello' });
    await files.kit.publish({
      id: hold,
      trigger: { event: `Hold ${base}` },
      start: 'buzz',
      nodes: { buzz: { type: 'push', template: `${base}-push`, next: 'done' }, done: { type: 'exit' } },
    });
    await files.kit.publish({
      id: until,
      trigger: { event: `Until ${base}` },
      start: 'pause',
      nodes: {
        pause: { type: 'wait', until: { time: '09:00' }, next: 'mail' },
        mail: { type: 'email', template: `${base}-mail`, next: 'done' },
        done: { type: 'exit' },
      },
    });
    await files.kit.publish({
      id: broadcastJourney,
      trigger: { event: `Never ${base}` },
      start: 'mail',
      nodes: { mail: { type: 'email', template: `${base}-mail`, next: 'done' }, done: { type: 'exit' } },
    });

    const [ann, bob] = [`ann-${base}`, `bob-${base}`];
    const annEmail = `ann-${base}@example.com`;
    await files.kit.identify(ann, { email: annEmail, timezone: 'Asia/Tokyo', audience: base });
    await files.kit.identify(bob, {
      email: `bob-${base}@example.com`,
      timezone: 'Europe/Paris',
      audience: base,
    });
    await files.kit.track(
      ann,
      `Seen ${base}`,
      {},
      { context: { device: { token: `tok-${base}`, type: 'ios' } } },
    );
    const segment = `seg-${base}`.slice(0, 40);
    const put = await files.kit.api.put(`/segments/${segment}`, {
      id: segment,
      name: 'Erasure timers',
      where: { traits: { audience: [base] } },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    await files.kit.advance('PT1S');
    assert.equal((await files.kit.api.get(`/segments/${segment}`)).body.count, 2);
    // Tomorrow (UTC), 09:00 local: Tokyo fires at 00:00 UTC, Paris at 08:00 UTC.
    const day = new Date((await files.kit.clockNow()) + 86_400_000).toISOString().slice(0, 10);
    const broadcast = await files.kit.api.post(`/journeys/${broadcastJourney}/broadcasts`, {
      segment,
      localTime: { time: '09:00', date: day },
      fallbackTimezone: 'UTC',
    });
    assert.equal(broadcast.status, 202, JSON.stringify(broadcast.body));
    assert.equal(broadcast.body.audience, 2);

    await files.kit.track(ann, `Hold ${base}`);
    await files.kit.track(ann, `Until ${base}`);
    assert.equal(
      (await files.kit.stats(hold)).nodes.buzz.held,
      1,
      'the push waits for the end of quiet hours',
    );
    assert.equal((await files.kit.stats(until)).nodes.pause.waiting, 1, 'Ann waits for 09:00 in Tokyo');
    const profileId = await files.kit.profileId(ann);
    const executions = [...(await files.kit.executions(hold)), ...(await files.kit.executions(until))];
    assert.equal(executions.length, 2);

    const erased = await files.kit.api.delete(`/profiles/${profileId}`);
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(erased.body.executionsStopped, 2);
    assert.equal(erased.body.segmentMemberships, 1);

    // Past the quiet hours, past 09:00 in Tokyo, past the broadcast everywhere; then past the
    // 30 days after which a quiet customer's lifecycle stage changes.
    await files.kit.advance('P2D');
    await files.kit.advance('P40D');

    const outbox = [
      ...(await files.kit.outbox(hold)),
      ...(await files.kit.outbox(until)),
      ...(await files.kit.outbox(broadcastJourney)),
    ];
    assert.deepEqual(
      outbox.filter((m) => m.to === annEmail || m.to === `tok-${base}`),
      [],
      'nothing is sent to Ann',
    );
    for (const execution of executions)
      assert.equal((await files.kit.describe(execution.executionArn!)).status, 'ABORTED');
    const view = (await files.kit.api.get(`/broadcasts/${broadcast.body.broadcastId}`)).body;
    assert.equal(view.status, 'done', JSON.stringify(view));
    assert.equal(view.entered, 1, 'Bob entered, Ann did not');
    assert.equal((await files.kit.stats(broadcastJourney)).started, 1);
    const broadcastExecutions = await files.kit.executions(broadcastJourney);
    assert.equal(broadcastExecutions.length, 1);

    assert.deepEqual(
      await sortKeysUnderProfile(ddb, profileId),
      ['ERASED'],
      'nothing was written under Ann again',
    );
    for (const execution of executions) {
      const kept = await ddb.send(
        new QueryCommand({
          TableName: 'cairn-journeys',
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `MSG#${execution.name}` },
        }),
      );
      assert.deepEqual(kept.Items ?? [], [], 'no held message record nor entry data comes back');
    }
    assert.equal(
      (await files.kit.api.get(`/profiles?userId=${ann}`)).status,
      404,
      'no timer brought Ann back',
    );
    assert.equal((await files.kit.api.get(`/segments/${segment}`)).body.count, 1);
  });
});
