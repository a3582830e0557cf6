import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockQueue, clockScheduler } from '../../../infra/local/broadcasts.js';
import { createVirtualClock } from '../../../infra/local/stepfunctions/clock.js';
import { MemoryBroadcastStore } from '../../../shared/broadcasts/memory.js';
import { type BroadcastDeps, createBroadcasts } from '../../../shared/broadcasts/service.js';
import type { JourneyEntryRules } from '../../../shared/catalog/active.js';
import { ServiceUnavailableError, ValidationError } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/log.js';
import { MemorySegmentMembership } from '../../../shared/segments/memory.js';

const start = Date.parse('2026-12-03T12:00:00Z');
const second = 1000;
const hour = 3600 * second;

/**
 * Broadcasts on the local stand-ins: the virtual clock drives the scheduler and the slot queue, an
 * in-memory segment and store, and an `enter` that behaves like Step Functions with deterministic
 * names: a second start of the same (run, profile) is the same execution, not a new one.
 */
function setup(options: { reentry?: JourneyEntryRules['reentry']; zones?: Record<string, string> } = {}) {
  const clock = createVirtualClock({ timeScale: 0, start });
  const membership = new MemorySegmentMembership();
  const store = new MemoryBroadcastStore();
  const journey: JourneyEntryRules = {
    id: 'digest',
    version: 1,
    status: 'active',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:cairn-digest',
    reentry: options.reentry ?? 'always',
  };
  const executions = new Map<string, number>(); // `${runAt}/${profileId}` → virtual time started
  const entered: { profileId: string; runAt: string; at: number }[] = [];
  let failNext = 0;
  const zones = options.zones ?? {};
  const deps: BroadcastDeps = {
    store,
    membership,
    journeys: { getJourney: async (id) => (id === journey.id ? journey : undefined) },
    timezones: async (ids) => new Map(ids.map((id) => [id, zones[id]])),
    async enter(_journey, profileId, entry) {
      if (failNext > 0) {
        failNext--;
        throw new ServiceUnavailableError('throttled');
      }
      const name = `${entry.runAt}/${profileId}`;
      if (executions.has(name)) return { entered: true };
      if (journey.reentry === 'never' && entered.some((e) => e.profileId === profileId))
        return { entered: false, reason: 'reentry' };
      executions.set(name, clock.now());
      entered.push({ profileId, runAt: entry.runAt, at: clock.now() });
      return { entered: true };
    },
    scheduler: clockScheduler(clock, (firing) => broadcasts.fire(firing)),
    queue: clockQueue(clock, (slot) => broadcasts.startSlot(slot), { visibilityMs: 30 * second }),
    clock,
    ids: {
      next: (() => {
        let n = 0;
        return () => `b${++n}`;
      })(),
    },
    log: memoryLogger(),
  };
  const broadcasts = createBroadcasts(deps);
  const members = (n: number, prefix = 'p') =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(3, '0')}`, '2026-11-01T00:00:00Z']),
    );
  return {
    clock,
    membership,
    journey,
    broadcasts,
    entered,
    executions,
    queue: deps.queue as ReturnType<typeof clockQueue>,
    members,
    failNextEntries: (n: number) => {
      failNext = n;
    },
    advance: async (ms: number) => clock.advance(ms),
  };
}

describe('one-off broadcasts', () => {
  test('now: every member enters at once and the broadcast is done with exact counters', async () => {
    const t = setup();
    t.membership.define('readers', t.members(5));
    const created = await t.broadcasts.create('digest', { segment: 'readers' });
    assert.deepEqual(created, { broadcastId: 'b1', status: 'scheduled', audience: 5 });
    await t.advance(second);
    const view = await t.broadcasts.get('b1');
    assert.equal(view.status, 'done');
    assert.deepEqual([view.audience, view.entered, view.skipped, view.failed], [5, 5, 0, 0]);
    assert.equal(view.runs.length, 1);
    assert.equal(view.runs[0]!.runAt, new Date(start).toISOString());
    assert.equal(t.entered.length, 5);
  });

  test('later: nobody enters before `at`, everybody right after', async () => {
    const t = setup();
    t.membership.define('readers', t.members(3));
    await t.broadcasts.create('digest', { segment: 'readers', at: '2026-12-03T13:00:00Z' });
    await t.advance(59 * 60 * second);
    assert.equal((await t.broadcasts.get('b1')).status, 'scheduled');
    assert.equal((await t.broadcasts.get('b1')).nextRunAt, '2026-12-03T13:00:00.000Z');
    assert.equal(t.entered.length, 0);
    await t.advance(2 * 60 * second);
    assert.equal((await t.broadcasts.get('b1')).status, 'done');
    assert.ok(t.entered.every((e) => e.at >= Date.parse('2026-12-03T13:00:00Z')));
    assert.equal(t.entered.length, 3);
  });
});

test('local time across three zones: each zone enters at 09:00 its own time, one schedule per zone', async () => {
  const zones = { tokyo: 'Asia/Tokyo', paris: 'Europe/Paris', ny: 'America/New_York', nozone: '' };
  const t = setup({ zones });
  t.membership.define(
    'readers',
    Object.fromEntries(Object.keys(zones).map((id) => [id, '2026-11-01T00:00:00Z'])),
  );
  await t.broadcasts.create('digest', {
    segment: 'readers',
    localTime: { time: '09:00', date: '2026-12-04' },
    fallbackTimezone: 'Europe/Paris',
  });
  await t.advance(second); // the plan step finds the zones
  const planned = await t.broadcasts.get('b1');
  assert.deepEqual(planned.status, 'scheduled');
  // 09:00 Tokyo = 00:00 UTC
  await t.advance(Date.parse('2026-12-04T00:00:01Z') - t.clock.now());
  assert.deepEqual(
    t.entered.map((e) => e.profileId),
    ['tokyo'],
  );
  // 09:00 Paris = 08:00 UTC: Paris and the member without a zone (fallback Paris)
  await t.advance(Date.parse('2026-12-04T07:59:00Z') - t.clock.now());
  assert.equal(t.entered.length, 1);
  await t.advance(2 * 60 * second);
  assert.deepEqual(t.entered.map((e) => e.profileId).sort(), ['nozone', 'paris', 'tokyo']);
  // 09:00 New York = 14:00 UTC
  await t.advance(Date.parse('2026-12-04T14:00:01Z') - t.clock.now());
  const view = await t.broadcasts.get('b1');
  assert.equal(view.status, 'done');
  assert.deepEqual(view.runs, [
    { runAt: '2026-12-04T09:00', audience: 4, entered: 4, skipped: 0, failed: 0, reasons: {} },
  ]);
  assert.ok(t.entered.every((e) => e.runAt === '2026-12-04T09:00'));
});

test('recurring every day until a date: one run per day, then done; reentry never skips the second run', async () => {
  const t = setup({ reentry: 'never' });
  t.membership.define('readers', t.members(2));
  await t.broadcasts.create('digest', {
    segment: 'readers',
    at: '2026-12-04T09:00:00Z',
    recurrence: { every: 'P1D', until: '2026-12-06T12:00:00Z' },
  });
  await t.advance(4 * 24 * hour);
  const view = await t.broadcasts.get('b1');
  assert.equal(view.status, 'done');
  assert.deepEqual(
    view.runs.map((r) => [r.runAt, r.entered, r.skipped, r.reasons]),
    [
      ['2026-12-04T09:00:00.000Z', 2, 0, {}],
      ['2026-12-05T09:00:00.000Z', 0, 2, { reentry: 2 }],
      ['2026-12-06T09:00:00.000Z', 0, 2, { reentry: 2 }],
    ],
  );
});

test('recurring on a cron in a zone: the next run follows the cron', async () => {
  const t = setup();
  t.membership.define('readers', t.members(1));
  await t.broadcasts.create('digest', {
    segment: 'readers',
    at: '2026-12-04T09:00:00Z',
    recurrence: { cron: '0 9 * * MON', until: '2026-12-20T00:00:00Z' },
  });
  await t.advance(20 * 24 * hour);
  // 2026-12-04 is a Friday; Mondays 09:00 UTC after it: the 7th and the 14th.
  assert.deepEqual(
    (await t.broadcasts.get('b1')).runs.map((r) => r.runAt),
    ['2026-12-04T09:00:00.000Z', '2026-12-07T09:00:00.000Z', '2026-12-14T09:00:00.000Z'],
  );
});

test('the rate limit holds: at most ratePerSecond entries per virtual second', async () => {
  const t = setup();
  t.membership.define('readers', t.members(10));
  await t.broadcasts.create('digest', { segment: 'readers', ratePerSecond: 3 });
  for (let i = 0; i < 5; i++) await t.advance(second);
  const perSecond = new Map<number, number>();
  for (const e of t.entered)
    perSecond.set(Math.floor(e.at / second), (perSecond.get(Math.floor(e.at / second)) ?? 0) + 1);
  assert.deepEqual([...perSecond.values()], [3, 3, 3, 1]);
  assert.equal((await t.broadcasts.get('b1')).status, 'done');
});

test('the rate limit holds across zones whose 09:00 is the same instant (Paris and Berlin share the rate)', async () => {
  const zones = Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [
      `p${String(i).padStart(3, '0')}`,
      i % 2 ? 'Europe/Berlin' : 'Europe/Paris',
    ]),
  );
  const t = setup({ zones });
  t.membership.define('readers', t.members(10));
  await t.broadcasts.create('digest', {
    segment: 'readers',
    localTime: { time: '09:00', date: '2026-12-04' },
    ratePerSecond: 3,
  });
  await t.advance(Date.parse('2026-12-04T08:00:00Z') - t.clock.now());
  for (let i = 0; i < 10; i++) await t.advance(second);
  const perSecond = new Map<number, number>();
  for (const e of t.entered)
    perSecond.set(Math.floor(e.at / second), (perSecond.get(Math.floor(e.at / second)) ?? 0) + 1);
  assert.equal(t.entered.length, 10);
  assert.ok(
    [...perSecond.values()].every((n) => n <= 3),
    `starts per virtual second: ${[...perSecond.values()].join(', ')}`,
  );
  assert.equal((await t.broadcasts.get('b1')).status, 'done');
});

test('a slot reserved beyond the queue delay waits in the queue for the rest of it', async () => {
  const t = setup();
  t.membership.define('readers', t.members(4));
  await t.broadcasts.create('digest', { segment: 'readers', ratePerSecond: 2 });
  await t.advance(second);
  const early = await t.broadcasts.startSlot({
    broadcastId: 'b1',
    runKey: new Date(start).toISOString(),
    slotId: '*:9',
    profileIds: ['p000'],
    notBefore: t.clock.now() + 1200 * second,
  });
  assert.equal(early, 'requeued');
  assert.equal(t.entered.length, 4, 'nobody entered early');
});

test('cancel mid-run: members not yet entered are not entered, and the plan stops', async () => {
  const t = setup();
  t.membership.define('readers', t.members(10));
  await t.broadcasts.create('digest', { segment: 'readers', ratePerSecond: 2, recurrence: { every: 'P1D' } });
  await t.advance(1500);
  const before = t.entered.length;
  assert.ok(before >= 2 && before < 10, `entered ${before}`);
  const cancelled = await t.broadcasts.cancel('b1');
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.nextRunAt, undefined);
  await t.advance(3 * 24 * hour);
  assert.equal(t.entered.length, before);
  assert.equal((await t.broadcasts.get('b1')).status, 'cancelled');
});

test('a retried slot enters nobody twice and counts each member once', async () => {
  const t = setup();
  t.membership.define('readers', t.members(4));
  await t.broadcasts.create('digest', { segment: 'readers', ratePerSecond: 4 });
  t.failNextEntries(0);
  // The third entry of the slot is throttled: the slot fails after entering two, and is redelivered.
  let calls = 0;
  const original = t.executions.set.bind(t.executions);
  t.executions.set = (key, value) => {
    calls++;
    if (calls === 3) t.failNextEntries(1);
    return original(key, value);
  };
  await t.advance(60 * second);
  const view = await t.broadcasts.get('b1');
  assert.equal(t.queue.deliveries, 2, 'the slot was delivered twice');
  assert.equal(t.executions.size, 4);
  assert.deepEqual([view.entered, view.skipped, view.failed, view.status], [4, 0, 0, 'done']);
});

test('a member who left the segment before their turn is skipped with the reason', async () => {
  const t = setup();
  t.membership.define('readers', t.members(3));
  await t.broadcasts.create('digest', { segment: 'readers', ratePerSecond: 1 });
  await t.advance(500);
  t.membership.exit('readers', 'p002');
  await t.advance(5 * second);
  const view = await t.broadcasts.get('b1');
  assert.deepEqual([view.audience, view.entered, view.skipped], [3, 2, 1]);
  assert.deepEqual(view.runs[0]!.reasons, { left_segment: 1 });
});

test('bad input: every problem with its field path', async () => {
  const t = setup();
  t.membership.define('readers', t.members(1));
  const paths = async (journeyId: string, body: unknown) => {
    try {
      await t.broadcasts.create(journeyId, body);
    } catch (error) {
      assert.ok(error instanceof ValidationError, String(error));
      return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    }
    return [];
  };
  assert.deepEqual(await paths('digest', { segment: 'nope' }), ['segment: no segment nope']);
  assert.deepEqual(await paths('unpublished', { segment: 'readers' }), [
    'journey: journey unpublished is not published and active',
  ]);
  const many = await paths('digest', {
    segment: 'readers',
    at: '2026-12-01T09:00:00Z',
    fallbackTimezone: 'Mars/Olympus',
    recurrence: { cron: '0 25 * * *' },
    ratePerSecond: 0,
    colour: 'red',
  });
  assert.deepEqual(
    many.map((line) => line.split(':')[0]),
    ['colour', 'at', 'fallbackTimezone', 'recurrence.cron', 'ratePerSecond'],
  );
  assert.deepEqual(
    (await paths('digest', { segment: 'readers', localTime: { time: '9am', date: '2026-12-04' } })).map(
      (line) => line.split(':')[0],
    ),
    ['localTime.time'],
  );
  assert.deepEqual(
    (await paths('digest', { segment: 'readers', recurrence: { every: 'P1D', cron: '* * * * *' } })).map(
      (line) => line.split(':')[0],
    ),
    ['recurrence'],
  );
});
