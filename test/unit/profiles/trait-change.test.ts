import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  commitTraitChange,
  getProfile,
  ProfileWriteConflict,
  type TraitChange,
} from '../../../shared/profiles/index.js';
import { memoryIngest } from './memory-ingest.js';

const setPlan = (messageId: string): TraitChange => ({
  traits: () => ({ plan: 'pro' }),
  messageId: () => messageId,
  context: { cairn: { journeyId: 'j', nodeId: 'n' } },
});

describe('commitTraitChange', () => {
  test('sets the traits and keeps the others', async () => {
    const { store, clock, ingest } = memoryIngest();
    const { profileId } = await ingest({ type: 'identify', userId: 'u', traits: { name: 'Ada' } });
    assert.equal(await commitTraitChange(store, clock, profileId, setPlan('m-1')), true);
    const profile = await getProfile(store, profileId);
    assert.deepEqual(profile?.traits, { name: 'Ada', plan: 'pro' });
  });

  test('the same messageId twice commits once', async () => {
    const { store, clock, ingest } = memoryIngest();
    const { profileId } = await ingest({ type: 'identify', userId: 'u' });
    const increment: TraitChange = {
      traits: (p) => ({ visits: Number(p.traits.visits ?? 0) + 1 }),
      messageId: () => 'retry-key',
      context: {},
    };
    assert.equal(await commitTraitChange(store, clock, profileId, increment), true);
    assert.equal(await commitTraitChange(store, clock, profileId, increment), false);
    assert.equal((await getProfile(store, profileId))?.traits.visits, 1);
  });

  test('writes nothing when the change has nothing to do, or the profile is unknown', async () => {
    const { store, clock, ingest } = memoryIngest();
    const { profileId } = await ingest({ type: 'identify', userId: 'u' });
    const noop: TraitChange = { traits: () => undefined, messageId: () => 'x', context: {} };
    assert.equal(await commitTraitChange(store, clock, profileId, noop), false);
    assert.equal(await commitTraitChange(store, clock, 'no-such-profile', setPlan('m')), false);
  });

  test('retries on a concurrent write and applies the change on the fresh profile', async () => {
    const { store, clock, ingest } = memoryIngest();
    const { profileId } = await ingest({ type: 'identify', userId: 'u', traits: { visits: 1 } });
    store.beforeCommit = async () => {
      store.beforeCommit = undefined;
      await ingest({ type: 'identify', userId: 'u', traits: { visits: 5 } });
    };
    const increment: TraitChange = {
      traits: (p) => ({ visits: Number(p.traits.visits) + 1 }),
      messageId: () => 'inc',
      context: {},
    };
    assert.equal(await commitTraitChange(store, clock, profileId, increment), true);
    assert.equal((await getProfile(store, profileId))?.traits.visits, 6);
  });

  test('gives up with ProfileWriteConflict when the profile never stops changing', async () => {
    const { store, clock, ingest } = memoryIngest();
    const { profileId } = await ingest({ type: 'identify', userId: 'u' });
    let n = 0;
    let interfering = false;
    store.beforeCommit = async () => {
      if (interfering) return; // the interfering ingest commits too
      interfering = true;
      await ingest({ type: 'identify', userId: 'u', traits: { n: ++n } });
      interfering = false;
    };
    await assert.rejects(commitTraitChange(store, clock, profileId, setPlan('m')), ProfileWriteConflict);
  });
});
