import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import type { WriteKeyListing } from '../../shared/catalog/write-keys.js';
import { ManualClock } from '../../shared/clock.js';
import { NotFoundError } from '../../shared/errors.js';
import { hashedWriteKeyVerifier, type WriteKeyStore } from '../../shared/http/auth.js';

/** What the API does with a write key store: MemoryWriteKeyStore and DynamoWriteKeyStore both. */
export interface WriteKeyAdmin extends WriteKeyStore {
  create(source: string, clock: ManualClock): Promise<{ writeKey: string; keyId: string; source: string }>;
  list(): Promise<WriteKeyListing[]>;
  revoke(keyId: string, clock: ManualClock): Promise<void>;
}

/**
 * The behaviour every write key store keeps, run against each adapter (unit: in memory; integration:
 * DynamoDB Local). The store may hold other keys (a shared table): the cases look for their own.
 */
export function writeKeyStoreContract(make: () => WriteKeyAdmin): void {
  it('accepts a created key for its source by its hash only, and lists it without the key', async () => {
    const store = make();
    const source = `shop-${randomUUID()}`;
    const { writeKey, keyId } = await store.create(source, new ManualClock());
    const verifier = hashedWriteKeyVerifier(store);
    assert.deepEqual(await verifier.verify(writeKey), { source });
    assert.equal(await verifier.verify(`${writeKey}x`), undefined);
    const listed = (await store.list()).find((key) => key.keyId === keyId);
    assert.deepEqual({ source: listed?.source, revoked: listed?.revoked }, { source, revoked: false });
    assert.ok(!JSON.stringify(await store.list()).includes(writeKey), 'the key itself is never kept');
  });

  it('refuses a revoked key, lists it revoked, and refuses to revoke a key it does not have', async () => {
    const clock = new ManualClock();
    const store = make();
    const { writeKey, keyId } = await store.create(`shop-${randomUUID()}`, clock);
    const verifier = hashedWriteKeyVerifier(store, { now: () => clock.now(), cacheMs: 1000 });
    assert.ok(await verifier.verify(writeKey));
    await store.revoke(keyId, clock);
    clock.advance(1000);
    assert.equal(await verifier.verify(writeKey), undefined);
    const listed = (await store.list()).find((key) => key.keyId === keyId);
    assert.equal(listed?.revoked, true);
    await assert.rejects(store.revoke('0'.repeat(64), clock), NotFoundError);
  });
}
