import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../../shared/errors.js';
import {
  eraseProfile,
  findProfile,
  getProfile,
  MemoryProfileStore,
  timeline,
} from '../../../shared/profiles/index.js';

const rejects = (promise: Promise<unknown>, field: string) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(error.issues[0]?.path, [field]);
    assert.match(error.issues[0]!.message, /bytes in UTF-8|surrogate/);
    return true;
  });

describe('lookups with ids that can never be keys are 400s naming the field', () => {
  test('over 1,024 bytes in UTF-8, or not valid Unicode', async () => {
    const store = new MemoryProfileStore();
    const long = '€'.repeat(1024);
    await rejects(findProfile(store, { userId: long }), 'userId');
    await rejects(findProfile(store, { anonymousId: 'a\ud800' }), 'anonymousId');
    await rejects(getProfile(store, long), 'profileId');
    await rejects(timeline(store, long), 'profileId');
    await rejects(eraseProfile(store, long), 'profileId');
    assert.equal(await findProfile(store, { userId: 'é'.repeat(512) }), null);
  });
});
