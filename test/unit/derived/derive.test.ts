import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import {
  createDeriver,
  type DerivedDefinitions,
  defaultChurnModel,
  defaultLifecycle,
  emptyDefinitions,
  lifecycleEvent,
  prepare,
  scoreDefinitionSchema,
  thresholdEvent,
  traitDefinitionSchema,
} from '../../../shared/derived/index.js';
import { parseMessage } from '../../../shared/events/index.js';
import {
  type IngestDeps,
  ingestMessage,
  MemoryProfileStore,
  toProfileJson,
} from '../../../shared/profiles/index.js';
import { profileAccess } from '../../../shared/runtime/profiles.js';

const day = 86_400_000;

function setup(definitions: Partial<DerivedDefinitions> = {}) {
  let n = 0;
  const clock = new ManualClock(Date.parse('2026-05-01T00:00:00.000Z'));
  const ids = { next: () => `id-${++n}` };
  const store = new MemoryProfileStore();
  const deriving = prepare({ ...emptyDefinitions, ...definitions });
  const deriver = createDeriver(async () => deriving);
  const deps: IngestDeps = { store, clock, ids, deriver, retry: { baseDelayMs: 0, maxDelayMs: 0 } };
  const ingest = (input: Record<string, unknown>) =>
    ingestMessage(
      parseMessage({ timestamp: new Date(clock.now()).toISOString(), ...input }, { clock, ids }),
      deps,
    );
  const refresh = async (profileId: string) => {
    const profile = (await store.readProfile(profileId))!;
    return (await deriver.derive({ profile, before: profile, merged: [], now: clock.now() })).profile;
  };
  return { clock, store, ingest, deriver, refresh };
}

const traits = [
  { id: 'ordersLast90d', event: 'Order Completed', aggregate: 'count', within: 'P90D' },
  { id: 'totalSpend', event: 'Order Completed', aggregate: 'sum', property: 'properties.total' },
  { id: 'lastOrderAt', event: 'Order Completed', aggregate: 'latest' },
  {
    id: 'favouriteCategory',
    event: 'Order Completed',
    aggregate: 'mostFrequent',
    property: 'properties.category',
  },
].map((t) => traitDefinitionSchema.parse(t));

describe('computed traits', () => {
  test('count, sum, latest and most frequent follow the events, in the same write as the event', async () => {
    const { ingest, store, clock } = setup({ traits });
    const order = (total: number, category: string) =>
      ingest({ type: 'track', userId: 'u1', event: 'Order Completed', properties: { total, category } });
    await order(10.1, 'shoes');
    clock.advance(day);
    await order(20.2, 'hats');
    clock.advance(day);
    const last = await order(5, 'shoes');
    assert.deepEqual(last.profile!.computed, {
      ordersLast90d: 3,
      totalSpend: 35.3,
      lastOrderAt: '2026-05-03T00:00:00.000Z',
      favouriteCategory: 'shoes',
    });
    const calls = { ...store.calls };
    await ingest({ type: 'track', userId: 'u1', event: 'Page Viewed' });
    // Deriving adds no request: lookup, read, commit as without it.
    assert.equal(store.calls.commit, (calls.commit ?? 0) + 1);
    assert.equal(store.calls.readProfile, (calls.readProfile ?? 0) + 1);
  });

  test('a count over P90D drops when an order falls out of the window, with no new event', async () => {
    const { ingest, clock, refresh } = setup({ traits });
    const first = await ingest({
      type: 'track',
      userId: 'u1',
      event: 'Order Completed',
      properties: { total: 1 },
    });
    clock.advance(10 * day);
    await ingest({ type: 'track', userId: 'u1', event: 'Order Completed', properties: { total: 1 } });
    const id = first.profileId;
    clock.advance(81 * day);
    assert.equal((await refresh(id)).computed?.ordersLast90d, 1);
    assert.equal((await refresh(id)).computed?.totalSpend, 2, 'no window: the sum keeps both');
    clock.advance(10 * day);
    assert.equal((await refresh(id)).computed?.ordersLast90d, 0);
  });
});

