import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readOutbox, uniqueId, waitForIdle } from '../../support/local.js';
import { issueFields, useStackApi } from './client.js';

/** Lowercase, ≤ 40 characters: a valid journey id. */
const journeyId = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

function journeyYaml(id: string, template: string, name = 'API e2e') {
  return [
    `id: ${id}`,
    `name: ${name}`,
    `trigger: { event: "Never Sent ${id}" }`,
    'reentry: always',
    'start: hello',
    'nodes:',
    `  hello: { type: email, template: ${template}, next: done }`,
    '  done: { type: exit }',
    '',
  ].join('\n');
}

describe('API: templates, journeys, enrollments, stats, messages, profiles', () => {
  const api = useStackApi();

  it('needs the Bearer token on every marketer route', async () => {
    for (const path of ['/journeys', '/templates', '/profiles?userId=x', '/messages?profileId=x']) {
      for (const auth of [
        null,
        'Bearer wrong',
        `Basic ${Buffer.from('dev-write-key:').toString('base64')}`,
      ]) {
        const res = await api.get(path, auth);
        assert.equal(res.status, 401, `${path} with ${auth}`);
        assert.equal(res.body.error.code, 'unauthorized');
      }
    }
  });

  it('stores templates and reports Liquid errors with the field', async () => {
    const id = uniqueId('tpl');
    const bad = await api.put(`/templates/${id}`, {
      subject: 'Hi {{ profile.firstName',
      html: '<p>{% if %}</p>',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad), ['subject', 'html']);

    const created = await api.put(`/templates/${id}`, {
      subject: 'Hi {{ profile.firstName }}',
      text: 'Hello',
    });
    assert.equal(created.status, 201);
    const yaml = await api.request('PUT', `/templates/${id}`, {
      raw: 'subject: "Hello {{ profile.firstName }}"\nhtml: "<p>{{ event.plan }}</p>"\n',
      contentType: 'application/yaml',
    });
    assert.equal(yaml.status, 200);
    const got = await api.get(`/templates/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.subject, 'Hello {{ profile.firstName }}');
    assert.equal(got.body.html, '<p>{{ event.plan }}</p>');
    const list = await api.get('/templates');
    assert.ok(list.body.templates.some((t: { id: string }) => t.id === id));
    assert.equal((await api.get(`/templates/${uniqueId('missing')}`)).status, 404);
  });

  it('validates drafts from JSON and YAML bodies, listing every problem with its path', async () => {
    const id = journeyId('bad');
    const json = await api.put(`/journeys/${id}`, {
      name: 'Bad',
      trigger: { event: 'X' },
      start: 'first',
      nodes: {
        first: { type: 'email', template: uniqueId('nope'), next: 'missing' },
        w: { type: 'wait', for: 'soon' },
      },
    });
    assert.equal(json.status, 400);
    const fields = issueFields(json);
    for (const field of ['nodes.first.template', 'nodes.first.next', 'nodes.w.for']) {
      assert.ok(fields.includes(field), `${field} in ${fields.join(', ')}`);
    }

    const yamlSyntax = await api.request('PUT', `/journeys/${id}`, {
      raw: 'name: [unclosed\nstart: a\n',
      contentType: 'application/yaml',
    });
    assert.equal(yamlSyntax.status, 400);
    assert.match(yamlSyntax.body.error.message, /YAML at line \d+/);

    const yamlInvalid = await api.putYaml(
      `/journeys/${id}`,
      'name: Bad\nstart: a\nnodes:\n  a: { type: teleport }\n',
    );
    assert.equal(yamlInvalid.status, 400);
    assert.ok(issueFields(yamlInvalid).includes('trigger'), issueFields(yamlInvalid).join(', '));
    assert.ok(
      issueFields(yamlInvalid).some((f) => f.startsWith('nodes.a')),
      issueFields(yamlInvalid).join(', '),
    );

    assert.equal((await api.get(`/journeys/${id}`)).status, 404, 'nothing saved');
  });

  it('publishes versions, pauses, resumes, enrolls, counts, and archives', async () => {
    const template = uniqueId('tpl');
    await api.put(`/templates/${template}`, {
      subject: 'Welcome {{ profile.firstName }}',
      html: '<p>Plan: {{ event.plan }}</p>',
      text: 'Plan: {{ event.plan }}',
    });
    const id = journeyId('e2e');
    const created = await api.putYaml(`/journeys/${id}`, journeyYaml(id, template));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'draft');

    const draft = await api.get(`/journeys/${id}`);
    assert.equal(draft.body.asl, null);
    assert.equal(
      (await api.post(`/journeys/${id}/enrollments`, { userId: 'x' })).status,
      404,
      'not published',
    );
    assert.equal((await api.post(`/journeys/${id}/pause`)).status, 409, 'never published');

    const v1 = await api.post(`/journeys/${id}/publish`);
    assert.equal(v1.status, 200, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 1);
    assert.equal(v1.body.status, 'active');
    assert.equal((await api.post(`/journeys/${id}/publish`)).body.unchanged, true);

    assert.equal((await api.putYaml(`/journeys/${id}`, journeyYaml(id, template, 'API e2e v2'))).status, 200);
    const v2 = await api.post(`/journeys/${id}/publish`);
    assert.equal(v2.body.version, 2);
    assert.notEqual(v2.body.versionArn, v1.body.versionArn);

    const detail = await api.get(`/journeys/${id}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.name, 'API e2e v2');
    assert.equal(detail.body.definition.start, 'hello');
    assert.deepEqual(
      detail.body.versions.map((v: { version: number }) => v.version),
      [2, 1],
    );
    assert.equal(detail.body.asl.StartAt, 'hello');
    assert.ok(detail.body.asl.States.hello, 'states are named after nodes');
    const listed = (await api.get('/journeys')).body.journeys.find((j: { id: string }) => j.id === id);
    assert.deepEqual([listed.status, listed.publishedVersion], ['active', 2]);

    // A customer to enroll.
    const userId = uniqueId('enroll');
    const email = `${userId}@example.com`;
    await api.post('/v1/identify', { userId, traits: { email, firstName: 'Ada' } });
    await waitForIdle(api.httpUrl);
    const profile = await api.get(`/profiles?userId=${userId}`);
    assert.equal(profile.status, 200);
    const profileId: string = profile.body.profileId;

    assert.equal((await api.post(`/journeys/${id}/pause`)).body.status, 'paused');
    assert.equal(
      (await api.post(`/journeys/${id}/enrollments`, { userId })).status,
      409,
      'paused takes no entries',
    );
    assert.equal((await api.post(`/journeys/${id}/resume`)).body.status, 'active');

    const badEnrollment = await api.post(`/journeys/${id}/enrollments`, { context: 'x' });
    assert.equal(badEnrollment.status, 400);
    const enrolled = await api.post(`/journeys/${id}/enrollments`, { userId, context: { plan: 'pro' } });
    assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
    assert.equal(enrolled.body.started, true);
    assert.match(enrolled.body.executionName, new RegExp(`^${id}-v2-`));
    await waitForIdle(api.httpUrl);

    const outbox = await readOutbox(api.httpUrl, { journeyId: id });
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]!.to, email);
    assert.equal(outbox[0]!.subject, 'Welcome Ada');
    assert.match(outbox[0]!.html ?? '', /Plan: pro/);

    const stats = await api.get(`/journeys/${id}/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.journeyId, id);
    assert.equal(stats.body.nodes.hello.entered, 1);
    assert.equal(stats.body.nodes.hello.sent, 1);
    assert.equal(stats.body.goal.conversions, 0);

    const messages = await api.get(`/messages?profileId=${profileId}&journeyId=${id}`);
    assert.equal(messages.status, 200);
    assert.equal(messages.body.messages.length, 1);
    assert.equal(messages.body.messages[0].nodeId, 'hello');

    const timeline = await api.get(`/profiles/${profileId}/timeline`);
    assert.equal(timeline.status, 200);
    const kinds = new Set(timeline.body.entries.map((e: { kind: string }) => e.kind));
    assert.ok(kinds.has('event') && kinds.has('journey-step') && kinds.has('message'), [...kinds].join(', '));

    const broadcast = await api.post(`/journeys/${id}/broadcasts`, { segment: 'vips' });
    assert.equal(broadcast.status, 400);
    assert.deepEqual(issueFields(broadcast), ['segment']);

    const archived = await api.delete(`/journeys/${id}`);
    assert.equal(archived.status, 200);
    assert.equal(archived.body.status, 'archived');
    assert.equal((await api.post(`/journeys/${id}/publish`)).status, 409);
    assert.equal((await api.post(`/journeys/${id}/enrollments`, { userId })).status, 404);
  });

  it('answers 404 for unknown journeys and 405 for wrong methods', async () => {
    const id = journeyId('none');
    for (const [method, path] of [
      ['GET', `/journeys/${id}`],
      ['GET', `/journeys/${id}/stats`],
      ['POST', `/journeys/${id}/publish`],
      ['POST', `/journeys/${id}/pause`],
      ['DELETE', `/journeys/${id}`],
    ] as const) {
      const res = await api.request(method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.error.code, 'not_found');
    }
    const wrong = await api.request('PATCH', `/journeys/${id}`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, PUT, DELETE');
  });

  it('segments: 400 for a bad definition, 404 for an unknown segment (test/e2e/segments has the rest)', async () => {
    const bad = await api.request('PUT', '/segments/vips', { body: { rules: {} } });
    assert.equal(bad.status, 400);
    assert.equal((await api.request('GET', '/segments/no-such-segment')).status, 404);
  });

  it('looks profiles up, reads and erases them', async () => {
    const userId = uniqueId('prof');
    const email = `${userId}@example.com`;
    await api.post('/v1/identify', { userId, traits: { email, plan: 'free' } });
    await api.post('/v1/track', { userId, event: 'Viewed Pricing' });
    await waitForIdle(api.httpUrl);

    const byEmail = await api.get(`/profiles?email=${encodeURIComponent(email)}`);
    assert.equal(byEmail.status, 200);
    const profileId = byEmail.body.profileId;
    for (const key of ['profileId', 'identities', 'traits', 'firstSeen', 'lastSeen'])
      assert.ok(key in byEmail.body, key);
    assert.deepEqual(byEmail.body.identities.userId, [userId]);
    assert.equal((await api.get(`/profiles?userId=${userId}&email=${email}`)).status, 400);
    assert.equal((await api.get(`/profiles?anonymousId=${uniqueId('nobody')}`)).status, 404);

    const got = await api.get(`/profiles/${profileId}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.traits.plan, 'free');
    const timeline = await api.get(`/profiles/${profileId}/timeline?limit=1`);
    assert.equal(timeline.status, 200);
    assert.equal(timeline.body.events.length, 1);
    assert.ok(timeline.body.nextCursor);
    const next = await api.get(`/profiles/${profileId}/timeline?limit=1&cursor=${timeline.body.nextCursor}`);
    assert.equal(next.body.events.length, 1);
    assert.notEqual(next.body.events[0].messageId, timeline.body.events[0].messageId);

    const erased = await api.delete(`/profiles/${profileId}`);
    assert.equal(erased.status, 200);
    assert.equal((await api.get(`/profiles/${profileId}`)).status, 404);
    assert.equal((await api.get(`/profiles?email=${encodeURIComponent(email)}`)).status, 404);
    assert.equal((await api.get(`/profiles/${profileId}/timeline`)).status, 404);
    assert.equal((await api.delete(`/profiles/${profileId}`)).status, 404);
  });

  it('serves the local-only outbox and clock routes', async () => {
    const clock = await api.get('/local/clock', null);
    assert.equal(clock.status, 200);
    assert.ok(Number.isFinite(Date.parse(clock.body.now)));
    const outbox = await api.get('/local/outbox', null);
    assert.equal(outbox.status, 200);
    assert.ok(Array.isArray(outbox.body.messages));
  });
});
