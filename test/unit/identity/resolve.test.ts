import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyTraits,
  defaultIdentityRules,
  emptyIdentities,
  type Identifier,
  type IdentifierType,
  type Identities,
  identifiersOf,
  identityRules,
  mergeTraitStates,
  normalizeEmail,
  normalizePhone,
  resolveIdentity,
} from '../../../shared/identity/index.js';

const id = (type: IdentifierType, value: string): Identifier => ({ type, value });
const ids = (partial: Partial<Identities>): Identities => ({ ...emptyIdentities(), ...partial });

/** A world of profiles: each profile's identities; owners are derived from them. */
function world(profiles: Record<string, Partial<Identities>>) {
  const owners = new Map<string, string>();
  const map = new Map<string, Identities>();
  for (const [profileId, partial] of Object.entries(profiles)) {
    const identities = ids(partial);
    map.set(profileId, identities);
    for (const [type, values] of Object.entries(identities))
      for (const v of values) owners.set(`${type}#${v}`, profileId);
  }
  return { owners, profiles: map };
}

describe('resolveIdentity', () => {
  test('an event with unknown identifiers creates a profile with all of them', () => {
    const r = resolveIdentity({ identifiers: [id('anonymousId', 'a1'), id('userId', 'u1')], ...world({}) });
    assert.equal(r.profileId, null);
    assert.deepEqual(r.merge, []);
    assert.deepEqual(r.attach, [id('userId', 'u1'), id('anonymousId', 'a1')], 'in priority order');
    assert.deepEqual(r.identities, ids({ userId: ['u1'], anonymousId: ['a1'] }));
    assert.deepEqual(r.refused, []);
  });

  test('a known user in steady state: nothing to attach or merge', () => {
    const w = world({ A: { userId: ['u1'], anonymousId: ['a1'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'u1'), id('anonymousId', 'a1')], ...w });
    assert.deepEqual([r.profileId, r.merge, r.attach, r.refused], ['A', [], [], []]);
  });

  test('a new identifier is attached to the known profile', () => {
    const w = world({ A: { userId: ['u1'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'u1'), id('email', 'ann@x.io')], ...w });
    assert.equal(r.profileId, 'A');
    assert.deepEqual(r.attach, [id('email', 'ann@x.io')]);
    assert.deepEqual(r.identities.email, ['ann@x.io']);
  });

  test('a new userId on an anonymous profile: the existing profile survives and gets the userId', () => {
    const w = world({ B: { anonymousId: ['a1'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'u1'), id('anonymousId', 'a1')], ...w });
    assert.equal(r.profileId, 'B');
    assert.deepEqual(r.attach, [id('userId', 'u1')]);
    assert.deepEqual(r.merge, []);
  });

  test('anonymous-then-identify: the anonymous profile is merged into the known one', () => {
    const w = world({ A: { userId: ['u1'], email: ['ann@x.io'] }, B: { anonymousId: ['a1'] } });
    const r = resolveIdentity({ identifiers: [id('anonymousId', 'a1'), id('userId', 'u1')], ...w });
    assert.equal(r.profileId, 'A', 'the profile of the highest-priority identifier survives');
    assert.deepEqual(r.merge, ['B']);
    assert.deepEqual(r.identities, ids({ userId: ['u1'], email: ['ann@x.io'], anonymousId: ['a1'] }));
  });

  test('two known users never merge (userId limit 1): the lower-priority identifier is refused', () => {
    const w = world({ A: { userId: ['ann'], anonymousId: ['device'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'bob'), id('anonymousId', 'device')], ...w });
    assert.equal(r.profileId, null, 'bob gets a new profile');
    assert.deepEqual(r.attach, [id('userId', 'bob')]);
    assert.deepEqual(r.merge, []);
    assert.deepEqual(r.refused, [
      { identifierType: 'anonymousId', limitType: 'userId', limit: 1, profileId: 'A' },
    ]);
  });

  test('two profiles with different userIds linked by email: the email is refused, both stay', () => {
    const w = world({ A: { userId: ['ann'] }, B: { userId: ['bob'], email: ['shared@x.io'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'ann'), id('email', 'shared@x.io')], ...w });
    assert.equal(r.profileId, 'A');
    assert.deepEqual(r.merge, []);
    assert.deepEqual(r.refused, [{ identifierType: 'email', limitType: 'userId', limit: 1, profileId: 'B' }]);
  });

  test('an identifier beyond its limit is not attached (anonymousId limit 5)', () => {
    const w = world({ A: { userId: ['u'], anonymousId: ['a1', 'a2', 'a3', 'a4', 'a5'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'u'), id('anonymousId', 'a6')], ...w });
    assert.equal(r.profileId, 'A');
    assert.deepEqual(r.attach, []);
    assert.deepEqual(r.refused, [{ identifierType: 'anonymousId', limitType: 'anonymousId', limit: 5 }]);
  });

  test('a merge that would exceed a configurable limit is refused', () => {
    const rules = identityRules({ limits: { email: 2 } });
    const w = world({
      A: { userId: ['u'], email: ['e1@x', 'e2@x'] },
      B: { email: ['e3@x'], anonymousId: ['b'] },
    });
    const r = resolveIdentity({ identifiers: [id('userId', 'u'), id('anonymousId', 'b')], ...w }, rules);
    assert.deepEqual(r.merge, []);
    assert.deepEqual(r.refused, [
      { identifierType: 'anonymousId', limitType: 'email', limit: 2, profileId: 'B' },
    ]);
    const merged = resolveIdentity({ identifiers: [id('userId', 'u'), id('anonymousId', 'b')], ...w });
    assert.deepEqual(merged.merge, ['B'], 'within the default limit of 5 the same merge happens');
  });

  test('priority decides which identifier gives way: with phone above email, the email is refused', () => {
    const rules = identityRules({
      limits: { email: 1, phone: 1 },
      priority: ['userId', 'phone', 'email', 'anonymousId'],
    });
    const w = world({ A: { phone: ['+4912345678'], email: ['a@x'] }, B: { email: ['b@x'] } });
    const identifiers = [id('email', 'b@x'), id('phone', '+4912345678')];
    const r = resolveIdentity({ identifiers, ...w }, rules);
    assert.equal(r.profileId, 'A');
    assert.deepEqual(r.refused, [{ identifierType: 'email', limitType: 'email', limit: 1, profileId: 'B' }]);
    const byDefault = resolveIdentity(
      { identifiers, ...w },
      identityRules({ limits: { email: 1, phone: 1 } }),
    );
    assert.equal(byDefault.profileId, 'B', 'email outranks phone by default: B survives, A is kept apart');
    assert.deepEqual(byDefault.refused, [
      { identifierType: 'phone', limitType: 'email', limit: 1, profileId: 'A' },
    ]);
  });

  test('one event can merge several profiles into the survivor', () => {
    const w = world({ A: { userId: ['u'] }, B: { anonymousId: ['a'] }, C: { email: ['c@x'] } });
    const r = resolveIdentity({
      identifiers: [id('anonymousId', 'a'), id('email', 'c@x'), id('userId', 'u')],
      ...w,
    });
    assert.equal(r.profileId, 'A');
    assert.deepEqual(r.merge, ['C', 'B'], 'in priority order');
  });

  test('identifiers already on the survivor (owned or repeated) are not attached twice', () => {
    const w = world({ A: { userId: ['u'], anonymousId: ['a'] } });
    const r = resolveIdentity({
      identifiers: [id('userId', 'u'), id('anonymousId', 'a'), id('anonymousId', 'a')],
      ...w,
    });
    assert.deepEqual(r.attach, []);
    assert.deepEqual(r.identities.anonymousId, ['a']);
  });

  test('a profile already over a lowered limit still resolves to itself', () => {
    const rules = identityRules({ limits: { anonymousId: 1 } });
    const w = world({ A: { userId: ['u'], anonymousId: ['a1', 'a2'] } });
    const r = resolveIdentity({ identifiers: [id('userId', 'u'), id('anonymousId', 'a2')], ...w }, rules);
    assert.deepEqual([r.profileId, r.refused], ['A', []]);
  });
});

