import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { parse } from 'yaml';
import { listActiveJourneys } from '../../../shared/catalog/active.js';
import { JourneyCatalog } from '../../../shared/catalog/catalog.js';
import { sfnDeployer } from '../../../shared/catalog/deployer.js';
import { DynamoCatalogStore } from '../../../shared/catalog/dynamodb.js';
import { journeyLanguage } from '../../../shared/catalog/language.js';
import type { JourneyRecord } from '../../../shared/catalog/types.js';
import { DynamoWriteKeyStore } from '../../../shared/catalog/write-keys.js';
import { systemClock } from '../../../shared/clock.js';
import { ConflictError, ValidationError } from '../../../shared/errors.js';
import type { Journey } from '../../../shared/journeys/schema.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../../shared/store/tables.js';
import { testStack } from '../../support/stack.js';
import { writeKeyStoreContract } from '../../support/write-keys.js';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const unique = (name: string) => `${name}-${run}`;
const examples = new URL('../../../statemachines/', import.meta.url).pathname;

let store: DynamoCatalogStore;
let catalog: JourneyCatalog;
let sfn: SFNClient;
/** Every AWS request the catalog makes, by operation name. */
const requests: string[] = [];

function countRequests(client: { middlewareStack: SFNClient['middlewareStack'] }): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      requests.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
}

before(async () => {
  await testStack();
  const client = createDocumentClient();
  countRequests(client as unknown as { middlewareStack: SFNClient['middlewareStack'] });
  store = new DynamoCatalogStore(client, tableName(journeysTable, process.env));
  sfn = new SFNClient({});
  countRequests(sfn);
  catalog = new JourneyCatalog({
    store,
    deployer: sfnDeployer(sfn, {
      roleArn: 'arn:aws:iam::000000000000:role/cairn-state-machine',
      namePrefix: 'cairn-',
    }),
    language: journeyLanguage,
    clock: systemClock,
    stepFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step',
  });
});

function head(id: string, revision: number, draft: Record<string, unknown> = { b: 1, a: 2 }): JourneyRecord {
  const at = new Date().toISOString();
  return {
    id,
    status: 'draft',
    // The store keeps any definition as it is; these stand in for validated journeys.
    draft: draft as unknown as Journey,
    draftUpdatedAt: at,
    latestVersion: 0,
    createdAt: at,
    updatedAt: at,
    revision,
  };
}

async function saveExampleTemplates(): Promise<void> {
  for (const file of readdirSync(join(examples, 'templates'))) {
    const id = file.replace(/\.template\.yaml$/, '');
    await catalog.templates.put(id, parse(readFileSync(join(examples, 'templates', file), 'utf8')));
  }
}

function exampleJourney(id: string, as: string): Record<string, unknown> {
  return { ...parse(readFileSync(join(examples, `${id}.journey.yaml`), 'utf8')), id: as };
}

describe('DynamoCatalogStore on DynamoDB Local', () => {
  it('keeps a definition exactly, key order included', async () => {
    const id = unique('order');
    await store.saveJourney(head(id, 1, { zeta: 1, alpha: { y: [1, { b: 2, a: 1 }], x: '' } }), undefined);
    const got = await store.getJourney(id);
    assert.equal(JSON.stringify(got?.draft), '{"zeta":1,"alpha":{"y":[1,{"b":2,"a":1}],"x":""}}');
  });

  it('refuses a write based on a stale revision, and a second create', async () => {
    const id = unique('rev');
    await store.saveJourney(head(id, 1), undefined);
    await assert.rejects(store.saveJourney(head(id, 1), undefined), ConflictError);
    await store.saveJourney(head(id, 2), 1);
    await assert.rejects(store.saveJourney(head(id, 3), 1), ConflictError);
    assert.equal((await store.getJourney(id))?.revision, 2);
  });

  it('writes a version and its head together, or neither', async () => {
    const id = unique('tx');
    await store.saveJourney(head(id, 1), undefined);
    const version = {
      journeyId: id,
      version: 1,
      definition: { a: 1 } as unknown as Journey,
      asl: '{}',
      versionArn: 'arn:x:1',
      stateMachineArn: 'arn:x',
      publishedAt: new Date().toISOString(),
    };
    await assert.rejects(
      store.savePublished({ ...head(id, 2), latestVersion: 1 }, 7, version),
      ConflictError,
    );
    assert.equal(await store.getVersion(id, 1), undefined, 'no version without its head');
    await store.savePublished({ ...head(id, 2), latestVersion: 1 }, 1, version);
    await store.savePublished({ ...head(id, 3), latestVersion: 2 }, 2, { ...version, version: 2 });
    assert.deepEqual(
      (await store.listVersions(id)).map((v) => v.version),
      [2, 1],
    );
    assert.deepEqual((await store.getVersion(id, 1))?.definition, { a: 1 });
  });
});

