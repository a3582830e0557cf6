import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRouter, type ProfilesApi } from '../../../functions/api/routes.js';
import { listActiveJourneys } from '../../../shared/catalog/active.js';
import { JourneyCatalog, type JourneyLanguage } from '../../../shared/catalog/catalog.js';
import { fakeDeployer, memoryCatalogStore } from '../../../shared/catalog/memory.js';
import { ManualClock } from '../../../shared/clock.js';
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import { constantTokenVerifier, constantWriteKeyVerifier } from '../../../shared/http/auth.js';
import type { BusEntry, EventPublisher } from '../../../shared/http/ingestion.js';
import type { Journey } from '../../../shared/journeys/schema.js';
import { apiEvent, basic, bearer } from './support.js';

/** A stand-in for shared/journeys: requires `start` and `nodes`, and templates that exist. */
const language: JourneyLanguage = {
  validate(input, { templateIds }) {
    const doc = input as Record<string, unknown>;
    const issues = [];
    if (typeof doc.start !== 'string') issues.push({ path: ['start'], message: 'start is required' });
    const nodes = (doc.nodes ?? {}) as Record<string, { type?: string; template?: string }>;
    for (const [id, node] of Object.entries(nodes)) {
      if (node.type === 'email' && !templateIds.has(String(node.template))) {
        issues.push({ path: ['nodes', id, 'template'], message: `unknown template ${node.template}` });
      }
    }
    if (issues.length) throw new ValidationError(issues);
    return doc as unknown as Journey;
  },
  compile(definition) {
    const task = { Type: 'Task', Resource: '$' + '{StepFunctionArn}', End: true };
    return { Comment: String(definition.name), StartAt: 'a', States: { a: task } };
  },
};

function setup(options: { failFirst?: number; alwaysFail?: boolean } = {}) {
  const calls: BusEntry[][] = [];
  let toFail = options.failFirst ?? 0;
  const publisher: EventPublisher = {
    async putEvents(entries) {
      calls.push(entries);
      if (options.alwaysFail)
        return { failed: entries.map((_, index) => ({ index, code: 'InternalFailure' })) };
      const failed = [];
      for (let index = 0; index < entries.length && toFail > 0; index++, toFail--) failed.push({ index });
      return { failed };
    },
  };
  const clock = new ManualClock();
  const deployer = fakeDeployer();
  const changed: string[] = [];
  const store = memoryCatalogStore();
  const catalog = new JourneyCatalog({
    store,
    deployer,
    language,
    clock,
    stepFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step',
    onChange: (id) => changed.push(id),
  });
  const profiles: ProfilesApi = {
    find: async () => {
      throw new NotFoundError('no profile has that identifier');
    },
    get: async (id) => ({ profileId: id }),
    timeline: async (id) => ({ profileId: id, events: [] }),
    erase: async (id) => ({ profileId: id, erased: true }),
  };
  let n = 0;
  const router = createRouter({
    catalog,
    publisher,
    parse: { clock, ids: { next: () => `id-${++n}` } },
    writeKeys: constantWriteKeyVerifier(['wk']),
    tokens: constantTokenVerifier('tok'),
    profiles,
  });
  const send = async (method: string, path: string, init: Parameters<typeof apiEvent>[2] = {}) => {
    const auth = path.startsWith('/v1/') ? basic('wk') : bearer('tok');
    const result = await router.handle(
      apiEvent(method, path, { ...init, headers: { authorization: auth, ...init.headers } }),
    );
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };
  return { send, calls, deployer, catalog, store, clock, changed };
}

const track = (i: number) => ({ type: 'track', event: 'Signed Up', userId: `u${i}`, messageId: `m${i}` });