describe('identityRules', () => {
  test('defaults: userId 1, others 5; userId > email > phone > anonymousId', () => {
    assert.deepEqual(defaultIdentityRules.limits, { userId: 1, email: 5, phone: 5, anonymousId: 5 });
    assert.deepEqual(defaultIdentityRules.priority, ['userId', 'email', 'phone', 'anonymousId']);
  });

  test('rejects limits below 1 and priorities that are not a permutation', () => {
    assert.throws(() => identityRules({ limits: { email: 0 } }), /limit for email/);
    assert.throws(() => identityRules({ priority: ['userId', 'email', 'phone'] }), /exactly once/);
    assert.throws(() => identityRules({ priority: ['userId', 'email', 'phone', 'phone'] }), /exactly once/);
  });
});

describe('identifiers', () => {
  test('email is trimmed and lower-cased; non-addresses are ignored', () => {
    assert.equal(normalizeEmail('  Ann.Lee@Example.COM '), 'ann.lee@example.com');
    assert.equal(normalizeEmail('not-an-email'), undefined);
    assert.equal(normalizeEmail('@x.io'), undefined);
    assert.equal(normalizeEmail(42), undefined);
  });

  test('phone becomes + and digits; 00 is +; too short or long is ignored', () => {
    assert.equal(normalizePhone('+49 (170) 123-4567'), '+491701234567');
    assert.equal(normalizePhone('0049 170 1234567'), '+491701234567');
    assert.equal(normalizePhone('170.123.4567'), '1701234567');
    assert.equal(normalizePhone(4915112345678), '4915112345678');
    assert.equal(normalizePhone('12345'), undefined);
    assert.equal(normalizePhone('+1234567890123456'), undefined);
  });

  test('identify reads email and phone from traits; other types from context.traits; group traits are not a person', () => {
    const base = { traits: {}, context: {} };
    assert.deepEqual(
      identifiersOf({
        ...base,
        type: 'identify',
        userId: 'u',
        anonymousId: 'a',
        traits: { email: 'A@X.io', phone: '+1 555 0100 200' },
      }),
      [id('userId', 'u'), id('anonymousId', 'a'), id('email', 'a@x.io'), id('phone', '+15550100200')],
    );
    assert.deepEqual(
      identifiersOf({ ...base, type: 'track', anonymousId: 'a', context: { traits: { email: 'b@x.io' } } }),
      [id('anonymousId', 'a'), id('email', 'b@x.io')],
    );
    assert.deepEqual(identifiersOf({ ...base, type: 'group', userId: 'u', traits: { email: 'acct@x.io' } }), [
      id('userId', 'u'),
    ]);
  });
});