describe('JourneyCatalog on the local stack', () => {
  it('publishes an example journey as Step Functions versions, keeping older versions', async () => {
    await saveExampleTemplates();
    const id = unique('welcome');
    const definition = exampleJourney('welcome', id);
    requests.length = 0;
    const saved = await catalog.saveDraft(id, definition);
    assert.equal(saved.created, true);
    assert.deepEqual([...requests].sort(), ['GetItem', 'PutItem', 'Query'], 'a draft costs 3 requests');

    const stampBefore = await store.catalogStamp();
    requests.length = 0;
    const v1 = await catalog.publish(id);
    assert.equal(v1.version, 1);
    assert.equal(v1.unchanged, false);
    assert.deepEqual(
      [...requests].sort(),
      [
        'CreateStateMachine',
        'CreateStateMachineAlias',
        'GetItem',
        'Query',
        'TransactWriteItems',
        'UpdateItem',
      ],
      'a first publish costs 6 requests (the last moves the change stamp)',
    );
    assert.ok((await store.catalogStamp()) > stampBefore, 'a publish moves the change stamp');
    requests.length = 0;
    assert.equal((await catalog.publish(id)).unchanged, true);
    assert.deepEqual([...requests].sort(), ['GetItem', 'Query'], 'an unchanged publish deploys nothing');

    await catalog.saveDraft(id, { ...definition, name: 'Welcome, second take' });
    requests.length = 0;
    const v2 = await catalog.publish(id);
    assert.deepEqual(
      [...requests].sort(),
      [
        'GetItem',
        'Query',
        'TransactWriteItems',
        'UpdateItem',
        'UpdateStateMachine',
        'UpdateStateMachineAlias',
      ],
      'a later publish costs 6 requests',
    );
    assert.equal(v2.version, 2);
    assert.equal(v2.stateMachineArn, v1.stateMachineArn);
    assert.notEqual(v2.versionArn, v1.versionArn);

    const first = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: v1.versionArn }));
    const second = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: v2.versionArn }));
    assert.match(first.definition ?? '', /v1: Welcome series/);
    assert.match(second.definition ?? '', /v2: Welcome, second take/);
    assert.match(second.definition ?? '', /function:cairn-step/);
    assert.doesNotMatch(second.definition ?? '', /\$\{StepFunctionArn\}/);

    const alias = await sfn.send(
      new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${v2.stateMachineArn}:live` }),
    );
    assert.deepEqual(alias.routingConfiguration, [{ stateMachineVersionArn: v2.versionArn, weight: 100 }]);

    const { journey, versions } = await catalog.getJourney(id);
    assert.equal(journey.published?.aliasArn, `${v2.stateMachineArn}:live`);
    assert.equal(journey.status, 'active');
    assert.deepEqual(
      versions.map((v) => [v.version, v.versionArn]),
      [
        [2, v2.versionArn],
        [1, v1.versionArn],
      ],
    );
    const active = (await listActiveJourneys(store)).find((j) => j.id === id);
    assert.equal(active?.version, 2);
    assert.equal(active?.stateMachineArn, v2.versionArn);
    assert.deepEqual(active?.trigger, { event: 'Signed Up' });
    assert.equal(active?.reentry, 'never');
  });

  it('lists every validation problem with its path, unknown templates included', async () => {
    const id = unique('broken');
    const definition = exampleJourney('welcome', id) as { nodes: Record<string, Record<string, unknown>> };
    definition.nodes['welcome-email'] = { type: 'email', template: 'no-such-template', next: 'nowhere' };
    const error = await catalog.saveDraft(id, definition).then(
      () => assert.fail('expected a ValidationError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ValidationError);
    const paths = error.issues.map((issue) => issue.path.join('.'));
    assert.ok(paths.includes('nodes.welcome-email.template'), paths.join(', '));
    assert.ok(paths.includes('nodes.welcome-email.next'), paths.join(', '));
  });
});

describe('DynamoWriteKeyStore', () => {
  writeKeyStoreContract(
    () => new DynamoWriteKeyStore(createDocumentClient(), tableName(journeysTable, process.env)),
  );
});
