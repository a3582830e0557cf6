import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { dynamoAnalyticsReader } from '../../../shared/analytics/store.js';
import type { OutgoingEmail } from '../../../shared/channels/email.js';
import { ManualClock } from '../../../shared/clock.js';
import { randomIds } from '../../../shared/ids.js';
import { type Journey, journeySchema } from '../../../shared/journeys/schema.js';
import type { StepRequest } from '../../../shared/journeys/step.js';
import { memoryLogger } from '../../../shared/log.js';
import { DynamoMessagingStore } from '../../../shared/messaging/dynamodb.js';
import { openPolicy } from '../../../shared/messaging/policy.js';
import { enter } from '../../../shared/runtime/entry.js';
import { fakeExecutions } from '../../../shared/runtime/memory.js';
import { createJourneyReactor } from '../../../shared/runtime/reactor.js';
import { runStep, type StepDeps } from '../../../shared/runtime/step.js';
import { dynamoRuntimeStore, type RuntimeStore } from '../../../shared/runtime/store.js';
import type { PresenceRecord } from '../../../shared/runtime/types.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../../shared/store/tables.js';
import { journeyDocument } from '../../support/journeys.js';
import { awsClientConfig } from '../../support/local.js';
import { testStack } from '../../support/stack.js';

/**
 * What a step, a resume and a stop cost in AWS requests, counted on the SDK clients (DynamoDB on
 * DynamoDB Local, SES and Step Functions as fakes that count), and that the combined writes still
 * record what the separate ones did, including when a condition in them fails.
 */

let client: ReturnType<typeof createDocumentClient>;
let store: RuntimeStore;
/** DynamoDB requests by operation (`PutItem`, `TransactWriteItems`, …), every attempt. */
const dynamo: Record<string, number> = {};

before(async () => {
  const { edgeUrl } = await testStack();
  client = createDocumentClient(awsClientConfig(edgeUrl));
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      dynamo[name] = (dynamo[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'deserialize', name: 'testCallCounter' },
  );
  store = dynamoRuntimeStore(client);
});

/** The requests `work` makes: DynamoDB by operation, plus the fakes' counts. */
async function requestsOf(work: () => Promise<unknown>, fakes: Record<string, number> = {}) {
  const before = { ...dynamo };
  const fakesBefore = { ...fakes };
  await work();
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(dynamo)) {
    if (n - (before[name] ?? 0) > 0) out[`DynamoDB.${name}`] = n - (before[name] ?? 0);
  }
  for (const [name, n] of Object.entries(fakes)) {
    if (n - (fakesBefore[name] ?? 0) > 0) out[name] = n - (fakesBefore[name] ?? 0);
  }
  return out;
}

const journey: Journey = journeySchema.parse(
  journeyDocument('costs', 'Signed Up', {
    start: 'mail',
    nodes: {
      mail: { type: 'email', template: 'hello', next: 'hook' },
      hook: { type: 'webhook', url: 'https://hooks.example/x', next: 'bump' },
      bump: { type: 'update', increment: { visits: 1 }, next: 'pick' },
      pick: {
        type: 'branch',
        cases: [{ when: { traits: { plan: ['pro'] } }, next: 'await' }],
        default: 'done',
      },
      await: {
        type: 'waitFor',
        event: 'Order Completed',
        timeout: 'P1D',
        // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
        then: 'done',
        else: 'done',
      },
      done: { type: 'exit' },
    },
  }),
);

/** A profile id and an execution name of its own for one test. */
function newCustomer() {
  return { profileId: randomUUID(), execution: `costs-${randomUUID()}` };
}

/** A new customer whose entry into the journey is recorded, as the reactor does before the first step. */
async function enteredCustomer(properties?: Record<string, unknown>) {
  const customer = newCustomer();
  await store.recordEntry({
    presence: {
      ...presence(customer.profileId, customer.execution),
      // Entry data expires a year after entry: entered now, so that it is there to read.
      ...(properties && { entryData: true as const, enteredAt: Date.now() }),
    },
    notEnteredSince: undefined,
    ...(properties && { properties }),
  });
  return customer;
}

