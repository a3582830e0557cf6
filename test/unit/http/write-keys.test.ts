import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryWriteKeyStore } from '../../../shared/catalog/memory.js';
import { ManualClock } from '../../../shared/clock.js';
import { NotFoundError } from '../../../shared/errors.js';
import { hashedWriteKeyVerifier } from '../../../shared/http/auth.js';

describe('write keys (in-memory store)', () => {
  it('accepts a created key for its source, lists it without the key, and refuses it once revoked', async () => {
    const clock = new ManualClock();
    const store = new MemoryWriteKeyStore();
    const verifier = hashedWriteKeyVerifier(store, { now: () => clock.now(), cacheMs: 1000 });
    const { writeKey, keyId } = await store.create('shop', clock);

    assert.deepEqual(await verifier.verify(writeKey), { source: 'shop' });
    const [listed] = await store.list();
    assert.equal(listed?.keyId, keyId);
    assert.ok(!JSON.stringify(await store.list()).includes(writeKey), 'the key itself is never kept');

    await store.revoke(keyId, clock);
    clock.advance(1000);
    assert.equal(await verifier.verify(writeKey), undefined);
    assert.equal((await store.list())[0]?.revoked, true);
    await assert.rejects(store.revoke('0'.repeat(64), clock), NotFoundError);
  });
});
