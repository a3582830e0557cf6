import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { listActiveJourneys } from '../../../shared/catalog/active.js';
import { JourneyCatalog } from '../../../shared/catalog/catalog.js';
import {
  type CustomResourceEvent,
  DeployedJourneys,
  journeyResource,
  sendCustomResourceResponse,
} from '../../../shared/catalog/deployed.js';
import { journeyLanguage } from '../../../shared/catalog/language.js';
import { fakeDeployer, memoryCatalogStore } from '../../../shared/catalog/memory.js';
import { ManualClock } from '../../../shared/clock.js';
import { ValidationError } from '../../../shared/errors.js';

const machine = 'arn:aws:states:us-east-1:1:stateMachine:cairn-welcome';
const definition = {
  id: 'welcome',
  name: 'Welcome',
  trigger: { event: 'Signed Up' },
  start: 'hello',
  nodes: { hello: { type: 'email', template: 'welcome', next: 'done' }, done: { type: 'exit' } },
};
const template = { id: 'welcome', subject: 'Hi {{ profile.firstName }}', text: 'Hello' };

function setup() {
  const store = memoryCatalogStore();
  const deployer = fakeDeployer();
  const changed: string[] = [];
  const deps = {
    store,
    deployer,
    language: journeyLanguage,
    clock: new ManualClock(Date.parse('2026-05-01T00:00:00Z')),
    stepFunctionArn: 'arn:aws:lambda:us-east-1:1:function:step',
    onChange: (id: string) => changed.push(id),
  };
  const catalog = new JourneyCatalog(deps);
  const deployed = new DeployedJourneys(deps);
  const register = (overrides: Record<string, unknown> = {}) =>
    deployed.register({
      journeyId: 'welcome',
      definition,
      asl: '{"StartAt":"hello"}',
      versionArn: `${machine}:1`,
      stateMachineArn: machine,
      aliasArn: `${machine}:live`,
      templates: [template],
      ...overrides,
    });
  return { store, deployer, catalog, deployed, register, changed };
}

describe('DeployedJourneys.register', () => {
  it('writes what publish writes: an active head at version 1 and the version record, deploying nothing', async () => {
    const { store, deployer, catalog, register, changed } = setup();
    const result = await register();
    assert.deepEqual(result, {
      journeyId: 'welcome',
      version: 1,
      versionArn: `${machine}:1`,
      stateMachineArn: machine,
      status: 'active',
      unchanged: false,
    });
    assert.equal(deployer.deployed.length, 0);
    assert.deepEqual(changed, ['welcome']);
    const [active] = await listActiveJourneys(store);
    assert.equal(active!.stateMachineArn, `${machine}:1`);
    assert.deepEqual(active!.trigger, { event: 'Signed Up' });
    const head = (await store.getJourney('welcome'))!;
    assert.equal(head.published!.aliasArn, `${machine}:live`);
    assert.equal(head.name, 'Welcome');
    const version = (await catalog.getVersion('welcome', 1))!;
    assert.equal(version.asl, '{"StartAt":"hello"}');
    assert.equal(
      ((await catalog.templates.get('welcome')) as { subject?: string }).subject,
      template.subject,
    );
  });

  it('is idempotent: the same deploy writes nothing; a changed definition or version becomes version N+1', async () => {
    const { store, catalog, register } = setup();
    await register();
    const before = (await store.getJourney('welcome'))!;
    const templateRevision = (await catalog.templates.get('welcome')).revision;
    const again = await register();
    assert.equal(again.unchanged, true);
    assert.equal(again.version, 1);
    assert.deepEqual(await store.getJourney('welcome'), before);
    assert.equal(
      (await catalog.templates.get('welcome')).revision,
      templateRevision,
      'same template: not rewritten',
    );

    // Definition only (e.g. a node setting): same state machine version, new catalog version.
    const renamed = await register({ definition: { ...definition, name: 'Welcome 2' } });
    assert.equal(renamed.version, 2);
    assert.equal(renamed.versionArn, `${machine}:1`);
    const next = await register({
      definition: { ...definition, name: 'Welcome 2' },
      versionArn: `${machine}:2`,
    });
    assert.equal(next.version, 3);
    assert.deepEqual(
      (await store.listVersions('welcome')).map((v) => v.version),
      [3, 2, 1],
    );
    const changedTemplate = await register({
      definition: { ...definition, name: 'Welcome 2' },
      versionArn: `${machine}:2`,
      templates: [{ ...template, text: 'Hello again' }],
    });
    assert.equal(changedTemplate.unchanged, true);
    assert.equal(((await catalog.templates.get('welcome')) as { text?: string }).text, 'Hello again');
    assert.equal((await catalog.templates.get('welcome')).revision, templateRevision + 1);
  });

  it('keeps a paused journey paused; revives an archived one (the stack is the source of truth)', async () => {
    const { store, catalog, register } = setup();
    await register();
    await catalog.pause('welcome');
    assert.equal((await register({ versionArn: `${machine}:2` })).status, 'paused');
    await catalog.archive('welcome');
    const revived = await register({ versionArn: `${machine}:2` });
    assert.equal(revived.status, 'active');
    assert.equal(revived.unchanged, true);
    assert.equal((await listActiveJourneys(store)).length, 1);
  });

  it('validates the definition (templates included) and the ids', async () => {
    const { register } = setup();
    await assert.rejects(register({ templates: [] }), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(JSON.stringify(error.issues), /unknown template 'welcome'/);
      return true;
    });
    await assert.rejects(register({ journeyId: 'bad id' }), ValidationError);
    await assert.rejects(register({ definition: [] }), ValidationError);
    await assert.rejects(
      register({ templates: [{ id: 'welcome', subject: '{{ unclosed' }] }),
      ValidationError,
    );
  });

  it('archive archives only a journey still on that state machine', async () => {
    const { store, deployed, register } = setup();
    assert.equal(await deployed.archive('welcome', machine), undefined);
    await register();
    assert.equal((await deployed.archive('welcome', `${machine}-other`))!.status, 'active');
    assert.equal((await deployed.archive('welcome', machine))!.status, 'archived');
    assert.deepEqual(await listActiveJourneys(store), []);
  });
});