function setup(options: { onSend?: (email: OutgoingEmail) => Promise<void> } = {}) {
  const counts: Record<string, number> = {};
  const count = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  const deps: StepDeps = {
    getJourneyVersion: async () => journey,
    getTemplate: async () => ({ subject: 'Hi', text: 'Hello' }),
    profiles: {
      getProfile: async (profileId) => {
        count('profile read');
        return { profileId, traits: { email: 'ann@example.com', plan: 'pro' } };
      },
      updateTraits: async () => {
        count('profile update');
      },
    },
    store,
    messaging: {
      store: new DynamoMessagingStore({
        client,
        profilesTable: tableName(profilesTable, process.env),
        journeysTable: tableName(journeysTable, process.env),
      }),
      policy: async () => openPolicy,
    },
    email: {
      async send(email) {
        count('SES.SendEmail');
        await options.onSend?.(email);
        return { providerMessageId: `ses-${randomUUID()}` };
      },
    },
    fetch: async () => {
      count('webhook');
      return new Response(null, { status: 204 });
    },
    clock: new ManualClock(),
    unsubscribeUrl: (profileId) => `https://x.example/u?p=${profileId}`,
    log: memoryLogger(),
  };
  return { deps, counts };
}

function request(
  profileId: string,
  executionName: string,
  nodeId: string,
  taskToken?: string,
  stored?: boolean,
): StepRequest {
  return {
    journeyId: journey.id,
    version: 1,
    nodeId,
    nodeType: journey.nodes[nodeId]!.type,
    action: 'run',
    execution: `arn:aws:states:us-east-1:000000000000:execution:cairn-costs:${executionName}`,
    input: {
      profileId,
      journeyId: journey.id,
      version: 1,
      entry: {
        event: 'Signed Up',
        messageId: `m-${executionName}`,
        properties: {},
        ...(stored && { stored }),
      },
      enteredAt: new Date(0).toISOString(),
    },
    ...(taskToken && { taskToken }),
  };
}

