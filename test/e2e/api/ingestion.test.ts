import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { segmentAnalytics, uniqueId, waitForIdle } from '../../support/local.js';
import { issueFields, useStackApi } from './client.js';

describe('API: Segment-compatible ingestion (/v1/*)', () => {
  const api = useStackApi();

  it('answers /health', async () => {
    const res = await api.get('/health', null);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('accepts every message type and they reach the profile', async () => {
    const userId = uniqueId('types');
    const anonymousId = uniqueId('anon');
    const sends = [
      ['/v1/identify', { userId, traits: { email: `${userId}@example.com`, plan: 'pro' } }],
      ['/v1/track', { userId, event: 'Order Completed', properties: { total: 5 } }],
      ['/v1/page', { userId, name: 'Home' }],
      ['/v1/screen', { userId, name: 'Settings' }],
      ['/v1/group', { userId, groupId: 'acme', traits: { name: 'Acme' } }],
      ['/v1/track', { anonymousId, event: 'Viewed' }],
      ['/v1/alias', { userId, previousId: anonymousId }],
      ['/v1/batch', { batch: [{ type: 'track', userId, event: 'In Batch', messageId: randomUUID() }] }],
    ] as const;
    for (const [path, body] of sends) {
      const res = await api.post(path, body);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, { success: true });
    }
    await waitForIdle(api.httpUrl);
    const profile = await api.get(`/profiles?userId=${encodeURIComponent(userId)}`);
    assert.equal(profile.status, 200);
    assert.equal(profile.body.traits.plan, 'pro');
    assert.equal(profile.body.counters.tracked['Order Completed'], 1);
    assert.equal(profile.body.counters.tracked['In Batch'], 1);
    assert.ok(profile.body.identities.anonymousId.includes(anonymousId), 'alias merged the anonymous id');
  });

  it('answers 401 JSON for a missing or wrong write key', async () => {
    for (const auth of [null, `Basic ${Buffer.from('wrong:').toString('base64')}`, 'Bearer dev-token']) {
      const res = await api.request('POST', '/v1/track', { body: { userId: 'u', event: 'E' }, auth });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'unauthorized');
      assert.doesNotMatch(JSON.stringify(res.body), /at .*\.ts/);
    }
  });

  it('answers 400 with field paths, and rejects a batch with any bad entry as a whole', async () => {
    const one = await api.post('/v1/track', { userId: 'u', properties: [] });
    assert.equal(one.status, 400);
    assert.deepEqual(issueFields(one).sort(), ['event', 'properties']);

    const userId = uniqueId('half');
    const batch = await api.post('/v1/batch', {
      batch: [
        { type: 'track', userId, event: 'Good' },
        { type: 'track', event: 'No Id' },
        { type: 'identify', userId, traits: 'nope' },
      ],
    });
    assert.equal(batch.status, 400);
    assert.deepEqual(issueFields(batch), ['batch[1].userId', 'batch[2].traits']);
    await waitForIdle(api.httpUrl);
    assert.equal((await api.get(`/profiles?userId=${userId}`)).status, 404, 'nothing of the batch was sent');

    const malformed = await api.request('POST', '/v1/track', { raw: '{"userId":' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'validation_failed');
  });

  it('works unchanged with @segment/analytics-node', async () => {
    const userId = uniqueId('segment');
    const { analytics, errors } = segmentAnalytics(api.httpUrl, { flushAt: 3 });
    analytics.identify({ userId, traits: { email: `${userId}@example.com`, firstName: 'Ada' } });
    analytics.track({ userId, event: 'Signed Up', properties: { source: 'sdk' } });
    analytics.page({ userId, name: 'Pricing' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    assert.deepEqual(errors, []);
    await waitForIdle(api.httpUrl);
    const profile = await api.get(`/profiles?userId=${userId}`);
    assert.equal(profile.status, 200);
    assert.equal(profile.body.traits.firstName, 'Ada');
    assert.equal(profile.body.counters.events, 3);
  });

  it('creates write keys that ingestion accepts, and revokes them', async () => {
    const bad = await api.post('/write-keys', { source: 'aws.nope' });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad), ['source']);

    const created = await api.post('/write-keys', { source: 'shop.web' });
    assert.equal(created.status, 201);
    assert.equal(created.body.source, 'shop.web');
    assert.match(created.body.keyId, /^[0-9a-f]{64}$/);
    const withKey = await api.request('POST', '/v1/track', {
      body: { userId: uniqueId('key'), event: 'Signed Up' },
      auth: `Basic ${Buffer.from(`${created.body.writeKey}:`).toString('base64')}`,
    });
    assert.equal(withKey.status, 200);

    const revoked = await api.delete(`/write-keys/${created.body.keyId}`);
    assert.equal(revoked.status, 200);
    const afterRevoke = await api.request('POST', '/v1/track', {
      body: { userId: uniqueId('key'), event: 'Signed Up' },
      auth: `Basic ${Buffer.from(`${created.body.writeKey}:`).toString('base64')}`,
    });
    assert.equal(afterRevoke.status, 401, 'a revoked key is refused at once by the api that revoked it');
    assert.equal((await api.delete(`/write-keys/${'0'.repeat(64)}`)).status, 404);
  });

  it('answers 404 for unknown routes and 405 for a wrong method', async () => {
    const unknown = await api.get('/v2/whatever');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    const wrong = await api.get('/v1/track');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.error.code, 'method_not_allowed');
    assert.equal(wrong.headers.get('allow'), 'POST');
  });
});
