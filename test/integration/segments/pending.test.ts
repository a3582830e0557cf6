import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { meterDynamo } from '../../../bench/support/ddb-meter.js';
import type { JourneyEntryRules } from '../../../shared/catalog/active.js';
import { ManualClock } from '../../../shared/clock.js';
import { parseMessage } from '../../../shared/events/index.js';
import { randomIds, stableHash } from '../../../shared/ids.js';
import { memoryLogger } from '../../../shared/log.js';
import { DynamoProfileStore, ingestMessage } from '../../../shared/profiles/index.js';
import { fakeExecutions, memoryRuntimeStore } from '../../../shared/runtime/memory.js';
import { createJourneyReactor } from '../../../shared/runtime/reactor.js';
import {
  activeSegment,
  pendingRetryMs,
  reevaluateProfile,
  type SegmentEngineDeps,
} from '../../../shared/segments/engine.js';
import { DynamoSegmentStore } from '../../../shared/segments/index.js';
import { runDueTimers } from '../../../shared/segments/timers.js';
import { membershipTrigger, segmentsReactor } from '../../../shared/segments/wiring.js';
import { useTestDynamo } from '../profiles/dynamo.js';

/**
 * A segment entry whose journey start fails after the membership was written is never lost: the
 * entry is written with a pending mark, told again by the redelivered event or by the timer, and
 * starts its journey once. An entry nobody listens to costs one write, as before.
 */

const dynamo = useTestDynamo();

