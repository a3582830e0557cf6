import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JourneyEntryRules } from '../../../shared/catalog/active.js';
import { ManualClock } from '../../../shared/clock.js';
import { ConflictError, NotFoundError } from '../../../shared/errors.js';
import { stableHash } from '../../../shared/ids.js';
import { memoryLogger } from '../../../shared/log.js';
import { fakeExecutions, memoryRuntimeStore } from '../../../shared/runtime/memory.js';
import { createJourneyReactor } from '../../../shared/runtime/reactor.js';
import type { RuntimeEvent, RuntimeProfile } from '../../../shared/runtime/types.js';

const arn = (id: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:cairn-${id}:1`;

function journey(overrides: Partial<JourneyEntryRules> = {}): JourneyEntryRules {
  return {
    id: 'cart',
    version: 1,
    status: 'active',
    stateMachineArn: arn('cart'),
    trigger: { event: 'Product Added', where: { properties: { price: [{ numeric: ['>', 0] }] } } },
    reentry: 'always',
    ...overrides,
  };
}

/** A profile the fake findProfile finds by id or by userId. */
type KnownProfile = RuntimeProfile & { identities?: { userId: string[] } };

function setup(journeys: JourneyEntryRules[], profiles: KnownProfile[] = []) {
  const store = memoryRuntimeStore();
  const executions = fakeExecutions();
  const clock = new ManualClock();
  let n = 0;
  const reactor = createJourneyReactor({
    journeys: {
      listActiveJourneys: async () => journeys,
      getJourney: async (id) => journeys.find((j) => j.id === id),
      getVersion: async (id, version) =>
        journeys.find((j) => j.id === id && j.version === version)?.definition,
    },
    executions,
    store,
    clock,
    ids: { next: () => `id${++n}` },
    executionName: (id, version, profileId, key) =>
      `${id}-v${version}-${stableHash(profileId, key).slice(0, 16)}`,
    findProfile: async (who) =>
      profiles.find((p) => p.profileId === who.profileId || p.identities?.userId?.includes(who.userId ?? '')),
    cacheTtlMs: 60_000,
    log: memoryLogger(),
  });
  return { store, executions, clock, reactor };
}

const profile: KnownProfile = { profileId: 'p1', identities: { userId: ['u1'] } };
let seq = 0;
function track(
  event: string,
  properties: Record<string, unknown> = {},
  extra: Partial<RuntimeEvent> = {},
): RuntimeEvent {
  return { type: 'track', event, messageId: `m${++seq}`, properties, userId: 'u1', ...extra };
}

describe('event reactor: entry', () => {
  it('starts a journey whose trigger and where match, with the execution input the steps read', async () => {
    const { reactor, executions, store } = setup([journey()]);
    const out = await reactor.onEvent({
      profile,
      event: track('Product Added', { price: 10, cartId: 'c1' }),
    });
    assert.equal(out.started.length, 1);
    assert.equal(executions.started.length, 1);
    const input = executions.started[0]!.input as Record<string, unknown>;
    assert.equal(input.profileId, 'p1');
    // Ids only in the input (Step Functions keeps it in the history); the properties beside the execution.
    assert.deepEqual(input.entry, {
      event: 'Product Added',
      messageId: (input.entry as { messageId: string }).messageId,
      properties: {},
      stored: true,
    });
    assert.deepEqual(store.entryData.get(out.started[0]!), { price: 10, cartId: 'c1' });
    assert.equal(store.presence.size, 1);
    assert.equal((await store.readStats('cart'))['journey|started'], 1);
  });

  it('does not start when where does not match, the event differs, or the journey is paused', async () => {
    const { reactor, executions } = setup([
      journey(),
      journey({ id: 'paused', status: 'paused', stateMachineArn: arn('p') }),
    ]);
    await reactor.onEvent({ profile, event: track('Product Added', { price: 0 }) });
    await reactor.onEvent({ profile, event: track('Product Viewed', { price: 5 }) });
    await reactor.onEvent({ profile, event: { type: 'identify', messageId: 'i1', traits: {} } });
    assert.equal(executions.started.length, 0);
    await reactor.onEvent({ profile, event: track('Product Added', { price: 1 }) });
    assert.deepEqual(
      executions.started.map((s) => s.stateMachineArn),
      [arn('cart')],
    );
  });

  it('starts one execution for a duplicated trigger event', async () => {
    const { reactor, executions } = setup([journey()]);
    const event = track('Product Added', { price: 3 });
    await reactor.onEvent({ profile, event });
    const again = await reactor.onEvent({ profile, event });
    assert.equal(executions.started.length, 1);
    assert.equal(again.started.length, 0);
  });

  for (const [name, reentry, entries] of [
    ['reentry never: one entry ever', 'never', 1],
    ['reentry always: every trigger enters', 'always', 2],
  ] as const) {
    it(name, async () => {
      const { reactor, executions } = setup([journey({ reentry })]);
      await reactor.onEvent({ profile, event: track('Product Added', { price: 3 }) });
      await reactor.onEvent({ profile, event: track('Product Added', { price: 3 }) });
      assert.equal(executions.started.length, entries);
    });
  }

  it('reentry after P1D: refused within a day, allowed after', async () => {
    const { reactor, executions, clock } = setup([journey({ reentry: { after: 'P1D' } })]);
    await reactor.onEvent({ profile, event: track('Product Added', { price: 3 }) });
    clock.advance(23 * 3600_000);
    await reactor.onEvent({ profile, event: track('Product Added', { price: 3 }) });
    assert.equal(executions.started.length, 1);
    clock.advance(3600_000);
    await reactor.onEvent({ profile, event: track('Product Added', { price: 3 }) });
    assert.equal(executions.started.length, 2);
  });

  it('an event that triggers nothing and nobody waits for costs no store request when state comes with the profile', async () => {
    const { reactor, store, executions } = setup([journey()]);
    await reactor.onEvent({
      profile,
      event: track('Page Scrolled'),
      journeyState: { presence: [], entries: [] },
    });
    assert.deepEqual(store.calls, {});
    assert.deepEqual(executions.calls, {});
  });
});

async function waitingSetup(match: Record<string, unknown> = { cartId: 'c1' }) {
  const s = setup([
    journey({ goal: { event: 'Order Completed', within: 'P7D' }, exitOn: [{ event: 'Unsubscribed' }] }),
  ]);
  await s.reactor.onEvent({ profile, event: track('Product Added', { price: 3, cartId: 'c1' }) });
  const [p] = [...s.store.presence.values()];
  await s.store.setWaiting(p!, {
    nodeId: 'bought',
    event: 'Checkout Started',
    match,
    token: 'tok-1',
    since: s.clock.now(),
  });
  return s;
}

describe('event reactor: waitFor', () => {
  it('resumes the waiting execution when the awaited event carries the same match keys', async () => {
    const { reactor, executions, store } = await waitingSetup();
    const out = await reactor.onEvent({ profile, event: track('Checkout Started', { cartId: 'c1' }) });
    assert.equal(out.resumed.length, 1);
    assert.equal(executions.resumed[0]!.token, 'tok-1');
    assert.equal([...store.presence.values()][0]!.waiting, undefined);
    const stats = await store.readStats('cart');
    assert.equal(stats['node|bought|resumed'], 1);
    assert.equal(stats['node|bought|waiting'], -1);
  });

  it('does not resume on a correlation mismatch or another event name', async () => {
    const { reactor, executions } = await waitingSetup();
    await reactor.onEvent({ profile, event: track('Checkout Started', { cartId: 'other' }) });
    await reactor.onEvent({ profile, event: track('Checkout Finished', { cartId: 'c1' }) });
    assert.equal(executions.resumed.length, 0);
  });

  it('never resumes on a match key the entry event did not have', async () => {
    const { reactor, executions } = await waitingSetup({ cartId: null });
    await reactor.onEvent({ profile, event: track('Checkout Started', { cartId: null }) });
    await reactor.onEvent({ profile, event: track('Checkout Started', {}) });
    assert.equal(executions.resumed.length, 0);
  });

  it('reads the journey state from profile.presence as the profile store returns it (no extra read)', async () => {
    const { reactor, executions, store } = await waitingSetup();
    const items = [...store.presence.values(), ...store.entries.values()].map((p) =>
      'executionName' in p
        ? { ...p }
        : { ...p, kind: 'journey-entry', executionName: `entry#${p.journeyId}` },
    );
    store.calls.readJourneyState = 0;
    const survivor: RuntimeProfile = { profileId: 'p1', presence: items };
    await reactor.onEvent({ profile: survivor, event: track('Checkout Started', { cartId: 'c1' }) });
    assert.equal(executions.resumed.length, 1);
    assert.equal(store.calls.readJourneyState, 0);
  });
});