describe('ingestion routes', () => {
  it('puts a tracked event on the bus with DetailType = type and answers like Segment', async () => {
    const { send, calls } = setup();
    const res = await send('POST', '/v1/track', {
      body: { event: 'Signed Up', userId: 'u1', properties: { a: 1 } },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true });
    assert.equal(calls.length, 1);
    const [entry] = calls[0]!;
    assert.equal(entry!.DetailType, 'track');
    assert.equal(entry!.Source, 'cairn.http');
    const detail = JSON.parse(entry!.Detail);
    assert.equal(detail.event, 'Signed Up');
    assert.equal(detail.messageId, 'id-1');
    assert.deepEqual(detail.properties, { a: 1 });
  });

  it('answers 400 with the failing field path and publishes nothing', async () => {
    const { send, calls } = setup();
    const res = await send('POST', '/v1/track', { body: { event: 'X' } });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.error.details.issues.map((i: { field: string }) => i.field),
      ['userId'],
    );
    assert.equal(calls.length, 0);
  });

  it('rejects a whole batch naming every bad entry', async () => {
    const { send, calls } = setup();
    const res = await send('POST', '/v1/batch', {
      body: {
        batch: [track(0), { type: 'track', userId: 'u' }, { type: 'track', event: 'E' }, { type: 'nope' }],
      },
    });
    assert.equal(res.status, 400);
    const fields = res.body.error.details.issues.map((i: { field: string }) => i.field);
    assert.deepEqual(fields, ['batch[1].event', 'batch[2].userId', 'batch[3].type']);
    assert.equal(calls.length, 0);
  });

  it('sends a batch in PutEvents calls of at most 10 entries', async () => {
    const { send, calls } = setup();
    const res = await send('POST', '/v1/batch', {
      body: { batch: Array.from({ length: 23 }, (_, i) => track(i)) },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      calls.map((c) => c.length),
      [10, 10, 3],
    );
  });

  it('retries entries PutEvents reported as failed', async () => {
    const { send, calls } = setup({ failFirst: 2 });
    const res = await send('POST', '/v1/batch', { body: { batch: [track(1), track(2), track(3)] } });
    assert.equal(res.status, 200);
    assert.deepEqual(
      calls.map((c) => c.map((e) => JSON.parse(e.Detail).messageId)),
      [
        ['m1', 'm2', 'm3'],
        ['m1', 'm2'],
      ],
    );
  });

  it('answers 503 when entries keep failing, so the sender retries', async () => {
    const { send, calls } = setup({ alwaysFail: true });
    const res = await send('POST', '/v1/identify', { body: { userId: 'u1', traits: { plan: 'pro' } } });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'service_unavailable');
    assert.equal(calls.length, 3);
  });

  it("accepts @segment/analytics-node's request body unchanged", async () => {
    const { send, calls } = setup();
    const body = {
      batch: [
        {
          type: 'track',
          event: 'Order Completed',
          userId: 'u1',
          properties: { total: 10 },
          messageId: 'node-next-1700000000000-abc',
          timestamp: '2026-01-01T00:00:00.000Z',
          context: { library: { name: '@segment/analytics-node', version: '3.1.0' } },
          integrations: {},
          _metadata: { nodeVersion: '20.20.0', jsRuntime: 'node' },
        },
      ],
      writeKey: 'wk',
      sentAt: '2026-01-01T00:00:01.000Z',
    };
    const res = await send('POST', '/v1/batch', {
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'analytics-node-next/latest' },
    });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(calls[0]![0]!.Detail).messageId, 'node-next-1700000000000-abc');
  });
});

const journey = {
  name: 'Welcome',
  trigger: { event: 'Signed Up' },
  start: 'hello',
  nodes: { hello: { type: 'email', template: 'welcome', next: 'done' }, done: { type: 'exit' } },
};

