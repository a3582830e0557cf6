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
  orderSegments,
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
 * starts its journey once. An entry nobody listens to costs one write, as before; the requests of
 * the segments hook per event are counted as README's table states them.
 */

const dynamo = useTestDynamo();

function setup(options: { journeys?: 'segment' | 'none'; failStarts?: number } = {}) {
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
  const client = dynamo.documentClient();
  const profiles = new DynamoProfileStore({ client, tableName: dynamo.profilesTableName, clock });
  // The segments hook's own client: its requests are metered apart from ingest's.
  const segmentsClient = dynamo.documentClient();
  const meter = meterDynamo(segmentsClient);
  const store = new DynamoSegmentStore({
    client: segmentsClient,
    profilesTable: dynamo.profilesTableName,
    journeysTable: dynamo.journeysTableName,
  });
  const id = `pro-${randomUUID().slice(0, 8)}`;
  const plan = `plan-${id}`;
  const segment = activeSegment({ id, name: id, where: { traits: { plan: [plan] } } });
  // Nineteen more that this test's customers never change: on other traits and other events.
  const others = Array.from({ length: 19 }, (_, i) =>
    activeSegment({
      id: `${id}-other-${i}`,
      name: 'other',
      where:
        i % 2 === 0
          ? { traits: { [`other${i}`]: ['x'] } }
          : { performed: { event: `Other ${id}`, count: { '>=': 2 }, within: 'P30D' } },
    }),
  );
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
  const engine = (known?: Parameters<typeof membershipTrigger>[1]): SegmentEngineDeps => ({
    store,
    clock,
    segments: async () => [segment, ...others],
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

  test('requests of the segments hook per event, 20 segments defined: none read it, read and unchanged, changed', async () => {
    const { store, meter, segment, plan, ingest, executions } = setup({ journeys: 'none' });
    const userId = `u-${randomUUID()}`;
    const requests = async (message: Record<string, unknown>) => {
      meter.reset();
      const result = await ingest({ userId, messageId: randomUUID(), ...message });
      return { result, calls: { ...meter.byCommand } };
    };
    // The first event creates the profile (no segment reads `page`): nothing.
    assert.deepEqual((await requests({ type: 'page', name: 'Home' })).calls, {});
    // A trait that a segment reads, and no membership changes: the one Query, no write.
    assert.deepEqual((await requests({ type: 'identify', traits: { plan: 'basic' } })).calls, { Query: 1 });
    // The customer enters: one TransactWriteItems (membership + count), no pending mark to clear.
    const entered = await requests({ type: 'identify', traits: { plan } });
    assert.deepEqual(entered.calls, { Query: 1, TransactWriteItems: 1 });
    assert.equal((await store.readProfile(entered.result.profileId)).states.get(segment)?.pending, undefined);
    // It stays in: the Query again, no write.
    assert.deepEqual((await requests({ type: 'identify', traits: { plan, colour: 'blue' } })).calls, {
      Query: 1,
    });
    assert.equal(executions.started.length, 0);
  });

  test('an entry a journey starts on costs one more write: the mark cleared once told', async () => {
    const { meter, plan, ingest, executions } = setup();
    meter.reset();
    await ingest({
      type: 'identify',
      userId: `u-${randomUUID()}`,
      traits: { plan },
      messageId: randomUUID(),
    });
    assert.deepEqual(meter.byCommand, { Query: 1, TransactWriteItems: 1, UpdateItem: 1 });
    assert.equal(executions.started.length, 1);
  });

  test('20 parallel evaluations of one customer leave one membership and start its journey once', async () => {
    const { store, executions, segment, plan, ingest, engine } = setup();
    const result = await ingest(
      { type: 'identify', userId: `u-${randomUUID()}`, traits: { plan }, messageId: randomUUID() },
      false,
    );
    await Promise.all(
      Array.from({ length: 20 }, () => reevaluateProfile(engine(), result.profileId, { traits: ['plan'] })),
    );
    assert.equal(await store.countOf(segment), 1);
    assert.deepEqual(
      (await store.listMembers(segment)).members.map((m) => m.profileId),
      [result.profileId],
    );
    assert.equal(executions.started.length, 1);
  });

  test('segment in segment: the inner entry enters the outer in the same evaluation; leaving leaves both', async () => {
    const { store, segment, plan, ingest, engine } = setup({ journeys: 'none' });
    const outer = activeSegment({
      id: `${segment}-outer`,
      name: 'outer',
      where: { all: [{ segment }, { not: { traits: { blocked: [true] } } }] },
    });
    const deps = {
      ...engine(),
      segments: async () =>
        orderSegments([
          outer,
          activeSegment({ id: segment, name: segment, where: { traits: { plan: [plan] } } }),
        ]),
    };
    const userId = `u-${randomUUID()}`;
    const written = await ingest(
      { type: 'identify', userId, traits: { plan }, messageId: randomUUID() },
      false,
    );
    const entered = await reevaluateProfile(deps, written.profileId, { traits: ['plan'] });
    assert.deepEqual(
      entered.map((c) => `${c.change}:${c.segmentId}`),
      [`entered:${segment}`, `entered:${outer.id}`],
    );
    await ingest({ type: 'identify', userId, traits: { plan: 'other' }, messageId: randomUUID() }, false);
    const left = await reevaluateProfile(deps, written.profileId, { traits: ['plan'] });
    assert.deepEqual(
      left.map((c) => `${c.change}:${c.segmentId}`),
      [`exited:${segment}`, `exited:${outer.id}`],
    );
    assert.equal(await store.countOf(outer.id), 0);
  });
});