describe('event reactor: goal and exit', () => {
  it('stops the execution on the goal event within its window and counts a conversion', async () => {
    const { reactor, executions, store, clock } = await waitingSetup();
    clock.advance(2 * 86_400_000);
    const out = await reactor.onEvent({ profile, event: track('Order Completed', {}) });
    assert.equal(out.stopped.length, 1);
    assert.equal(executions.stoppedArns.length, 1);
    assert.equal(store.presence.size, 0);
    const stats = await store.readStats('cart');
    assert.equal(stats['journey|conversions'], 1);
    assert.equal(stats['node|bought|waiting'], -1);
  });

  it('does not count a goal reached after the window', async () => {
    const { reactor, executions, clock } = await waitingSetup();
    clock.advance(8 * 86_400_000);
    await reactor.onEvent({ profile, event: track('Order Completed', {}) });
    assert.equal(executions.stoppedArns.length, 0);
  });

  it('stops on an exitOn event and records the exit', async () => {
    const { reactor, executions, store } = await waitingSetup();
    await reactor.onEvent({ profile, event: track('Unsubscribed', {}) });
    assert.equal(executions.stoppedArns.length, 1);
    assert.equal((await store.readStats('cart'))['journey|exited'], 1);
  });
});

describe('event reactor: enrollment', () => {
  it('enrolls a known profile by userId with context as trigger properties', async () => {
    const { reactor, executions, store } = setup([journey()], [profile]);
    const out = await reactor.enrollProfile('cart', {
      userId: 'u1',
      context: { source: 'api' },
      idempotencyKey: 'k1',
    });
    assert.equal(out.started, true);
    const input = executions.started[0]!.input as { entry: { properties: unknown; stored?: true } };
    assert.deepEqual([input.entry.properties, input.entry.stored], [{}, true]);
    assert.deepEqual(store.entryData.get(out.executionName), { source: 'api' });
    const again = await reactor.enrollProfile('cart', { userId: 'u1', idempotencyKey: 'k1' });
    assert.equal(again.started, false);
  });

  it('refuses unknown profiles, unknown or paused journeys, and forbidden re-entry', async () => {
    const { reactor } = setup(
      [journey({ reentry: 'never' }), journey({ id: 'p', status: 'paused', stateMachineArn: arn('p') })],
      [profile],
    );
    await assert.rejects(reactor.enrollProfile('cart', { userId: 'nobody' }), NotFoundError);
    await assert.rejects(reactor.enrollProfile('nope', { userId: 'u1' }), NotFoundError);
    await assert.rejects(reactor.enrollProfile('p', { userId: 'u1' }), ConflictError);
    await reactor.enrollProfile('cart', { userId: 'u1' });
    await assert.rejects(reactor.enrollProfile('cart', { userId: 'u1' }), ConflictError);
  });

  it('counts a refused enrollment and puts it on the timeline, like a refused trigger event', async () => {
    const { reactor, store } = setup([journey({ reentry: 'never' })], [profile]);
    await reactor.enrollProfile('cart', { userId: 'u1' });
    await assert.rejects(reactor.enrollProfile('cart', { userId: 'u1' }), ConflictError);
    assert.equal((await store.readStats('cart'))['journey|refused'], 1);
    const refused = (await store.listTimeline('p1')).filter((entry) => entry.outcome === 'refused');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.nodeId, 'entry');
    assert.match(refused[0]!.detail ?? '', /re-entry never: Enrolled/);
  });

  it('a refused enrollment retried with the same idempotency key is counted once, another key again', async () => {
    const { reactor, store, clock } = setup([journey({ reentry: 'never' })], [profile]);
    await reactor.enrollProfile('cart', { userId: 'u1' });
    for (const key of ['k1', 'k1', 'k2']) {
      // A retry comes later: the timeline entry alone (keyed by time) would not tell it apart.
      clock.advance(1000);
      await assert.rejects(
        reactor.enrollProfile('cart', { userId: 'u1', idempotencyKey: key }),
        ConflictError,
      );
    }
    assert.equal((await store.readStats('cart'))['journey|refused'], 2);
    const refused = (await store.listTimeline('p1')).filter((entry) => entry.outcome === 'refused');
    assert.equal(refused.length, 2);
  });
});
