import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueFields } from '../api/client.js';
import { journeyId, journeyTestKit, uniqueId, waitForIdle } from '../journeys/support.js';

/** Journeys and segments together (issue #12): segment triggers, branches on segments, update nodes. */

type Kit = Awaited<ReturnType<typeof journeyTestKit>>;

async function defineSegment(kit: Kit, id: string, where: Record<string, unknown>) {
  const put = await kit.api.put(`/segments/${id}`, { id, name: id, where });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  await waitForIdle(kit.httpUrl);
  assert.equal((await kit.api.get(`/segments/${id}`)).body.status, 'ready');
}

async function traitsOf(kit: Kit, userId: string): Promise<Record<string, unknown>> {
  const out = await kit.api.get(`/profiles?userId=${encodeURIComponent(userId)}`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.traits;
}

async function memberIds(kit: Kit, segmentId: string): Promise<string[]> {
  const out = await kit.api.get(`/segments/${segmentId}/members?limit=1000`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.members.map((m: { profileId: string }) => m.profileId);
}

/** A segment of the customers on a plan of their own (unique per test). */
async function planSegment(prefix: string) {
  const kit = await journeyTestKit();
  const segment = journeyId(prefix);
  const plan = uniqueId(prefix);
  await defineSegment(kit, segment, { traits: { plan: [plan] } });
  return { kit, segment, plan };
}

/** A journey whose one step is an update node: the traits it writes show that it ran, and how often. */
async function publishUpdate(
  kit: Kit,
  id: string,
  trigger: Record<string, unknown>,
  update: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  await kit.publish({
    id,
    trigger,
    ...extra,
    start: 'mark',
    nodes: { mark: { type: 'update', ...update, next: 'done' }, done: { type: 'exit' } },
  });
}

/** A lead score of its own: 40 fit points for a role of its own (what an update node sets). */
async function fitScore(kit: Kit, thresholds: Record<string, unknown>[] = []) {
  const score = uniqueId('fit').replace(/[^A-Za-z0-9_-]/g, '_');
  const role = uniqueId('CTO');
  const put = await kit.api.put(`/scores/${score}`, {
    fit: [{ points: 40, when: { traits: { role: [role] } } }],
    engagement: { rules: [{ event: uniqueId('Never'), points: 1 }] },
    ...(thresholds.length > 0 && { thresholds }),
  });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  return { score, role };
}

describe('journeys on segments (local stack)', () => {
  it('trigger { segment }: one execution per entry, the re-entry rule respected', async () => {
    const { kit, segment, plan } = await planSegment('vip');
    const once = journeyId('seg-once');
    const always = journeyId('seg-always');
    const entered = (id: string) => ({ increment: { [`entered_${id}`]: 1 } });
    await publishUpdate(kit, once, { segment }, entered(once), { reentry: 'never' });
    await publishUpdate(kit, always, { segment }, entered(always), { reentry: 'always' });
    const userId = uniqueId('u');
    await kit.identify(userId, { plan });
    await kit.identify(userId, { plan: 'other' });
    await kit.identify(userId, { plan });
    // Another event while a member is no new entry.
    await kit.identify(userId, { plan, colour: 'blue' });
    const traits = await traitsOf(kit, userId);
    assert.equal(traits[`entered_${once}`], 1, 'reentry: never');
    assert.equal(traits[`entered_${always}`], 2, 'reentry: always: one execution per entry');
    assert.equal((await kit.executions(always)).length, 2);
    assert.equal((await kit.stats(once)).nodes.mark.completed, 1);
  });

  it('trigger { segment, on: exit } starts on leaving; a Segment Entered event sent by an app starts nothing', async () => {
    const { kit, segment, plan } = await planSegment('trial');
    const onExit = journeyId('seg-exit');
    const onEntry = journeyId('seg-entry');
    await publishUpdate(kit, onExit, { segment, on: 'exit' }, { set: { [`ran_${onExit}`]: true } });
    await publishUpdate(kit, onEntry, { segment }, { set: { [`ran_${onEntry}`]: true } });
    const spoofer = uniqueId('u');
    await kit.track(spoofer, 'Segment Entered', { segment });
    await kit.track(spoofer, 'Segment Exited', { segment });
    assert.equal((await kit.executions(onEntry)).length, 0);
    assert.equal((await kit.executions(onExit)).length, 0);

    const userId = uniqueId('u');
    await kit.identify(userId, { plan });
    assert.equal(
      (await traitsOf(kit, userId))[`ran_${onExit}`],
      undefined,
      'entered: the exit journey waits',
    );
    assert.equal((await traitsOf(kit, userId))[`ran_${onEntry}`], true);
    await kit.identify(userId, { plan: 'paid' });
    assert.equal((await traitsOf(kit, userId))[`ran_${onExit}`], true);
  });

  it('a window passing (virtual clock) enters the customer and starts the segment journey', async () => {
    const kit = await journeyTestKit();
    const segment = journeyId('quiet');
    const event = uniqueId('Quiet Ping');
    // Performed the event, and not again within P3D: entered by time, when the window passes.
    await defineSegment(kit, segment, {
      all: [{ performed: { event } }, { not: { performed: { event, within: 'P3D' } } }],
    });
    const id = journeyId('seg-time');
    await publishUpdate(kit, id, { segment }, { set: { winBack: true } });
    const userId = uniqueId('u');
    await kit.track(userId, event);
    assert.equal((await traitsOf(kit, userId)).winBack, undefined);
    await kit.advance('P4D');
    assert.equal((await traitsOf(kit, userId)).winBack, true);
  });

  it('branch when { segment } routes on membership; an update node moves the customer into a segment', async () => {
    const kit = await journeyTestKit();
    const segment = journeyId('gold');
    const tier = uniqueId('gold');
    await defineSegment(kit, segment, { traits: { tier: [tier] } });
    const follow = journeyId('seg-follow');
    await publishUpdate(kit, follow, { segment }, { set: { followed: true } });
    const event = uniqueId('Checkout');
    const id = journeyId('seg-branch');
    await kit.publish({
      id,
      trigger: { event },
      reentry: 'always',
      start: 'route',
      nodes: {
        route: { type: 'branch', cases: [{ when: { segment }, next: 'member' }], default: 'promote' },
        member: { type: 'update', increment: { memberPath: 1 }, next: 'done' },
        promote: { type: 'update', set: { tier }, next: 'done' },
        done: { type: 'exit' },
      },
    });
    const userId = uniqueId('u');
    await kit.track(userId, event);
    await waitForIdle(kit.httpUrl);
    const profileId = await kit.profileId(userId);
    let traits = await traitsOf(kit, userId);
    assert.equal(traits.tier, tier, 'not a member: default path, whose update node sets the tier');
    assert.equal(traits.memberPath, undefined);
    assert.deepEqual(await memberIds(kit, segment), [profileId], 'the update node moved it into the segment');
    assert.equal(traits.followed, true, 'and that entry started the segment journey');
    await kit.track(userId, event);
    await waitForIdle(kit.httpUrl);
    traits = await traitsOf(kit, userId);
    assert.equal(traits.memberPath, 1, 'a member now: the segment case');
    const stats = await kit.stats(id);
    assert.equal(stats.nodes.member.completed, 1);
    assert.equal(stats.nodes.promote.completed, 1);
  });

  it('an update node keeps derived values current: a fit score moves and a score segment follows', async () => {
    const kit = await journeyTestKit();
    const { score, role } = await fitScore(kit);
    const segment = journeyId('fit');
    await defineSegment(kit, segment, { score: { [score]: { fit: { '>=': 40 } } } });
    const event = uniqueId('Promote');
    const id = journeyId('seg-fit');
    await publishUpdate(kit, id, { event }, { set: { role } });
    const userId = uniqueId('u');
    await kit.track(userId, event);
    await waitForIdle(kit.httpUrl);
    const profileId = await kit.profileId(userId);
    const profile = await kit.api.get(`/profiles/${profileId}`);
    assert.equal(profile.body.scores[score].fit, 40, JSON.stringify(profile.body.scores));
    assert.deepEqual(await memberIds(kit, segment), [profileId]);
    assert.equal((await kit.api.request('DELETE', `/segments/${segment}`)).status, 200);
    assert.equal((await kit.api.request('DELETE', `/scores/${score}`)).status, 200);
  });

  it('a threshold an update node crosses emits Lead Score Threshold Crossed, which starts the journey on it', async () => {
    const kit = await journeyTestKit();
    const { score, role } = await fitScore(kit, [{ name: 'sales-ready', when: { fit: { '>=': 40 } } }]);
    // Sales gets the lead (a webhook in real life; an update node shows here that it ran, and how often).
    const handOff = journeyId('to-sales');
    await publishUpdate(
      kit,
      handOff,
      {
        event: 'Lead Score Threshold Crossed',
        where: { properties: { score: [score], threshold: ['sales-ready'] } },
      },
      { increment: { handedToSales: 1 } },
    );
    const event = uniqueId('Qualify');
    await publishUpdate(kit, journeyId('qualify'), { event }, { set: { role } });
    const userId = uniqueId('u');
    await kit.track(userId, event);
    await waitForIdle(kit.httpUrl);
    const profileId = await kit.profileId(userId);
    const timeline = await kit.api.get(`/profiles/${profileId}/timeline?limit=100`);
    const crossed = JSON.stringify(timeline.body).match(/Lead Score Threshold Crossed/g) ?? [];
    assert.equal(crossed.length > 0, true, 'the crossing is on the timeline as an event');
    assert.equal((await traitsOf(kit, userId)).handedToSales, 1);
    assert.equal((await kit.api.request('DELETE', `/scores/${score}`)).status, 200);
  });

  it('refuses a journey naming an unknown segment, with the path', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('seg-bad');
    const out = await kit.api.put(`/journeys/${id}`, {
      id,
      name: id,
      trigger: { segment: 'no-such-segment', on: 'sometimes' },
      start: 'route',
      nodes: {
        route: {
          type: 'branch',
          cases: [{ when: { segment: 'nor-this-one' }, next: 'done' }],
          default: 'done',
        },
        done: { type: 'exit' },
      },
    });
    assert.equal(out.status, 400, JSON.stringify(out.body));
    assert.deepEqual(issueFields(out).sort(), [
      'nodes.route.cases[0].when.segment',
      'trigger.on',
      'trigger.segment',
    ]);
  });
});