function presence(profileId: string, executionName: string): PresenceRecord {
  return {
    profileId,
    executionName,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:cairn-costs:${executionName}`,
    journeyId: journey.id,
    version: 1,
    enteredAt: 0,
    triggerMessageId: `m-${executionName}`,
    exitOn: [{ event: 'Unsubscribed' }],
  };
}

describe('requests per step kind (SDK calls)', () => {
  it('email: profile read, conditional put, SendEmail, one transaction', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = newCustomer();
    const result = await requestsOf(() => runStep(request(profileId, execution, 'mail'), deps), counts);
    // The conditional put is a transaction with the erasure check: still one request.
    assert.deepEqual(result, {
      'DynamoDB.TransactWriteItems': 2,
      'profile read': 1,
      'SES.SendEmail': 1,
    });
    const message = await store.getMessage(execution, 'mail');
    assert.equal(message?.status, 'sent');
    assert.match(message?.providerMessageId ?? '', /^ses-/);
    assert.deepEqual(
      message?.history.map((h) => h.status),
      ['sending', 'sent'],
    );
    const timeline = await store.listTimeline(profileId);
    assert.deepEqual(
      timeline.map((t) => [t.kind, t.nodeId, t.outcome]),
      [['message', 'mail', 'sent']],
    );
  });

  it('a retried email step: the claim fails and returns the first record (no read), one transaction, no second send', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = newCustomer();
    const first = await runStep(request(profileId, execution, 'mail'), deps);
    const result = await requestsOf(() => runStep(request(profileId, execution, 'mail'), deps), counts);
    assert.deepEqual(result, {
      'DynamoDB.TransactWriteItems': 2,
      'profile read': 1,
    });
    assert.equal(counts['SES.SendEmail'], 1);
    const message = await store.getMessage(execution, 'mail');
    assert.equal(message?.status, 'sent');
    assert.equal(message?.providerMessageId, first.messageId);
  });

  it('feedback before `sent` is recorded: the status stays, the history, counters and timeline are written', async () => {
    const execution = `costs-${randomUUID()}`;
    const { deps } = setup({
      // SES delivered (and the feedback Lambda recorded it) before the step wrote `sent`.
      onSend: async () => {
        await store.updateMessage(
          { executionName: execution, nodeId: 'mail' },
          { status: 'delivered', at: 'x' },
        );
      },
    });
    const profileId = randomUUID();
    const journeyId = journey.id;
    const statsBefore = await store.readStats(journeyId);
    let result: Awaited<ReturnType<typeof runStep>> | undefined;
    const requests = await requestsOf(async () => {
      result = await runStep(request(profileId, execution, 'mail'), deps);
    });
    // The transaction is cancelled by the status condition, then written with the history entry only.
    assert.deepEqual(requests, {
      'DynamoDB.UpdateItem': 1,
      'DynamoDB.TransactWriteItems': 3,
    });
    assert.equal(result?.outcome, 'sent');
    const message = await store.getMessage(execution, 'mail');
    assert.equal(message?.status, 'delivered');
    assert.deepEqual(
      message?.history.map((h) => h.status),
      ['sending', 'delivered', 'sent'],
    );
    assert.match(message?.providerMessageId ?? '', /^ses-/);
    const stats = await store.readStats(journeyId);
    assert.equal((stats['node|mail|sent'] ?? 0) - (statsBefore['node|mail|sent'] ?? 0), 1);
    assert.equal((await store.listTimeline(profileId)).length, 1);
  });

  it('webhook, update, branch: one request each beyond the node’s own work', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = newCustomer();
    assert.deepEqual(await requestsOf(() => runStep(request(profileId, execution, 'hook'), deps), counts), {
      'DynamoDB.TransactWriteItems': 1,
      webhook: 1,
    });
    assert.deepEqual(await requestsOf(() => runStep(request(profileId, execution, 'bump'), deps), counts), {
      'DynamoDB.TransactWriteItems': 1,
      'profile update': 1,
    });
    assert.deepEqual(await requestsOf(() => runStep(request(profileId, execution, 'pick'), deps), counts), {
      'DynamoDB.TransactWriteItems': 1,
      'profile read': 1,
    });
    assert.equal((await store.listTimeline(profileId)).length, 3);
  });

  it('waitFor: the token, counters and timeline in one transaction', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = await enteredCustomer();
    const result = await requestsOf(
      () => runStep(request(profileId, execution, 'await', 'token-1'), deps),
      counts,
    );
    assert.deepEqual(result, { 'DynamoDB.TransactWriteItems': 1, 'profile read': 1 });
    const [stored] = (await store.readJourneyState(profileId)).presence;
    assert.equal(stored?.waiting?.token, 'token-1');
    assert.equal(stored?.waiting?.event, 'Order Completed');
    assert.deepEqual(stored?.exitOn, [{ event: 'Unsubscribed' }]);
  });

  it('exit: counters, timeline and presence removal in one transaction', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = await enteredCustomer();
    const result = await requestsOf(() => runStep(request(profileId, execution, 'done'), deps), counts);
    assert.deepEqual(result, { 'DynamoDB.TransactWriteItems': 1 });
    assert.deepEqual((await store.readJourneyState(profileId)).presence, []);
  });

  it('exit of an execution with entry data: deleted in the same one transaction', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = await enteredCustomer({ cartId: 'private' });
    assert.deepEqual(await store.readEntryProperties(execution), { cartId: 'private' });
    const result = await requestsOf(
      () => runStep(request(profileId, execution, 'done', undefined, true), deps),
      counts,
    );
    assert.deepEqual(result, { 'DynamoDB.TransactWriteItems': 1 });
    assert.equal(await store.readEntryProperties(execution), undefined);
  });

  it('exit with analytics: one Query of the execution trail, then the same one transaction', async () => {
    const { deps, counts } = setup();
    const { profileId, execution } = await enteredCustomer();
    const result = await requestsOf(
      () =>
        runStep(request(profileId, execution, 'done'), { ...deps, analytics: dynamoAnalyticsReader(client) }),
      counts,
    );
    assert.deepEqual(result, { 'DynamoDB.Query': 1, 'DynamoDB.TransactWriteItems': 1 });
    assert.deepEqual((await store.readJourneyState(profileId)).presence, []);
  });
});

describe('requests per resume and stop (SDK calls)', () => {
  function reactor() {
    const executions = fakeExecutions();
    const react = createJourneyReactor({
      journeys: {
        listActiveJourneys: async () => [],
        getJourney: async () => undefined,
        getVersion: async () => undefined,
      },
      executions,
      store,
      clock: new ManualClock(),
      ids: randomIds,
      executionName: (journeyId, version, profileId, key) => `${journeyId}-v${version}-${profileId}-${key}`,
      findProfile: async () => undefined,
      log: memoryLogger(),
    });
    return { react, executions };
  }

  async function waitingProfile() {
    const { profileId, execution } = await enteredCustomer();
    const token = `token-${randomUUID()}`;
    await store.setWaiting(presence(profileId, execution), {
      nodeId: 'await',
      event: 'Order Completed',
      match: {},
      token,
      since: 0,
    });
    return { profileId, execution, token };
  }

  const event = (name: string) => ({
    type: 'track' as const,
    event: name,
    messageId: randomUUID(),
    properties: {},
  });

  it('resume: SendTaskSuccess and one transaction (token cleared, counters, timeline)', async () => {
    const { react, executions } = reactor();
    const { profileId } = await waitingProfile();
    const journeyState = await store.readJourneyState(profileId);
    const result = await requestsOf(
      () => react.onEvent({ profile: { profileId }, event: event('Order Completed'), journeyState }),
      executions.calls,
    );
    assert.deepEqual(result, { 'DynamoDB.TransactWriteItems': 1, SendTaskSuccess: 1 });
    assert.equal((await store.readJourneyState(profileId)).presence[0]?.waiting, undefined);
    assert.deepEqual(
      (await store.listTimeline(profileId)).map((t) => [t.nodeId, t.outcome]),
      [['await', 'resumed']],
    );
  });

  it('resume whose token was cleared meanwhile still counts it and writes the timeline', async () => {
    const { react } = reactor();
    const { profileId, execution, token } = await waitingProfile();
    const journeyState = await store.readJourneyState(profileId);
    assert.equal(await store.clearWaiting(profileId, execution, token), true);
    const before = await store.readStats(journey.id);
    let out: Awaited<ReturnType<typeof react.onEvent>> | undefined;
    const requests = await requestsOf(async () => {
      out = await react.onEvent({
        profile: { profileId },
        event: event('Order Completed'),
        journeyState,
      });
    });
    // Cancelled by the token condition, then written without the clear.
    assert.deepEqual(requests, { 'DynamoDB.TransactWriteItems': 2 });
    assert.equal(out?.resumed.length, 1);
    const stats = await store.readStats(journey.id);
    assert.equal((stats['node|await|resumed'] ?? 0) - (before['node|await|resumed'] ?? 0), 1);
    assert.equal((await store.listTimeline(profileId)).length, 1);
  });

  it('stop: StopExecution and one transaction (presence removed, counters, timeline)', async () => {
    const { react, executions } = reactor();
    const { profileId } = await waitingProfile();
    const journeyState = await store.readJourneyState(profileId);
    const result = await requestsOf(
      () => react.onEvent({ profile: { profileId }, event: event('Unsubscribed'), journeyState }),
      executions.calls,
    );
    assert.deepEqual(result, { 'DynamoDB.TransactWriteItems': 1, StopExecution: 1 });
    assert.deepEqual((await store.readJourneyState(profileId)).presence, []);
    assert.deepEqual(
      (await store.listTimeline(profileId)).map((t) => [t.nodeId, t.outcome]),
      [['await', 'exited']],
    );
  });

  it('stop of an execution with entry data: deleted in the same one transaction, also when it had ended', async () => {
    const { react, executions } = reactor();
    const unsubscribed = () => event('Unsubscribed');
    for (const running of [true, false]) {
      const { profileId, execution } = await enteredCustomer({ cartId: 'private' });
      const journeyState = await store.readJourneyState(profileId);
      assert.equal(journeyState.presence[0]?.entryData, true, 'the presence item says there is entry data');
      // An execution that ended on its own (its entry retried late wrote presence and data again).
      if (!running) await executions.stop(journeyState.presence[0]!.executionArn!, 'ended');
      const result = await requestsOf(
        () => react.onEvent({ profile: { profileId }, event: unsubscribed(), journeyState }),
        executions.calls,
      );
      assert.deepEqual(result, { 'DynamoDB.TransactWriteItems': 1, StopExecution: 1 });
      assert.equal(await store.readEntryProperties(execution), undefined);
      assert.deepEqual((await store.readJourneyState(profileId)).presence, []);
    }
  });
});

describe('requests per entry (SDK calls)', () => {
  it('a first delivery asks nothing more; a redelivery asks whether its execution runs and, when it ended, takes back what it wrote', async () => {
    const executions = fakeExecutions();
    const deps = {
      executions,
      store,
      clock: new ManualClock(Date.now()),
      executionName: (journeyId: string, version: number, profileId: string, key: string) =>
        `${journeyId}-v${version}-${profileId}-${key}`,
      log: memoryLogger(),
    };
    const rules = {
      id: journey.id,
      version: 1,
      status: 'active' as const,
      reentry: 'never' as const,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:cairn-costs:1',
    };
    const profileId = randomUUID();
    const trigger = { event: 'Signed Up', messageId: randomUUID(), properties: { cartId: 'private' } };
    const deliver = async () => {
      const { entries } = await store.readJourneyState(profileId);
      return requestsOf(
        () => enter(deps, rules, profileId, entries, trigger, trigger.messageId),
        executions.calls,
      );
    };
    const kept = async (executionName: string) => ({
      presence: (await store.readJourneyState(profileId)).presence.length,
      entryData: (await store.readEntryProperties(executionName)) !== undefined,
    });

    // The entry's transaction, StartExecution, the started counters' transaction: as before the check.
    assert.deepEqual(await deliver(), { 'DynamoDB.TransactWriteItems': 2, StartExecution: 1 });
    const name = executions.started[0]!.name;
    assert.deepEqual(await deliver(), {
      'DynamoDB.TransactWriteItems': 1,
      StartExecution: 1,
      DescribeExecution: 1,
    });
    assert.deepEqual(
      await kept(name),
      { presence: 1, entryData: true },
      'a running execution keeps its items',
    );
    executions.ended.add(name);
    await store.writeStep({
      journeyId: journey.id,
      deltas: [],
      presence: { remove: { profileId, executionName: name, entryData: true } },
    });
    assert.deepEqual(await deliver(), {
      'DynamoDB.TransactWriteItems': 2,
      StartExecution: 1,
      DescribeExecution: 1,
    });
    assert.deepEqual(await kept(name), { presence: 0, entryData: false }, 'an ended one keeps nothing');
  });
});

describe('stepWrites: separate', () => {
  it('writes the same parts as one request each (1 WCU per KB instead of 2)', async () => {
    const separate = dynamoRuntimeStore(client, { stepWrites: 'separate' });
    const profileId = randomUUID();
    const execution = `costs-${randomUUID()}`;
    await separate.recordEntry({ presence: presence(profileId, execution), notEnteredSince: undefined });
    const { deps, counts } = setup();
    const result = await requestsOf(
      () => runStep(request(profileId, execution, 'done'), { ...deps, store: separate }),
      counts,
    );
    // Stats and the day's analytics counters; the timeline entry with the erasure check (a
    // transaction of its own); the transition record; presence.
    assert.deepEqual(result, {
      'DynamoDB.UpdateItem': 2,
      'DynamoDB.TransactWriteItems': 1,
      'DynamoDB.PutItem': 1,
      'DynamoDB.DeleteItem': 1,
    });
    assert.deepEqual((await separate.readJourneyState(profileId)).presence, []);
    assert.deepEqual(
      (await separate.listTimeline(profileId)).map((t) => [t.nodeId, t.outcome]),
      [['done', 'completed']],
    );
  });
});