describe('Custom::CairnJourney requests', () => {
  const event = (type: CustomResourceEvent['RequestType'], extra: Partial<CustomResourceEvent> = {}) =>
    ({
      RequestType: type,
      ResponseURL: 'https://s3.example/response',
      StackId: 'stack',
      RequestId: `req-${type}`,
      LogicalResourceId: 'JourneyWelcomeCatalog',
      ResourceProperties: {
        JourneyId: 'welcome',
        Definition: JSON.stringify(definition),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the ASL placeholder, literally
        AslGzip: gzipSync('{"Resource":"${StepFunctionArn}"}').toString('base64'),
        StepFunctionArn: 'arn:step',
        VersionArn: `${machine}:1`,
        StateMachineArn: machine,
        AliasArn: `${machine}:live`,
        Templates: JSON.stringify([template]),
        Hash: 'h',
      },
      ...extra,
    }) as CustomResourceEvent;

  it('Create and Update register (ASL unzipped, placeholders filled); Delete archives', async () => {
    const { catalog, deployed } = setup();
    const created = await journeyResource(event('Create'), deployed);
    assert.equal(created.Status, 'SUCCESS');
    assert.equal(created.PhysicalResourceId, 'cairn-journey:welcome');
    assert.deepEqual(created.Data, { Version: '1', Status: 'active' });
    assert.equal((await catalog.getVersion('welcome', 1))!.asl, '{"Resource":"arn:step"}');
    const updated = await journeyResource(
      event('Update', { PhysicalResourceId: 'cairn-journey:welcome' }),
      deployed,
    );
    assert.deepEqual(updated.Data, { Version: '1', Status: 'active' });
    const deleted = await journeyResource(
      event('Delete', { PhysicalResourceId: 'cairn-journey:welcome' }),
      deployed,
    );
    assert.equal(deleted.Status, 'SUCCESS');
    assert.equal((await catalog.getJourney('welcome')).journey.status, 'archived');
  });

  it('a failure is FAILED with the reason; the Delete after a failed Create archives nothing', async () => {
    const { catalog, deployed } = setup();
    await journeyResource(event('Create'), deployed);
    const bad = event('Create', {
      ResourceProperties: {
        ...event('Create').ResourceProperties,
        JourneyId: 'other',
        Definition: JSON.stringify({
          ...definition,
          id: 'other',
          nodes: { ...definition.nodes, hello: { type: 'email', template: 'missing', next: 'done' } },
        }),
      },
    });
    const failed = await journeyResource(bad, deployed);
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.Reason!, /journey other: .*template/);
    const cleanup = await journeyResource(
      event('Delete', { PhysicalResourceId: failed.PhysicalResourceId }),
      deployed,
    );
    assert.equal(cleanup.Status, 'SUCCESS');
    assert.equal((await catalog.getJourney('welcome')).journey.status, 'active');
  });

  it('the response is PUT to the pre-signed URL as JSON', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch;
    const response = await journeyResource(event('Delete'), setup().deployed);
    await sendCustomResourceResponse('https://s3.example/response', response, fakeFetch);
    assert.equal(calls[0]!.init.method, 'PUT');
    assert.deepEqual(JSON.parse(String(calls[0]!.init.body)), response);
    const failing = (async () => new Response(null, { status: 403 })) as unknown as typeof fetch;
    await assert.rejects(sendCustomResourceResponse('https://s3.example/x', response, failing), /403/);
  });
});