describe('traits: last write wins per trait by event time', () => {
  test('a newer event overwrites, an older one does not', () => {
    let state = applyTraits({ traits: {}, traitTimes: {} }, { plan: 'free', name: 'Ann' }, 100);
    state = applyTraits(state, { plan: 'pro' }, 300);
    state = applyTraits(state, { plan: 'trial', city: 'Oslo' }, 200);
    assert.deepEqual(state.traits, { plan: 'pro', name: 'Ann', city: 'Oslo' });
    assert.deepEqual(state.traitTimes, { plan: 300, name: 100, city: 200 });
  });

  test('null sets a trait to null (explicit unset), undefined is ignored; ties go to the incoming value', () => {
    let state = applyTraits({ traits: {}, traitTimes: {} }, { a: 1, b: 2 }, 100);
    state = applyTraits(state, { a: null, b: undefined }, 100);
    assert.deepEqual(state.traits, { a: null, b: 2 });
  });

  test('merging two profiles keeps the newer value of every trait; ties keep the survivor', () => {
    const survivor = {
      traits: { plan: 'free', name: 'Ann', tie: 's' },
      traitTimes: { plan: 100, name: 300, tie: 5 },
    };
    const merged = {
      traits: { plan: 'pro', name: 'A.', tie: 'm', city: 'Oslo' },
      traitTimes: { plan: 200, name: 50, tie: 5, city: 1 },
    };
    assert.deepEqual(mergeTraitStates(survivor, merged), {
      traits: { plan: 'pro', name: 'Ann', tie: 's', city: 'Oslo' },
      traitTimes: { plan: 200, name: 300, tie: 5, city: 1 },
    });
  });
});
