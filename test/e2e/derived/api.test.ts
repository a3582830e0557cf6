import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueId, waitForIdle } from '../../support/local.js';
import { useStackApi } from '../api/client.js';

/** Computed traits, lead scores, churn model and lifecycle through the HTTP API (issue #12). */
describe('API: computed traits, scores, lifecycle', () => {
  const api = useStackApi();

  it('defines computed traits (JSON and YAML) and shows them on the profile, current as orders arrive', async () => {
    const event = uniqueId('Order Completed');
    const count = uniqueId('orders').replace(/[^A-Za-z0-9_-]/g, '_');
    const spend = uniqueId('spend').replace(/[^A-Za-z0-9_-]/g, '_');
    const created = await api.request('PUT', `/traits/${count}`, {
      body: { event, aggregate: 'count', within: 'P90D' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const yaml = `event: "${event}"\naggregate: sum\nproperty: properties.total\n`;
    const put = await api.request('PUT', `/traits/${spend}`, { raw: yaml, contentType: 'application/yaml' });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.equal((await api.get(`/traits/${spend}`)).body.definition.property, 'properties.total');
    const listed = (await api.get('/traits')).body.traits.map((t: { id: string }) => t.id);
    assert.ok(listed.includes(count) && listed.includes(spend));

    const userId = uniqueId('buyer');
    await api.post('/v1/track', { userId, event, properties: { total: 19.9 } });
    await api.post('/v1/track', { userId, event, properties: { total: 5.1 } });
    await waitForIdle(api.httpUrl);
    const profile = await api.get(`/profiles?userId=${userId}`);
    assert.equal(profile.status, 200);
    assert.equal(profile.body.computed[count], 2);
    assert.equal(profile.body.computed[spend], 25);
    assert.equal(profile.body.stage, 'new');
    assert.equal(typeof profile.body.scores.churnRisk, 'number');

    assert.equal((await api.request('DELETE', `/traits/${count}`)).status, 200);
    assert.equal((await api.request('DELETE', `/traits/${spend}`)).status, 200);
    assert.equal((await api.get(`/traits/${count}`)).status, 404);
  });

  it('refuses bad definitions with every problem and its path', async () => {
    const bad = await api.request('PUT', '/traits/broken', {
      body: { event: '', aggregate: 'median', within: 'P1M', extra: 1 },
    });
    assert.equal(bad.status, 400);
    const fields = bad.body.error.details.issues.map((i: { path: unknown[] }) => i.path.join('.'));
    for (const field of ['event', 'aggregate', 'within', 'extra'])
      assert.ok(fields.includes(field), `${field}: ${fields}`);
    const sum = await api.request('PUT', '/traits/broken', { body: { event: 'X', aggregate: 'sum' } });
    assert.deepEqual(
      sum.body.error.details.issues.map((i: { path: unknown[] }) => i.path),
      [['property']],
    );
    const score = await api.request('PUT', '/scores/lead-x', {
      body: { engagement: { rules: [{ event: 'X', points: 'ten' }], decay: { rate: 2, every: 'P1W' } } },
    });
    assert.equal(score.status, 400);
    const paths = score.body.error.details.issues.map((i: { path: unknown[] }) => i.path.join('.'));
    assert.deepEqual(paths.sort(), ['engagement.decay.rate', 'engagement.rules.0.points']);
    const lifecycle = await api.request('PUT', '/lifecycle', {
      body: { stages: [{ name: 'active', when: { lastSeen: { within: 'P30D' } } }] },
    });
    assert.equal(lifecycle.status, 400);
    assert.deepEqual(lifecycle.body.error.details.issues[0].path, ['stages', 0, 'when']);
    const churn = await api.request('PUT', '/scores/churnRisk', { body: { parameters: { r: -1 } } });
    assert.equal(churn.status, 400);
  });

  it('defines a lead score and shows fit and engagement on the profile', async () => {
    const id = uniqueId('lead').replace(/[^A-Za-z0-9_-]/g, '_');
    const event = uniqueId('Demo Requested');
    const put = await api.request('PUT', `/scores/${id}`, {
      body: {
        fit: [{ points: 25, when: { traits: { role: ['CTO'] } } }],
        engagement: { rules: [{ event, points: 30 }], decay: { rate: 0.1, every: 'P1W' } },
      },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const userId = uniqueId('lead');
    await api.post('/v1/identify', { userId, traits: { role: 'CTO' } });
    await waitForIdle(api.httpUrl);
    await api.post('/v1/track', { userId, event });
    await waitForIdle(api.httpUrl);
    const profile = await api.get(`/profiles?userId=${userId}`);
    assert.deepEqual(profile.body.scores[id], { fit: 25, engagement: 30, total: 55 });
    assert.equal((await api.get('/scores/churnRisk')).body.definition.model, 'bg-nbd');
    assert.equal((await api.request('DELETE', `/scores/${id}`)).status, 200);
  });

  it('GET /lifecycle gives the stages', async () => {
    const lifecycle = await api.get('/lifecycle');
    assert.equal(lifecycle.status, 200);
    assert.deepEqual(
      lifecycle.body.definition.stages.map((s: { name: string }) => s.name),
      ['new', 'active', 'dormant', 'churned'],
    );
  });
});