describe('lifecycle stages', () => {
  test('new, active, dormant, churned at each boundary; a change emits Lifecycle Stage Changed', async () => {
    const { ingest, clock, refresh } = setup({ lifecycle: defaultLifecycle });
    const first = await ingest({ type: 'track', userId: 'u1', event: 'Signed Up' });
    assert.equal(first.profile!.stage, 'new');
    const id = first.profileId;
    assert.equal((first.profile!.derived as { dueAt?: number }).dueAt, clock.now() + 7 * day);
    clock.advance(7 * day - 1);
    assert.equal((await refresh(id)).stage, 'new');
    clock.advance(1);
    const active = await refresh(id);
    assert.equal(active.stage, 'active');
    assert.deepEqual(
      (active.derived as { emit?: unknown[] }).emit?.map(
        (e) => (e as { event: string; properties: unknown }).properties,
      ),
      [{ from: 'new', to: 'active' }],
    );
    clock.advance(23 * day); // day 30 after the only event
    assert.equal((await refresh(id)).stage, 'dormant');
    clock.advance(60 * day - 1);
    assert.equal((await refresh(id)).stage, 'dormant');
    clock.advance(1); // day 90
    assert.equal((await refresh(id)).stage, 'churned');
  });

  test('an event makes a dormant customer active; Cairn’s own messages do not', async () => {
    const { ingest, clock } = setup();
    await ingest({ type: 'track', userId: 'u1', event: 'Signed Up' });
    clock.advance(40 * day);
    const cairn = await ingest({
      type: 'identify',
      userId: 'u1',
      traits: { plan: 'pro' },
      context: { cairn: { journeyId: 'j' } },
    });
    assert.equal(cairn.profile!.stage, 'dormant');
    const back = await ingest({ type: 'track', userId: 'u1', event: 'Page Viewed' });
    assert.equal(back.profile!.stage, 'active');
    const emitted = (back.profile!.derived as { emit?: { event: string; properties: unknown }[] }).emit ?? [];
    assert.deepEqual(
      emitted.map((e) => [e.event, e.properties]),
      [[lifecycleEvent, { from: 'dormant', to: 'active' }]],
    );
    assert.deepEqual(toProfileJson(back.profile!).stage, 'active');
  });
});

const engagement = (profile: { scores?: Record<string, unknown> } | null) =>
  (profile?.scores?.lead as { engagement: number } | undefined)?.engagement;

describe('lead score', () => {
  const lead = scoreDefinitionSchema.parse({
    id: 'lead',
    fit: [
      { points: 20, when: { traits: { companySize: [{ numeric: ['>=', 50] }] } } },
      { points: 10, when: { email: { freeMail: [false] } } },
    ],
    engagement: {
      rules: [
        { event: 'Page Viewed', points: 5 },
        { event: 'Demo Requested', points: 30 },
      ],
      cap: { points: 40, per: 'P1D' },
      decay: { rate: 0.1, every: 'P1W' },
    },
    thresholds: [{ name: 'sales-ready', when: { fit: { '>=': 30 }, engagement: { '>=': 30 } } }],
  });

  test('fit from traits, engagement capped per period and decaying 10% a week; crossing emits once', async () => {
    const { ingest, clock, refresh } = setup({ scores: [lead] });
    const who = await ingest({
      type: 'identify',
      userId: 'u1',
      traits: { email: 'ann@acme.io', companySize: 120 },
    });
    assert.deepEqual(who.profile!.scores?.lead, { fit: 30, engagement: 0, total: 30 });
    await ingest({ type: 'track', userId: 'u1', event: 'Page Viewed' });
    const demo = await ingest({ type: 'track', userId: 'u1', event: 'Demo Requested' });
    assert.deepEqual(demo.profile!.scores?.lead, { fit: 30, engagement: 35, total: 65 });
    const crossed = (
      demo.profile!.derived as { emit?: { event: string; properties: Record<string, unknown> }[] }
    ).emit!;
    assert.deepEqual(
      crossed.map((e) => [e.event, e.properties.threshold]),
      [[thresholdEvent, 'sales-ready']],
    );
    // Capped at 40 a day: 35 + 5 = 40, then nothing more today.
    clock.advance(60_000);
    await ingest({ type: 'track', userId: 'u1', event: 'Page Viewed' });
    const capped = await ingest({ type: 'track', userId: 'u1', event: 'Demo Requested' });
    assert.equal(engagement(capped.profile), 40);
    assert.equal(
      (capped.profile!.derived as { emit?: unknown }).emit,
      undefined,
      'already met: no second crossing',
    );
    clock.advance(7 * day);
    assert.equal(engagement(await refresh(who.profileId)), 36);
    clock.advance(7 * day);
    assert.equal(engagement(await refresh(who.profileId)), 32.4);
  });

  test('a free-mail address earns no domain points', async () => {
    const { ingest } = setup({ scores: [lead] });
    const who = await ingest({ type: 'identify', userId: 'u2', traits: { email: 'bob@gmail.com' } });
    assert.deepEqual(who.profile!.scores?.lead, { fit: 0, engagement: 0, total: 0 });
  });
});

