import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getProfile, mergeProfileRecords } from '../../../shared/profiles/index.js';
import { memoryIngest } from './memory-ingest.js';

const builtIns = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

describe('names of built-in object properties are ordinary names', () => {
  test('events named constructor, toString, __proto__ are counted like any other', async () => {
    const { store, ingest } = memoryIngest();
    let profileId = '';
    for (const event of [...builtIns, ...builtIns]) {
      profileId = (await ingest({ type: 'track', userId: 'u', event })).profileId;
    }
    const profile = await getProfile(store, profileId);
    const tracked = JSON.parse(JSON.stringify(profile?.counters.tracked));
    assert.deepEqual(tracked, Object.fromEntries(builtIns.map((name) => [name, 2])));
  });

  test('traits named __proto__ and constructor are kept, last write wins as for any trait', async () => {
    const { store, ingest } = memoryIngest();
    const body = JSON.parse(
      '{"type":"identify","userId":"u","traits":{"__proto__":{"x":1},"constructor":"c","plan":"pro"}}',
    );
    const { profileId } = await ingest(body);
    const later = JSON.parse('{"type":"identify","userId":"u","traits":{"__proto__":"second"}}');
    await ingest(later);
    const profile = await getProfile(store, profileId);
    assert.equal(JSON.stringify(profile?.traits), '{"__proto__":"second","constructor":"c","plan":"pro"}');
    assert.equal(Object.getPrototypeOf(profile?.traits), Object.prototype);
  });

  test('merging profiles adds up counters of built-in names', async () => {
    const { store, ingest } = memoryIngest();
    const a = await ingest({ type: 'track', anonymousId: 'a', event: 'constructor' });
    const b = await ingest({ type: 'track', userId: 'u', event: 'constructor' });
    const recA = await getProfile(store, a.profileId);
    const recB = await getProfile(store, b.profileId);
    const merged = mergeProfileRecords(recB!, recA!);
    assert.equal(JSON.stringify(merged.counters.tracked), '{"constructor":2}');
  });
});
