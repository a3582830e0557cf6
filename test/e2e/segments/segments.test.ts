import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { advanceClock, waitForIdle } from '../../support/local.js';
import { testStack } from '../../support/stack.js';
import { apiClient, issueFields } from '../api/client.js';

let httpUrl: string;
let api: ReturnType<typeof apiClient>;
before(async () => {
  httpUrl = (await testStack()).httpUrl;
  api = apiClient(httpUrl);
});
const unique = () => randomUUID().slice(0, 8);

async function track(userId: string, event: string, properties: Record<string, unknown> = {}) {
  const out = await api.post('/v1/track', { userId, event, properties });
  assert.equal(out.status, 200, JSON.stringify(out.body));
}

async function identify(
  userId: string,
  traits: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const out = await api.post('/v1/identify', { userId, traits, ...extra });
  assert.equal(out.status, 200, JSON.stringify(out.body));
}

async function members(segmentId: string): Promise<string[]> {
  await waitForIdle(httpUrl);
  const out = await api.get(`/segments/${segmentId}/members?limit=1000`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.members.map((m: { profileId: string }) => m.profileId);
}

async function profileIdOf(userId: string): Promise<string> {
  await waitForIdle(httpUrl);
  const out = await api.get(`/profiles?userId=${encodeURIComponent(userId)}`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.profileId;
}

async function ready(segmentId: string) {
  await waitForIdle(httpUrl);
  const out = await api.get(`/segments/${segmentId}`);
  assert.equal(out.body.status, 'ready', JSON.stringify(out.body));
  return out.body;
}

describe('segments on the local stack', () => {
  test('the issue example is accepted as YAML, and a traits segment fills as events arrive', async () => {
    const suffix = unique();
    // Values of this test's own: the stack is shared, other tests' customers must not match.
    const newsletter = `weekly-${suffix}`;
    const readers = await api.put(`/segments/newsletter-readers-${suffix}`, {
      id: `newsletter-readers-${suffix}`,
      name: 'Newsletter readers',
      where: { traits: { newsletter: [newsletter] } },
    });
    assert.equal(readers.status, 201, JSON.stringify(readers.body));
    const yaml = `id: repeat-buyers-fr-${suffix}
name: Repeat buyers in France
where:
  all:
    - traits: { country: ["FR"] }
    - performed: { event: "Order Completed", where: { properties: { total: [{ numeric: [">", 0] }] } },
                   count: { ">=": 2 }, within: P30D }
    - not: { performed: { event: "Unsubscribed" } }
    - lastSeen: { within: P7D }
    - stage: [active, new]
    - score: { lead: { engagement: { ">=": 20 } } }
    - segment: newsletter-readers-${suffix}
`;
    const out = await api.putYaml(`/segments/repeat-buyers-fr-${suffix}`, yaml);
    assert.equal(out.status, 201, JSON.stringify(out.body));
    assert.equal(out.body.status, 'building');
    await ready(`repeat-buyers-fr-${suffix}`);

    const userId = `u-${unique()}`;
    await identify(userId, { newsletter, country: 'FR' });
    const profileId = await profileIdOf(userId);
    assert.deepEqual(await members(`newsletter-readers-${suffix}`), [profileId]);
    const profile = await api.get(`/profiles/${profileId}`);
    assert.deepEqual(
      profile.body.segments.map((s: { segmentId: string }) => s.segmentId),
      [`newsletter-readers-${suffix}`],
    );
    const detail = await api.get(`/segments/newsletter-readers-${suffix}`);
    assert.equal(detail.body.count, 1);
    await identify(userId, { newsletter: false });
    assert.deepEqual(await members(`newsletter-readers-${suffix}`), []);
    assert.equal((await api.get(`/segments/newsletter-readers-${suffix}`)).body.count, 0);
  });

  test('a second order in P30D enters; it leaves when the first order falls out of the window (virtual clock)', async () => {
    const id = `buyers-${unique()}`;
    // An event of this test's own: other tests' customers on the shared stack order too.
    const order = `Order Completed ${id}`;
    const put = await api.put(`/segments/${id}`, {
      id,
      name: 'Repeat buyers',
      where: {
        performed: {
          event: order,
          where: { properties: { total: [{ numeric: ['>', 0] }] } },
          count: { '>=': 2 },
          within: 'P30D',
        },
      },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    await ready(id);
    const userId = `u-${unique()}`;
    await track(userId, order, { total: 10 });
    const profileId = await profileIdOf(userId);
    assert.deepEqual(await members(id), []);
    await advanceClock(httpUrl, 'P10D');
    await track(userId, order, { total: 0 });
    assert.deepEqual(await members(id), [], 'a zero total does not count');
    await track(userId, order, { total: 5 });
    assert.deepEqual(await members(id), [profileId]);
    await advanceClock(httpUrl, 'P19D');
    assert.deepEqual(await members(id), [profileId], 'both orders still inside P30D');
    await advanceClock(httpUrl, 'P2D');
    assert.deepEqual(await members(id), [], 'the first order fell out of the window');
  });

  test('lastSeen before: a silent customer enters when the window passes', async () => {
    const id = `silent-${unique()}`;
    await api.put(`/segments/${id}`, { id, name: 'Silent', where: { lastSeen: { before: 'P7D' } } });
    await ready(id);
    const userId = `u-${unique()}`;
    await track(userId, 'Page Viewed');
    const profileId = await profileIdOf(userId);
    // Profiles of other tests on this stack may be silent too: look at this one.
    assert.equal((await members(id)).includes(profileId), false);
    await advanceClock(httpUrl, 'P8D');
    assert.equal((await members(id)).includes(profileId), true);
    await track(userId, 'Page Viewed');
    assert.equal((await members(id)).includes(profileId), false, 'active again');
  });

  // Under the full suite this failed at its first check: the stack is shared, and customers of other
  // tests (pro, with an order) were already members. Its own plan and event make it about its profiles.
  test('a merge moves the profile into the segment', async () => {
    const id = `merged-${unique()}`;
    const plan = `pro-${id}`;
    const order = `Order Completed ${id}`;
    await api.put(`/segments/${id}`, {
      id,
      name: 'Pro that ordered',
      where: { all: [{ traits: { plan: [plan] } }, { performed: { event: order } }] },
    });
    await ready(id);
    const anonymousId = `a-${unique()}`;
    const userId = `u-${unique()}`;
    const anon = await api.post('/v1/track', { anonymousId, event: order, properties: {} });
    assert.equal(anon.status, 200);
    await identify(userId, { plan });
    assert.deepEqual(await members(id), []);
    await identify(userId, {}, { anonymousId });
    const profileId = await profileIdOf(userId);
    assert.deepEqual(await members(id), [profileId]);
  });

  test('a segment built from existing profiles: building, then ready with the count; preview stores nothing', async () => {
    const country = `C${unique()}`;
    const users = Array.from({ length: 3 }, () => `u-${unique()}`);
    for (const userId of users) await identify(userId, { country });
    await waitForIdle(httpUrl);
    const preview = await api.post('/segments/preview', { where: { traits: { country: [country] } } });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.count, 3);
    assert.equal(preview.body.sample.length, 3);
    const id = `backfill-${unique()}`;
    await api.put(`/segments/${id}`, { id, name: 'By country', where: { traits: { country: [country] } } });
    const built = await ready(id);
    assert.equal(built.count, 3);
    assert.equal((await members(id)).length, 3);
    const deleted = await api.delete(`/segments/${id}`);
    assert.equal(deleted.status, 200);
    assert.equal((await api.get(`/segments/${id}`)).status, 404);
  });

  test('GET /segments lists status and count; members come page by page (limit, cursor); bad paging is a 400 with the path', async () => {
    const country = `P${unique()}`;
    const users = Array.from({ length: 5 }, () => `u-${unique()}`);
    for (const userId of users) await identify(userId, { country });
    const id = `paged-${unique()}`;
    await api.put(`/segments/${id}`, { id, name: 'Paged', where: { traits: { country: [country] } } });
    await ready(id);
    const list = await api.get('/segments');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(
      list.body.segments.find((s: { id: string }) => s.id === id),
      { id, name: 'Paged', status: 'ready', count: 5 },
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.get(`/segments/${id}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.members.length <= 2);
      assert.ok(page.body.members.every((m: { since: string }) => !Number.isNaN(Date.parse(m.since))));
      seen.push(...page.body.members.map((m: { profileId: string }) => m.profileId));
      cursor = page.body.next;
    } while (cursor);
    const expected = await Promise.all(users.map(profileIdOf));
    assert.deepEqual(seen, [...expected].sort());
    const badLimit = await api.get(`/segments/${id}/members?limit=0`);
    assert.equal(badLimit.status, 400);
    assert.deepEqual(issueFields(badLimit), ['limit']);
    const badCursor = await api.get(`/segments/${id}/members?cursor=not%20a%20cursor`);
    assert.equal(badCursor.status, 400);
    assert.deepEqual(issueFields(badCursor), ['cursor']);
    assert.equal((await api.get('/segments/no-such-segment/members')).status, 404);
  });

  test('bad input: every problem with its path; unknown segments and cycles refused', async () => {
    const id = `bad-${unique()}`;
    const bad = await api.put(`/segments/${id}`, {
      id,
      name: '',
      where: { all: [{ traits: { a: 1 }, stage: ['x'] }, { performed: { event: 'x', within: 'P1M' } }] },
    });
    assert.equal(bad.status, 400);
    const fields = issueFields(bad);
    assert.ok(fields.includes('name'), fields.join());
    assert.ok(fields.includes('where.all[0]'), fields.join());
    assert.ok(fields.includes('where.all[1].performed.within'), fields.join());
    const unknown = await api.put(`/segments/${id}`, {
      id,
      name: 'x',
      where: { segment: 'no-such-segment' },
    });
    assert.equal(unknown.status, 400);
    assert.deepEqual(issueFields(unknown), ['where.segment']);
    const a = `cycle-a-${unique()}`;
    const b = `cycle-b-${unique()}`;
    assert.equal(
      (await api.put(`/segments/${a}`, { id: a, name: 'a', where: { traits: { x: [1] } } })).status,
      201,
    );
    assert.equal((await api.put(`/segments/${b}`, { id: b, name: 'b', where: { segment: a } })).status, 201);
    const cycle = await api.put(`/segments/${a}`, { id: a, name: 'a', where: { segment: b } });
    assert.equal(cycle.status, 400, JSON.stringify(cycle.body));
    assert.match(JSON.stringify(cycle.body), /cycle/);
    assert.equal((await api.delete(`/segments/${a}`)).status, 409, 'b reads a');
  });
});