describe('churn risk', () => {
  test('regular buyers score low, buyers silent for long score high; none before a transaction', async () => {
    const { ingest, clock, refresh } = setup({ churn: { ...defaultChurnModel, event: 'Order Completed' } });
    const start = clock.now();
    const silent = await ingest({ type: 'track', userId: 'silent', event: 'Order Completed' });
    assert.equal(silent.profile!.scores?.churnRisk, 0, 'one transaction: BG/NBD counts the customer alive');
    const visitor = await ingest({ type: 'track', userId: 'visitor', event: 'Page Viewed' });
    assert.equal(visitor.profile!.scores?.churnRisk, null);
    // Both buy weekly for 10 weeks; then only `regular` goes on, for 30 more weeks.
    let regular = '';
    for (let week = 1; week <= 40; week++) {
      clock.set(start + week * 7 * day);
      if (week <= 10) await ingest({ type: 'track', userId: 'silent', event: 'Order Completed' });
      regular = (await ingest({ type: 'track', userId: 'regular', event: 'Order Completed' })).profileId;
    }
    const risk = async (id: string) => (await refresh(id)).scores?.churnRisk as number;
    assert.ok((await risk(regular)) < 0.05, `regular: ${await risk(regular)}`);
    assert.ok((await risk(silent.profileId)) > 0.9, `silent: ${await risk(silent.profileId)}`);
  });
});

describe("an update node's change (profileAccess) has ingest's effects", () => {
  const fitOnly = scoreDefinitionSchema.parse({
    id: 'lead',
    fit: [{ points: 40, when: { traits: { role: ['CTO'] } } }],
    engagement: { rules: [{ event: 'Demo Requested', points: 30 }] },
    thresholds: [{ name: 'sales-ready', when: { fit: { '>=': 40 } } }],
  });

  test('publishes the stage change and the threshold crossed, once per change even when the step is retried', async () => {
    const { ingest, clock, store, deriver } = setup({ scores: [fitOnly], lifecycle: defaultLifecycle });
    const first = await ingest({ type: 'track', userId: 'u1', event: 'Signed Up' });
    // Forty quiet days and no timer refresh yet: the update's write is the one that sees `dormant`.
    clock.advance(40 * day);
    const published: { messageId: string; event?: string; properties?: Record<string, unknown> }[] = [];
    const access = profileAccess({
      store,
      clock,
      deriver,
      publish: async (messages) => void published.push(...messages),
    });
    const origin = {
      messageId: 'step-exec-1-qualify',
      journeyId: 'qualify',
      nodeId: 'mark',
      executionName: 'exec-1',
    };
    await access.updateTraits(first.profileId, { set: { role: 'CTO' }, increment: {} }, origin);
    assert.deepEqual(
      published.map((m) => [m.event, m.properties?.to ?? m.properties?.threshold]),
      [
        [lifecycleEvent, 'dormant'],
        [thresholdEvent, 'sales-ready'],
      ],
    );
    // A retried step (its first attempt wrote, then failed before publishing) publishes the same ids.
    await access.updateTraits(first.profileId, { set: { role: 'CTO' }, increment: {} }, origin);
    assert.deepEqual(
      published.slice(2).map((m) => m.messageId),
      published.slice(0, 2).map((m) => m.messageId),
    );
  });
});
