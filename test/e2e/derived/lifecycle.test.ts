import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueId, waitForIdle } from '../../support/local.js';
import { useStackApi } from '../api/client.js';

/** Lifecycle stages move with the virtual clock, publish their change, and are counted (issue #12). */
describe('lifecycle on the local stack', () => {
  const api = useStackApi();

  it('new → active → dormant as quiet days pass, each change an event in the timeline and a flow in GET /lifecycle', async () => {
    const userId = uniqueId('quiet');
    const lifecycleBefore = (await api.get('/lifecycle?days=1')).body;
    await api.post('/v1/track', { userId, event: 'Signed Up' });
    await waitForIdle(api.httpUrl);
    const profile = (await api.get(`/profiles?userId=${userId}`)).body;
    assert.equal(profile.stage, 'new');
    const counted = (await api.get('/lifecycle?days=1')).body;
    assert.equal(counted.now.new, (lifecycleBefore.now?.new ?? 0) + 1);

    const advanced = await api.post('/local/clock', { advance: 'P31D' });
    assert.equal(advanced.status, 200);
    await waitForIdle(api.httpUrl);
    const timeline = (await api.get(`/profiles/${profile.profileId}/timeline`)).body;
    const changes = (timeline.events ?? timeline.entries ?? [])
      .filter((e: { event?: string }) => e.event === 'Lifecycle Stage Changed')
      .map((e: { properties: { from: string; to: string } }) => `${e.properties.from}>${e.properties.to}`);
    assert.deepEqual(changes, ['new>active', 'active>dormant'], JSON.stringify(timeline).slice(0, 2000));
    const stored = (await api.get(`/profiles/${profile.profileId}`)).body;
    assert.equal(stored.stage, 'dormant');

    // Back from dormant: the event itself makes the customer active again.
    await api.post('/v1/track', { userId, event: 'Page Viewed' });
    await waitForIdle(api.httpUrl);
    assert.equal((await api.get(`/profiles/${profile.profileId}`)).body.stage, 'active');
    const report = (await api.get('/lifecycle?days=40')).body;
    const flows = report.days.flatMap((d: { flows: Record<string, number> }) => Object.keys(d.flows));
    for (const flow of ['+>new', 'new>active', 'active>dormant', 'dormant>active'])
      assert.ok(flows.includes(flow), flow);
    assert.equal((await api.get('/lifecycle?days=0')).status, 400);
  });
});