describe('journey and template routes', () => {
  it('saves a draft, publishes versions, and lists them', async () => {
    const { send, deployer, changed } = setup();
    assert.equal(
      (
        await send('PUT', '/templates/welcome', {
          body: { subject: 'Hi {{ profile.firstName }}', text: 'x' },
        })
      ).status,
      201,
    );
    const created = await send('PUT', '/journeys/welcome', { body: journey });
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'draft');

    const v1 = await send('POST', '/journeys/welcome/publish');
    assert.equal(v1.status, 200);
    assert.equal(v1.body.version, 1);
    assert.equal(v1.body.status, 'active');
    assert.match(v1.body.versionArn, /:stateMachine:cairn-welcome:1$/);
    assert.match(deployer.deployed[0]!.definition, /function:cairn-step/);
    assert.doesNotMatch(deployer.deployed[0]!.definition, /\$\{StepFunctionArn\}/);

    const again = await send('POST', '/journeys/welcome/publish');
    assert.equal(again.body.version, 1);
    assert.equal(again.body.unchanged, true);
    assert.equal(deployer.deployed.length, 1);

    assert.equal(
      (await send('PUT', '/journeys/welcome', { body: { ...journey, name: 'Welcome 2' } })).status,
      200,
    );
    const v2 = await send('POST', '/journeys/welcome/publish');
    assert.equal(v2.body.version, 2);
    assert.match(v2.body.versionArn, /:2$/);

    const detail = await send('GET', '/journeys/welcome');
    assert.equal(detail.status, 200);
    assert.equal(detail.body.name, 'Welcome 2');
    assert.equal(detail.body.published.version, 2);
    assert.deepEqual(
      detail.body.versions.map((v: { version: number }) => v.version),
      [2, 1],
    );
    assert.equal(detail.body.asl.StartAt, 'a');

    const list = await send('GET', '/journeys');
    assert.deepEqual(
      list.body.journeys.map((j: { id: string; status: string }) => [j.id, j.status]),
      [['welcome', 'active']],
    );
    assert.deepEqual(changed, ['welcome', 'welcome']);
  });

  it('takes YAML bodies and reports every validation problem with its path', async () => {
    const { send } = setup();
    const yaml = 'name: Broken\nnodes:\n  hello: { type: email, template: nope }\n';
    const res = await send('PUT', '/journeys/broken', {
      rawBody: yaml,
      headers: { 'content-type': 'application/yaml' },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.error.details.issues.map((i: { field: string }) => i.field),
      ['start', 'nodes.hello.template'],
    );
    assert.equal((await send('GET', '/journeys/broken')).status, 404);
  });

  it('refuses definitions too large to store', async () => {
    const { send } = setup();
    await send('PUT', '/templates/welcome', { body: { subject: 'Hi', text: 'x' } });
    const res = await send('PUT', '/journeys/big', {
      body: { ...journey, description: 'x'.repeat(140_000) },
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'payload_too_large');
  });

  it('rejects an id in the body that differs from the URL', async () => {
    const { send } = setup();
    const res = await send('PUT', '/journeys/a', { body: { ...journey, id: 'b' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.details.issues[0].field, 'id');
  });

  it('pauses, resumes and archives; archived journeys refuse changes', async () => {
    const { send, store } = setup();
    await send('PUT', '/templates/welcome', { body: { subject: 'Hi', html: '<p>x</p>' } });
    await send('PUT', '/journeys/w', { body: journey });
    assert.equal((await send('POST', '/journeys/w/pause')).status, 409, 'never published');
    await send('POST', '/journeys/w/publish');
    assert.equal((await send('POST', '/journeys/w/pause')).body.status, 'paused');
    assert.deepEqual(
      (await listActiveJourneys(store)).map((j) => [j.id, j.status, j.version]),
      [['w', 'paused', 1]],
    );
    assert.equal((await send('POST', '/journeys/w/publish')).body.status, 'paused', 'publish keeps a pause');
    assert.equal((await send('POST', '/journeys/w/resume')).body.status, 'active');
    assert.equal((await send('DELETE', '/journeys/w')).body.status, 'archived');
    assert.deepEqual(await listActiveJourneys(store), []);
    for (const [method, path] of [
      ['PUT', '/journeys/w'],
      ['POST', '/journeys/w/publish'],
      ['POST', '/journeys/w/resume'],
    ] as const) {
      const res = await send(method, path, method === 'PUT' ? { body: journey } : {});
      assert.equal(res.status, 409, `${method} ${path}`);
    }
  });

  it('gives the runtime entry rules of published journeys', async () => {
    const { send, store } = setup();
    await send('PUT', '/templates/welcome', { body: { subject: 'Hi', text: 'x' } });
    await send('PUT', '/journeys/w', {
      body: { ...journey, reentry: { after: 'P1D' }, exitOn: [{ event: 'Unsubscribed' }] },
    });
    await send('PUT', '/journeys/draft-only', { body: journey });
    await send('POST', '/journeys/w/publish');
    const [active, ...rest] = await listActiveJourneys(store);
    assert.equal(rest.length, 0);
    assert.equal(active!.id, 'w');
    assert.equal(active!.status, 'active');
    assert.match(active!.stateMachineArn, /:1$/);
    assert.deepEqual(active!.trigger, { event: 'Signed Up' });
    assert.deepEqual(active!.reentry, { after: 'P1D' });
    assert.deepEqual(active!.exitOn, [{ event: 'Unsubscribed' }]);
  });

  it('validates Liquid in templates and names the field', async () => {
    const { send } = setup();
    const bad = await send('PUT', '/templates/t', { body: { subject: 'Hi {{ name', html: '{% if %}' } });
    assert.equal(bad.status, 400);
    const fields = bad.body.error.details.issues.map((i: { field: string }) => i.field);
    assert.deepEqual(fields, ['subject', 'html']);
    const unknown = await send('PUT', '/templates/t', { body: { subject: 'x', text: 'y', body: 'z' } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.details.issues[0].field, 'body');

    assert.equal(
      (await send('PUT', '/templates/t', { body: { subject: 'Hi', text: 'Hello {{ profile.name }}' } }))
        .status,
      201,
    );
    assert.equal((await send('PUT', '/templates/t', { body: { subject: 'Hi', text: 'Again' } })).status, 200);
    const got = await send('GET', '/templates/t');
    assert.equal(got.body.text, 'Again');
    assert.equal(got.body.revision, 2);
    assert.deepEqual(
      (await send('GET', '/templates')).body.templates.map((t: { id: string }) => t.id),
      ['t'],
    );
    assert.equal((await send('GET', '/templates/missing')).status, 404);
  });

  it('refuses a template id no email node could reference (the id rule email nodes use)', async () => {
    const { send } = setup();
    const refused = await send('PUT', '/templates/Welcome_Email', { body: { subject: 'Hi', text: 'x' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.details.issues[0].field, 'id');
    assert.match(refused.body.error.details.issues[0].message, /lowercase letters, digits and -/);
    assert.equal((await send('GET', '/templates')).body.templates.length, 0);
    assert.equal(
      (await send('PUT', '/templates/welcome-email', { body: { subject: 'Hi', text: 'x' } })).status,
      201,
    );
  });
});

describe('other routes', () => {
  it('answers 501 with a clear message for broadcasts and segments', async () => {
    const { send } = setup();
    const broadcasts = await send('POST', '/journeys/w/broadcasts', { body: {} });
    assert.equal(broadcasts.status, 501, 'without the broadcast queue configured');
    assert.match(broadcasts.body.error.message, /broadcasts/);
    for (const [method, path] of [
      ['PUT', '/segments/s'],
      ['GET', '/segments/s'],
    ] as const) {
      const res = await send(method, path, { body: {} });
      assert.equal(res.status, 501);
      assert.equal(res.body.error.code, 'not_implemented');
      assert.match(res.body.error.message, /segment/);
    }
  });

  it('needs exactly one identifier to look a profile up', async () => {
    const { send } = setup();
    assert.equal((await send('GET', '/profiles')).status, 400);
    assert.equal((await send('GET', '/profiles', { query: { userId: 'a', email: 'b' } })).status, 400);
    assert.equal((await send('GET', '/profiles', { query: { userId: 'a' } })).status, 404);
    assert.equal((await send('GET', '/profiles/p1/timeline', { query: { limit: 'x' } })).status, 400);
    assert.equal((await send('DELETE', '/profiles/p1')).body.erased, true);
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    const { send } = setup();
    assert.equal((await send('GET', '/nothing/here')).status, 404);
    assert.equal((await send('PATCH', '/journeys/w')).status, 405);
    assert.equal((await send('GET', '/v1/track')).status, 405);
  });
});