function setup(options: { journeys?: 'segment' | 'none'; failStarts?: number } = {}) {
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
  const client = dynamo.documentClient();
  const meter = meterDynamo(client);
  const profiles = new DynamoProfileStore({ client, tableName: dynamo.profilesTableName, clock });
  const store = new DynamoSegmentStore({
    client,
    profilesTable: dynamo.profilesTableName,
    journeysTable: dynamo.journeysTableName,
  });
  const id = `pro-${randomUUID().slice(0, 8)}`;
  const plan = `plan-${id}`;
  const segment = activeSegment({ id, name: id, where: { traits: { plan: [plan] } } });
  const executions = fakeExecutions();
  let failures = options.failStarts ?? 0;
  const start = executions.start.bind(executions);
  executions.start = async (input) => {
    if (failures > 0) {
      failures -= 1;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    return start(input);
  };
  const journey: JourneyEntryRules = {
    id: `welcome-${id}`,
    version: 1,
    status: 'active',
    stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:cairn-welcome-${id}:1`,
    trigger: { segment: id, on: 'entry' },
    reentry: 'always',
  };
  const reactor = createJourneyReactor({
    journeys: {
      listActiveJourneys: async () => (options.journeys === 'none' ? [] : [journey]),
      getJourney: async () => journey,
      getVersion: async () => undefined,
    },
    executions,
    store: memoryRuntimeStore(),
    clock,
    ids: randomIds,
    executionName: (journeyId, version, profileId, key) =>
      `${journeyId}-v${version}-${stableHash(profileId, key).slice(0, 16)}`,
    findProfile: async () => undefined,
    cacheTtlMs: 60_000,
    log: memoryLogger(),
  });
  const engine = (known?: {
    profileId: string;
    presence?: Record<string, unknown>[];
  }): SegmentEngineDeps => ({
    store,
    clock,
    segments: async () => [segment],
    notifier: membershipTrigger(reactor, known),
    log: memoryLogger(),
  });
  const deps = { store: profiles, clock, ids: randomIds };
  /** Ingest's write, then its segments hook (as functions/ingest/reactor.ts wires them). */
  const ingest = async (message: Record<string, unknown>, react = true) => {
    const result = await ingestMessage(parseMessage(message, { clock, ids: randomIds }), deps);
    if (react)
      await segmentsReactor(engine(result.profile ?? undefined)).onEvent({
        profile: result.profile,
        event: result.event,
        result,
      });
    return result;
  };
  return { clock, store, meter, executions, segment: id, plan, engine, ingest, journey };
}

describe('segment entries whose journey start failed (DynamoDB Local)', () => {
  test('the redelivered event starts the journey the first delivery could not, once', async () => {
    const { store, executions, segment, plan, ingest } = setup({ failStarts: 1 });
    const identify = {
      type: 'identify',
      userId: `u-${randomUUID()}`,
      traits: { plan },
      messageId: randomUUID(),
    };
    await assert.rejects(ingest(identify), /Rate exceeded/);
    assert.equal(executions.started.length, 0);
    assert.equal(await store.countOf(segment), 1, 'the membership was written');

    const redelivered = await ingest(identify);
    assert.equal(redelivered.duplicate, true);
    assert.equal(executions.started.length, 1, 'the redelivery started the journey');
    const read = await store.readProfile(redelivered.profileId);
    assert.equal(read.states.get(segment)?.member, true);
    assert.equal(read.states.get(segment)?.pending, undefined, 'told: the mark is cleared');
    assert.equal(read.states.get(segment)?.dueAt, undefined, 'and the retry timer with it');

    await ingest(identify);
    await ingest({ ...identify, messageId: randomUUID() });
    assert.equal(executions.started.length, 1, 'told once: no second start');
    assert.equal(await store.countOf(segment), 1);
  });

  test('without a redelivery, the timer tells the entry after pendingRetryMs', async () => {
    const { clock, store, executions, segment, plan, ingest, engine } = setup({ failStarts: 1 });
    const userId = `u-${randomUUID()}`;
    await assert.rejects(ingest({ type: 'identify', userId, traits: { plan }, messageId: randomUUID() }));
    assert.equal(executions.started.length, 0);
    clock.advance(pendingRetryMs);
    await runDueTimers(engine());
    assert.equal(executions.started.length, 1);
    const profileId = String((executions.started[0]!.input as { profileId: string }).profileId);
    const state = (await store.readProfile(profileId)).states.get(segment);
    assert.deepEqual(
      { member: state?.member, pending: state?.pending, dueAt: state?.dueAt },
      { member: true, pending: undefined, dueAt: undefined },
    );
    clock.advance(pendingRetryMs);
    await runDueTimers(engine());
    assert.equal(executions.started.length, 1);
  });

  test('an exit that could not be told keeps its item until the timer tells it', async () => {
    const { clock, store, executions, segment, plan, ingest, engine } = setup();
    const userId = `u-${randomUUID()}`;
    const entered = await ingest({ type: 'identify', userId, traits: { plan }, messageId: randomUUID() });
    assert.equal(executions.started.length, 1);
    // The plan changes; the exit is told to a listener that is down.
    await ingest({ type: 'identify', userId, traits: { plan: 'other' }, messageId: randomUUID() }, false);
    const down = { listens: async () => true, notify: () => Promise.reject(new Error('down')) };
    await assert.rejects(
      reevaluateProfile({ ...engine(), notifier: down }, entered.profileId, { traits: ['plan'] }),
      /down/,
    );
    let state = (await store.readProfile(entered.profileId)).states.get(segment);
    assert.equal(state?.member, false);
    assert.ok(state?.pending?.exited, 'the exit is pending');
    assert.equal(await store.countOf(segment), 0);

    clock.advance(pendingRetryMs);
    const told: string[] = [];
    await runDueTimers({
      ...engine(),
      notifier: { listens: async () => true, notify: async (change) => void told.push(change.change) },
    });
    assert.deepEqual(told, ['exited']);
    state = (await store.readProfile(entered.profileId)).states.get(segment);
    assert.equal(state, undefined, 'told, nothing left to keep: the item is gone');
  });

  test('an entry no journey listens to is one write, with no mark', async () => {
    const { store, meter, segment, plan, ingest, executions } = setup({ journeys: 'none' });
    meter.reset();
    const result = await ingest({
      type: 'identify',
      userId: `u-${randomUUID()}`,
      traits: { plan },
      messageId: randomUUID(),
    });
    const writes = ['TransactWriteItems', 'UpdateItem', 'PutItem', 'DeleteItem'].map(
      (name) => meter.byCommand[name] ?? 0,
    );
    // Ingest's own commit is one TransactWriteItems; the entry is one more; no settle (UpdateItem).
    assert.deepEqual(writes, [2, 0, 0, 0], JSON.stringify(meter.byCommand));
    assert.equal(executions.started.length, 0);
    assert.equal((await store.readProfile(result.profileId)).states.get(segment)?.pending, undefined);
  });
});
