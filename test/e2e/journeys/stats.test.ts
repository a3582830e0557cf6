import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evenSplit } from '../../support/journeys.js';
import { assertNodesAddUp } from '../../support/stats.js';
import { journeyTestKit } from './support.js';

/** Numbers that add up: for every node, entered = completed + waiting + failed + skipped + exited. */

type Kit = Awaited<ReturnType<typeof journeyTestKit>>;

async function enter(kit: Kit, id: string, users: string[]) {
  for (const userId of users) await kit.track(userId, `Start ${id}`);
}

describe('journey stats add up on the local stack', () => {
  it('a split after a wait counts only who reached it; a goal during the wait is an exit of the wait', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('splitwait', {}, (id) => ({
      trigger: { event: `Start ${id}` },
      goal: { event: `Bought ${id}`, within: 'P7D' },
      start: 'pause',
      nodes: {
        pause: { type: 'wait', for: 'P1D', next: 'pick' },
        pick: evenSplit({ a: 'A', b: 'B' }),
        a: { type: 'exit' },
        b: { type: 'exit' },
      },
    }));
    const users = [1, 2, 3].map((i) => `u${i}-${id}`);
    await enter(kit, id, users);
    let stats = await kit.stats(id);
    assert.equal(stats.nodes.pause.waiting, 3);
    assert.equal(stats.nodes.pick.entered, 0, 'nobody reached the split yet');
    assert.deepEqual(stats.nodes.pick.branches, {});
    assertNodesAddUp(stats, 'waiting');

    await kit.track(users[0]!, `Bought ${id}`);
    stats = await kit.stats(id);
    assert.equal(stats.goal.conversions, 1);
    assert.equal(stats.nodes.pause.exited, 1);
    assert.equal(stats.nodes.pause.waiting, 2);
    assertNodesAddUp(stats, 'after the goal');

    await kit.advance('P2D');
    stats = await kit.stats(id);
    assert.deepEqual(
      [
        stats.nodes.pause.entered,
        stats.nodes.pause.completed,
        stats.nodes.pause.exited,
        stats.nodes.pause.waiting,
      ],
      [3, 2, 1, 0],
    );
    assert.equal(stats.nodes.pick.entered, 2);
    const branches = Object.values(stats.nodes.pick.branches as Record<string, number>);
    assert.equal(
      branches.reduce((a, b) => a + b, 0),
      2,
      'the converted customer is in no branch',
    );
    assertNodesAddUp(stats, 'at the end');
  });

  it('a goal while waiting for an event: entered 3, completed 2, waiting 0, exited 1', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('goalwait', {}, (id) => ({
      trigger: { event: `Start ${id}` },
      goal: { event: `Bought ${id}`, within: 'P7D' },
      start: 'reply',
      nodes: {
        // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
        reply: { type: 'waitFor', event: `Reply ${id}`, timeout: 'P1D', then: 'done', else: 'done' },
        done: { type: 'exit' },
      },
    }));
    const users = [1, 2, 3].map((i) => `u${i}-${id}`);
    await enter(kit, id, users);
    await kit.track(users[0]!, `Reply ${id}`);
    await kit.track(users[1]!, `Reply ${id}`);
    await kit.track(users[2]!, `Bought ${id}`);
    const stats = await kit.stats(id);
    const { entered, completed, waiting, exited } = stats.nodes.reply;
    assert.deepEqual(
      { entered, completed, waiting, exited },
      { entered: 3, completed: 2, waiting: 0, exited: 1 },
    );
    assert.equal(stats.exited, 0, 'the journey-wide exitOn counter is for exit events');
    assert.equal(stats.goal.conversions, 1);
    assertNodesAddUp(stats);
  });

  it('a failed webhook is entered and failed, and says why (connection refused)', async () => {
    const kit = await journeyTestKit();
    const id = await kit.failingWebhookJourney('hookfail');
    const userId = `u-${id}`;
    await enter(kit, id, [userId]);
    await kit.advance('PT5M');
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.call.entered, 1);
    assert.equal(stats.nodes.call.failed, 1);
    assert.equal(stats.failed, 1);
    assertNodesAddUp(stats);
    const profileId = await kit.profileId(userId);
    const timeline = await kit.api.get(`/profiles/${profileId}/timeline`);
    const failed = timeline.body.entries.find(
      (entry: { kind: string; outcome?: string }) =>
        entry.kind === 'journey-step' && entry.outcome === 'failed',
    );
    assert.ok(failed, JSON.stringify(timeline.body.entries));
    assert.match(failed.detail, /connection refused/);
    assert.doesNotMatch(failed.detail, /TypeError/);
  });
});
