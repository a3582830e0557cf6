import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConflictError } from '../../../shared/errors.js';
import {
  applyEvent,
  getProfile,
  ingestMessage,
  maxTrackedEventNames,
  newProfileRecord,
  toProfileJson,
} from '../../../shared/profiles/index.js';
import { memoryIngest } from './memory-ingest.js';

const at = (minute: number) => new Date(Date.UTC(2026, 4, 1, 0, minute)).toISOString();

describe('ingestMessage (in-memory store)', () => {
  test('a known user costs one identity lookup, one profile read and one commit', async () => {
    const { store, ingest } = memoryIngest();
    await ingest({ type: 'identify', userId: 'u', anonymousId: 'a' });
    for (const key of Object.keys(store.calls)) delete store.calls[key];
    await ingest({ type: 'track', userId: 'u', anonymousId: 'a', event: 'Viewed' });
    assert.deepEqual(store.calls, { lookupIdentities: 1, readProfile: 1, commit: 1 });
  });

  test('a competing writer makes the first attempt conflict; the retry keeps both events', async () => {
    const { store, deps, message, ingest } = memoryIngest();
    const first = await ingest({ type: 'identify', userId: 'u', traits: { a: 1 }, timestamp: at(1) });
    store.beforeCommit = async () => {
      store.beforeCommit = undefined;
      await ingestMessage(
        message({ type: 'identify', userId: 'u', traits: { b: 2 }, timestamp: at(2) }),
        deps,
      );
    };
    const result = await ingest({ type: 'identify', userId: 'u', traits: { c: 3 }, timestamp: at(3) });
    assert.equal(result.attempts, 2);
    assert.equal(result.profileId, first.profileId);
    assert.deepEqual(result.profile?.traits, { a: 1, b: 2, c: 3 });
    assert.equal(result.profile?.counters.events, 3);
    assert.equal(result.profile?.version, 3);
  });

  test('gives up with a ConflictError (transient: the queue redelivers) when the profile keeps changing', async () => {
    const { store, deps, message } = memoryIngest();
    await ingestMessage(message({ type: 'identify', userId: 'u' }), deps);
    store.beforeCommit = (change) => {
      const current = store.profiles.get(change.profile.profileId);
      if (current) current.version += 1;
    };
    await assert.rejects(
      ingestMessage(message({ type: 'track', userId: 'u', event: 'e' }), {
        ...deps,
        retry: { maxAttempts: 3, baseDelayMs: 0 },
      }),
      (error: unknown) => error instanceof ConflictError && /kept changing/.test(error.message),
    );
  });

  test('a late-arriving older identify does not overwrite a newer trait', async () => {
    const { ingest } = memoryIngest();
    await ingest({ type: 'identify', userId: 'u', traits: { plan: 'pro' }, timestamp: at(10) });
    const late = await ingest({
      type: 'identify',
      userId: 'u',
      traits: { plan: 'free', city: 'Oslo' },
      timestamp: at(5),
    });
    assert.deepEqual(late.profile?.traits, { plan: 'pro', city: 'Oslo' });
    assert.equal(late.profile?.firstSeen, at(5));
    assert.equal(late.profile?.lastSeen, at(10));
  });

  test('a merge sums counters, keeps both seen ranges, and leaves a followable mergedInto', async () => {
    const { store, ingest } = memoryIngest();
    const anon = await ingest({ type: 'track', anonymousId: 'a', event: 'Browsed', timestamp: at(1) });
    await ingest({ type: 'track', anonymousId: 'a', event: 'Browsed', timestamp: at(2) });
    const known = await ingest({ type: 'identify', userId: 'u', timestamp: at(3) });
    const merge = await ingest({
      type: 'track',
      userId: 'u',
      anonymousId: 'a',
      event: 'Bought',
      timestamp: at(4),
    });
    assert.equal(merge.profileId, known.profileId);
    assert.deepEqual(merge.merged, [anon.profileId]);
    assert.equal(merge.profile?.counters.events, 4);
    assert.deepEqual(merge.profile?.counters.tracked, { Browsed: 2, Bought: 1 });
    assert.deepEqual([merge.profile?.firstSeen, merge.profile?.lastSeen], [at(1), at(4)]);
    assert.equal(store.profiles.get(anon.profileId)?.mergedInto, known.profileId);
    assert.equal((await getProfile(store, anon.profileId))?.profileId, known.profileId);
  });

  test('alias merges the previousId profile; a later email match brings the userId to the merged profile', async () => {
    const { store, ingest } = memoryIngest();
    const a = await ingest({ type: 'page', anonymousId: 'a' });
    await ingest({ type: 'page', anonymousId: 'b' });
    const ab = await ingest({ type: 'identify', anonymousId: 'b', traits: { email: 'x@y.io' } });
    await ingest({ type: 'alias', anonymousId: 'b', previousId: 'a' });
    const known = await ingest({ type: 'identify', userId: 'u', traits: { email: 'x@y.io' } });
    assert.equal(
      known.profileId,
      ab.profileId,
      'the email leads to the merged anonymous profile, which gets the userId',
    );
    assert.deepEqual(known.profile?.mergedFrom, [a.profileId]);
    assert.equal((await getProfile(store, a.profileId))?.profileId, known.profileId);
  });

  test('a duplicate returns the stored profile and changes nothing', async () => {
    const { store, ingest } = memoryIngest();
    const first = await ingest({ type: 'track', userId: 'u', event: 'e', messageId: 'm1' });
    const again = await ingest({ type: 'track', userId: 'u', event: 'e', messageId: 'm1' });
    assert.equal(again.duplicate, true);
    assert.equal(again.profileId, first.profileId);
    assert.equal(again.profile?.counters.events, 1);
    assert.equal(store.profiles.get(first.profileId)?.version, 1);
  });

  test('presence items move to the survivor on a merge and come back with the profile', async () => {
    const { store, ingest } = memoryIngest();
    const anon = await ingest({ type: 'page', anonymousId: 'a' });
    store.putPresence(anon.profileId, {
      executionName: 'welcome-v1-x',
      profileId: anon.profileId,
      journeyId: 'welcome',
    });
    await ingest({ type: 'identify', userId: 'u' });
    const merge = await ingest({ type: 'identify', userId: 'u', anonymousId: 'a' });
    assert.deepEqual(merge.profile?.presence, [
      {
        executionName: 'welcome-v1-x',
        profileId: merge.profileId,
        journeyId: 'welcome',
        movedFrom: anon.profileId,
      },
    ]);
    assert.equal((await store.readProfile(merge.profileId))?.presence.length, 1);
  });

  test('the public JSON has the shape the README documents for GET /profiles', async () => {
    const { ingest } = memoryIngest();
    const result = await ingest({
      type: 'identify',
      userId: 'u',
      traits: { email: 'A@b.io', name: 'Ann' },
      timestamp: at(1),
    });
    assert.deepEqual(toProfileJson(result.profile!), {
      profileId: result.profileId,
      identities: { userId: ['u'], anonymousId: [], email: ['a@b.io'], phone: [] },
      traits: { email: 'A@b.io', name: 'Ann' },
      firstSeen: at(1),
      lastSeen: at(1),
      counters: { events: 1, types: { identify: 1 }, tracked: {} },
      mergedFrom: [],
      devices: [],
      // Without a deriver (shared/derived) nothing is derived.
      computed: {},
      stage: null,
      stageSince: null,
      scores: {},
    });
  });
});

