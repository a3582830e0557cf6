import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNodesAddUp } from '../../support/stats.js';
import { journeyId, journeyTestKit } from './support.js';

/** Messages, timelines, removal from a journey, refused re-entries and archived ids on the local stack. */
describe('runtime API on the local stack', () => {
  it('message history reads sending, sent, delivered; /messages?journeyId= pages without a profile', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('msgs', { t: { subject: 'Hi', text: 'Hello' } }, (id) => ({
      trigger: { event: `Start ${id}` },
      reentry: 'always',
      start: 'hello',
      nodes: { hello: { type: 'email', template: `${id}-t`, next: 'done' }, done: { type: 'exit' } },
    }));
    const users = [1, 2, 3].map((i) => `u${i}-${id}`);
    for (const userId of users) await kit.identify(userId, { email: `${userId}@example.com` });
    for (const userId of users) await kit.track(userId, `Start ${id}`);
    await kit.advance('PT1M');

    const mine = await kit.api.get(`/messages?profileId=${await kit.profileId(users[0]!)}`);
    assert.equal(mine.status, 200);
    const statuses = mine.body.messages[0].history.map((entry: { status: string }) => entry.status);
    assert.ok(statuses.includes('delivered'), JSON.stringify(statuses));
    assert.ok(statuses.indexOf('sent') < statuses.indexOf('delivered'), JSON.stringify(statuses));

    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await kit.api.get(
        `/messages?journeyId=${id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.messages.length <= 2);
      for (const message of res.body.messages) {
        assert.equal(message.journeyId, id);
        seen.add(message.messageId);
      }
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    assert.equal(seen.size, 3, 'every customer’s message, once');
    assert.equal((await kit.api.get(`/messages?journeyId=${id}&limit=0`)).status, 400);
    assert.equal((await kit.api.get('/messages')).status, 400);
  });

  it('timeline?limit=N returns N entries, and the pages hold every entry once', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('tl', {}, (id) => ({
      trigger: { event: `Start ${id}` },
      reentry: 'always',
      start: 'step',
      nodes: {
        step: { type: 'update', set: { seen: true }, next: 'done' },
        done: { type: 'exit' },
      },
    }));
    const userId = `u-${id}`;
    for (let i = 0; i < 3; i++) await kit.track(userId, `Start ${id}`, { i });
    const profileId = await kit.profileId(userId);
    const all = await kit.api.get(`/profiles/${profileId}/timeline`);
    const total = all.body.entries.length;
    assert.ok(total > 6, `events and steps: ${total}`);
    const keys: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await kit.api.get(
        `/profiles/${profileId}/timeline?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(res.status, 200);
      assert.ok(res.body.entries.length <= 3, `page ${page}: ${res.body.entries.length} entries`);
      for (const entry of res.body.entries)
        keys.push(
          `${entry.kind}|${entry.at}|${entry.messageId ?? ''}|${entry.executionName ?? ''}|${entry.nodeId ?? ''}|${entry.outcome ?? ''}`,
        );
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    assert.equal(keys.length, total);
    assert.equal(new Set(keys).size, total);
  });

  it('DELETE /journeys/{id}/enrollments/{profileId} takes one customer out', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('remove', {}, (id) => ({
      trigger: { event: `Start ${id}` },
      start: 'pause',
      nodes: { pause: { type: 'wait', for: 'P1D', next: 'done' }, done: { type: 'exit' } },
    }));
    const [stay, leave] = [`stay-${id}`, `leave-${id}`];
    await kit.track(stay, `Start ${id}`);
    await kit.track(leave, `Start ${id}`);
    const profileId = await kit.profileId(leave);
    const removed = await kit.api.delete(`/journeys/${id}/enrollments/${profileId}`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.removed.length, 1);
    assert.equal((await kit.api.delete(`/journeys/${id}/enrollments/${profileId}`)).status, 404);
    assert.equal((await kit.api.delete(`/journeys/nope-${id}/enrollments/${profileId}`)).status, 404);
    await kit.advance('P2D');
    const stats = await kit.stats(id);
    assert.equal(stats.removed, 1);
    assert.equal(stats.finished, 1, 'the other customer went on');
    assert.deepEqual(
      [stats.nodes.pause.entered, stats.nodes.pause.completed, stats.nodes.pause.exited],
      [2, 1, 1],
    );
    assertNodesAddUp(stats);
    const timeline = await kit.api.get(`/profiles/${profileId}/timeline`);
    assert.ok(timeline.body.entries.some((entry: { outcome?: string }) => entry.outcome === 'removed'));
  });

  it('a trigger refused by the re-entry rule is counted and on the timeline, once', async () => {
    const kit = await journeyTestKit();
    const id = await kit.journey('refuse', {}, (id) => ({
      trigger: { event: `Start ${id}` },
      reentry: 'never',
      start: 'done',
      nodes: { done: { type: 'exit' } },
    }));
    const userId = `u-${id}`;
    await kit.track(userId, `Start ${id}`);
    const again = { messageId: `again-${id}`, timestamp: new Date(await kit.clockNow()).toISOString() };
    await kit.track(userId, `Start ${id}`, {}, again);
    // The same event delivered again records nothing more.
    await kit.api.post('/v1/track', { userId, event: `Start ${id}`, properties: {}, ...again });
    await kit.advance('PT1S');
    const stats = await kit.stats(id);
    assert.equal(stats.started, 1);
    assert.equal(stats.refused, 1);
    const profileId = await kit.profileId(userId);
    const timeline = await kit.api.get(`/profiles/${profileId}/timeline`);
    const refused = timeline.body.entries.filter(
      (entry: { outcome?: string }) => entry.outcome === 'refused',
    );
    assert.equal(refused.length, 1);
    assert.match(refused[0].detail, /re-entry never/);

    // Refused through the enrollment API: 409, and counted and shown the same way.
    const enroll = await kit.api.post(`/journeys/${id}/enrollments`, { profileId });
    assert.equal(enroll.status, 409, JSON.stringify(enroll.body));
    assert.equal((await kit.stats(id)).refused, 2);
    const after = (await kit.api.get(`/profiles/${profileId}/timeline`)).body.entries.filter(
      (entry: { outcome?: string }) => entry.outcome === 'refused',
    );
    assert.equal(after.length, 2);
    assert.ok(after.some((entry: { detail: string }) => /re-entry never: Enrolled/.test(entry.detail)));

    // A refused request retried with its idempotency key (later: another time) is counted once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const retried = await kit.api.post(`/journeys/${id}/enrollments`, { profileId, idempotencyKey: 'k-1' });
      assert.equal(retried.status, 409, JSON.stringify(retried.body));
      await kit.advance('PT1S');
    }
    assert.equal((await kit.stats(id)).refused, 3);
    const retries = (await kit.api.get(`/profiles/${profileId}/timeline`)).body.entries.filter(
      (entry: { outcome?: string }) => entry.outcome === 'refused',
    );
    assert.equal(retries.length, 3);
  });

  it('an archived journey keeps its id: saving a journey under it is refused with the reason', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('arch');
    const definition = {
      id,
      trigger: { event: `Start ${id}` },
      start: 'done',
      nodes: { done: { type: 'exit' } },
    };
    await kit.publish(definition);
    assert.equal((await kit.api.delete(`/journeys/${id}`)).status, 200);
    const again = await kit.api.put(`/journeys/${id}`, { name: id, ...definition });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /never reused/);
    assert.equal((await kit.api.post(`/journeys/${id}/publish`)).status, 409);
  });
});
