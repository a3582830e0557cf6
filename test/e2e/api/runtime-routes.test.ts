import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueId, waitForIdle } from '../../support/local.js';
import { useStackApi } from './client.js';

/** The API routes of the runtime issue (#7): lookups, listings, removals. */
describe('API: profile lookup by phone, write-key listing', () => {
  const api = useStackApi();

  it('looks a profile up by phone, normalised like the identity', async () => {
    const userId = uniqueId('phone');
    const digits = String(Date.now()).slice(-7);
    await api.post('/v1/identify', { userId, traits: { phone: `+1 (415) ${digits}` } });
    await waitForIdle(api.httpUrl);
    const found = await api.get(`/profiles?phone=${encodeURIComponent(`+1415${digits}`)}`);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.deepEqual(found.body.identities.userId, [userId]);
    const twice = await api.get(`/profiles?phone=${encodeURIComponent(`+1415${digits}`)}&userId=${userId}`);
    assert.equal(twice.status, 400);
    assert.equal((await api.get('/profiles?phone=not-a-phone')).status, 400);
  });

  it('lists write keys with their ids and sources, never the key', async () => {
    const created = await api.post('/write-keys', { source: 'shop.list' });
    assert.equal(created.status, 201);
    const listed = await api.get('/write-keys');
    assert.equal(listed.status, 200);
    const entry = listed.body.writeKeys.find((key: { keyId: string }) => key.keyId === created.body.keyId);
    assert.deepEqual(Object.keys(entry).sort(), ['createdAt', 'keyId', 'revoked', 'source']);
    assert.equal(entry.source, 'shop.list');
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(created.body.writeKey));
    assert.equal((await api.delete(`/write-keys/${created.body.keyId}`)).status, 200);
    const after = await api.get('/write-keys');
    const revoked = after.body.writeKeys.find((key: { keyId: string }) => key.keyId === created.body.keyId);
    assert.equal(revoked.revoked, true);
    assert.ok(revoked.revokedAt);
    assert.equal((await api.get('/write-keys', null)).status, 401);
  });
});