describe('applyEvent', () => {
  test('counts at most maxTrackedEventNames distinct event names', () => {
    let profile = newProfileRecord('p', at(0));
    const base = {
      type: 'track' as const,
      properties: {},
      traits: {},
      context: {},
      timestamp: at(0),
      receivedAt: at(0),
    };
    for (let i = 0; i <= maxTrackedEventNames; i++) {
      profile = applyEvent(profile, { ...base, messageId: `m${i}`, event: `E${i}` }, at(0));
    }
    assert.equal(Object.keys(profile.counters.tracked).length, maxTrackedEventNames);
    assert.equal(profile.counters.events, maxTrackedEventNames + 1);
    profile = applyEvent(profile, { ...base, messageId: 'again', event: 'E0' }, at(0));
    assert.equal(profile.counters.tracked.E0, 2);
  });
});

describe('presence on merges', () => {
  test('an entry record on both profiles: the most recent entry survives, the other is deleted', async () => {
    const { store, ingest } = memoryIngest();
    const anon = await ingest({ type: 'page', anonymousId: 'a' });
    const known = await ingest({ type: 'identify', userId: 'u' });
    store.putPresence(known.profileId, {
      executionName: 'entry#welcome',
      journeyId: 'welcome',
      lastEnteredAt: 100,
    });
    store.putPresence(anon.profileId, {
      executionName: 'entry#welcome',
      journeyId: 'welcome',
      lastEnteredAt: 200,
    });
    store.putPresence(anon.profileId, { executionName: 'entry#cart', journeyId: 'cart', lastEnteredAt: 50 });
    store.putPresence(known.profileId, { executionName: 'entry#cart', journeyId: 'cart', lastEnteredAt: 60 });
    const merge = await ingest({ type: 'identify', userId: 'u', anonymousId: 'a' });
    const byName = Object.fromEntries(
      (merge.profile?.presence ?? []).map((p) => [p.executionName, p.lastEnteredAt]),
    );
    assert.deepEqual(byName, { 'entry#welcome': 200, 'entry#cart': 60 });
    assert.equal(merge.profile?.presence.length, 2);
    const stored = await store.readProfile(known.profileId);
    assert.deepEqual(
      Object.fromEntries((stored?.presence ?? []).map((p) => [p.executionName, p.lastEnteredAt])),
      { 'entry#welcome': 200, 'entry#cart': 60 },
    );
    assert.deepEqual((await store.readProfile(anon.profileId))?.presence, []);
  });
});
