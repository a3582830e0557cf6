import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmailSendError } from '../../../shared/channels/email.js';
import { MemoryEmailSender } from '../../../shared/channels/memory.js';
import { ManualClock } from '../../../shared/clock.js';
import { TransientStepError } from '../../../shared/journeys/execution.js';
import { type JourneyNode, nodeModule } from '../../../shared/journeys/nodes/index.js';
import { type Journey, journeySchema } from '../../../shared/journeys/schema.js';
import type { StepRequest } from '../../../shared/journeys/step.js';
import { memoryLogger } from '../../../shared/log.js';
import { ChannelSendError } from '../../../shared/messaging/channel.js';
import { MemoryMessagingStore } from '../../../shared/messaging/memory.js';
import { openPolicy } from '../../../shared/messaging/policy.js';
import { memoryRuntimeStore } from '../../../shared/runtime/memory.js';
import { stepDeltas, stopDeltas } from '../../../shared/runtime/stats.js';
import { statAttribute } from '../../../shared/runtime/stats-store.js';
import { runStep, type StepDeps } from '../../../shared/runtime/step.js';
import { journeyDocument } from '../../support/journeys.js';

const journey: Journey = journeySchema.parse(
  journeyDocument('cart', 'Product Added', {
    start: 'pause',
    nodes: {
      pause: { type: 'wait', for: 'PT2H', next: 'mail' },
      mail: { type: 'email', template: 'reminder', next: 'ab' },
      ab: { type: 'split', branches: [{ weight: 100, next: 'bought', name: 'all' }] },
      bought: {
        type: 'waitFor',
        event: 'Order Completed',
        match: ['cartId'],
        timeout: 'PT1H',
        // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
        then: 'done',
        else: 'bump',
      },
      bump: { type: 'update', increment: { reminders: 1 }, next: 'done' },
      done: { type: 'exit' },
    },
  }),
);

function setup(
  options: {
    traits?: Record<string, unknown>;
    failSends?: EmailSendError[];
    /** Derived values on the profile (computed, stage, scores) and the reminder template's own text. */
    derived?: Record<string, unknown>;
    text?: string;
  } = {},
) {
  const store = memoryRuntimeStore();
  const email = new MemoryEmailSender();
  email.failures.push(...(options.failSends ?? []));
  const updates: unknown[] = [];
  const deps: StepDeps = {
    getJourneyVersion: async (id, version) => (id === 'cart' && version === 1 ? journey : undefined),
    getTemplate: async (id) =>
      id === 'reminder'
        ? { subject: 'Hi {{ profile.firstName }}', text: options.text ?? '{{ event.cartId }}' }
        : undefined,
    profiles: {
      getProfile: async (profileId) => ({
        profileId,
        traits: options.traits ?? { email: 'ann@example.com', firstName: 'Ann' },
        ...options.derived,
      }),
      updateTraits: async (profileId, change, origin) => {
        updates.push({ profileId, change, origin });
      },
    },
    store,
    messaging: { store: new MemoryMessagingStore(store), policy: async () => openPolicy },
    email,
    fetch: async () => new Response(null, { status: 204 }),
    clock: new ManualClock(),
    unsubscribeUrl: (profileId) => `https://x.example/u?profile=${profileId}`,
    log: memoryLogger(),
  };
  return { deps, store, sent: email.sent, updates };
}

const execution = 'arn:aws:states:us-east-1:000000000000:execution:cairn-cart:cart-v1-abc';

function request(
  nodeId: string,
  extra: Partial<StepRequest> = {},
  last?: StepRequest['input']['last'],
): StepRequest {
  return {
    journeyId: 'cart',
    version: 1,
    nodeId,
    nodeType: journey.nodes[nodeId]!.type,
    action: 'run',
    execution,
    input: {
      profileId: 'p1',
      journeyId: 'cart',
      version: 1,
      entry: { event: 'Product Added', messageId: 'm1', properties: { cartId: 'c1' } },
      ...(last && { last }),
    },
    ...extra,
  };
}

describe('step: email', () => {
  it('sends once per (execution, node): a retried step returns the first message id', async () => {
    const { deps, sent, store } = setup();
    const first = await runStep(request('mail', {}, { nodeId: 'pause', outcome: 'x', next: 'pause' }), deps);
    const again = await runStep(request('mail', {}, { nodeId: 'pause', outcome: 'x', next: 'pause' }), deps);
    assert.equal(sent.length, 1);
    assert.equal(first.outcome, 'sent');
    assert.equal(again.messageId, first.messageId);
    assert.equal(sent[0]!.subject, 'Hi Ann');
    assert.equal(sent[0]!.text, 'c1');
    assert.equal(sent[0]!.tags.execution, 'cart-v1-abc');
    const [record] = store.messages.values();
    assert.equal(record!.status, 'sent');
    assert.equal(record!.templateId, 'reminder');
  });

  it('templates see the computed traits, the lifecycle stage and the scores', async () => {
    const { deps, sent } = setup({
      derived: {
        computed: { totalSpend: 120.5 },
        stage: 'dormant',
        scores: { lead: { fit: 30, engagement: 12.5, total: 42.5 }, churnRisk: 0.75 },
      },
      text: '{{ profile.computed.totalSpend }} {{ profile.stage }} {{ profile.scores.lead.total }} {{ profile.scores.churnRisk }}',
    });
    await runStep(request('mail'), deps);
    assert.equal(sent[0]!.text, '120.5 dormant 42.5 0.75');
  });

  it('a transient send failure is retried by the state machine and then sends', async () => {
    const { deps, sent, store } = setup({
      failSends: [new EmailSendError('TooManyRequestsException', true)],
    });
    await assert.rejects(runStep(request('mail'), deps), TransientStepError);
    assert.equal([...store.messages.values()][0]!.status, 'retry');
    const out = await runStep(request('mail'), deps);
    assert.equal(out.outcome, 'sent');
    assert.equal(sent.length, 1);
  });

  it('a permanent send failure is recorded and never sent again', async () => {
    const { deps, sent, store } = setup({ failSends: [new EmailSendError('MessageRejected', false)] });
    await assert.rejects(runStep(request('mail'), deps), ChannelSendError);
    await assert.rejects(runStep(request('mail'), deps), ChannelSendError);
    assert.equal(sent.length, 0);
    const [record] = store.messages.values();
    assert.equal(record!.status, 'failed');
    assert.equal(record!.reason, 'MessageRejected');
  });

  it('skips a profile without an email address and counts it by reason', async () => {
    const { deps, sent, store } = setup({ traits: {} });
    const out = await runStep(request('mail'), deps);
    assert.deepEqual([out.outcome, out.reason], ['skipped', 'no_address']);
    assert.equal(sent.length, 0);
    const stats = await store.readStats('cart');
    assert.equal(stats[statAttribute({ nodeId: 'mail', counter: 'skipped' })], 1);
    assert.equal(stats[statAttribute({ nodeId: 'mail', counter: 'skipped:no_address' })], 1);
    assert.equal(store.timeline[0]!.detail, 'no_address: no email address');
  });
});

describe('step: waitFor, update, exit, failure', () => {
  it('waitFor stores the task token and the entry values of the match keys for the reactor', async () => {
    const { deps, store } = setup();
    const out = await runStep(request('bought', { taskToken: 'tok' }), deps);
    assert.equal(out.outcome, 'waiting');
    const [presence] = store.presence.values();
    assert.equal(presence!.executionName, 'cart-v1-abc');
    assert.deepEqual(presence!.waiting?.match, { cartId: 'c1' });
    assert.equal(presence!.waiting?.token, 'tok');
    assert.equal(presence!.waiting?.expiresAt, deps.clock.now() + 3600_000);
  });

  it('update passes an idempotency key derived from the execution and node', async () => {
    const { deps, updates } = setup();
    await runStep(request('bump'), deps);
    await runStep(request('bump'), deps);
    const [a, b] = updates as { origin: { messageId: string } }[];
    assert.equal(a!.origin.messageId, b!.origin.messageId);
    assert.match(a!.origin.messageId, /^journey-update-/);
  });

  it('exit removes the presence item and counts the journey finished', async () => {
    const { deps, store } = setup();
    await runStep(request('bought', { taskToken: 'tok' }), deps);
    await runStep(request('done', {}, { nodeId: 'bought', outcome: 'matched', next: 'done' }), deps);
    assert.equal(store.presence.size, 0);
    assert.equal((await store.readStats('cart'))['journey|finished'], 1);
  });

  it('every step writes once (counters, timeline, token or presence) and reads the profile only when needed', async () => {
    const { deps, store } = setup();
    let reads = 0;
    const getProfile = deps.profiles.getProfile;
    deps.profiles.getProfile = (profileId) => {
      reads++;
      return getProfile(profileId);
    };
    const steps: [StepRequest, number][] = [
      [request('mail'), 1],
      [request('bought', { taskToken: 'tok' }), 1],
      [request('bump', {}, { nodeId: 'bought', outcome: 'timedOut', next: 'bump' }), 0],
      [request('done', {}, { nodeId: 'bump', outcome: 'completed', next: 'done' }), 0],
    ];
    for (const [step, profileReads] of steps) {
      const before = { ...store.calls };
      reads = 0;
      await runStep(step, deps);
      const writes = Object.entries(store.calls)
        .filter(([name, n]) => n !== (before[name] ?? 0) && !['claimMessage', 'getMessage'].includes(name))
        .map(([name, n]) => [name, n - (before[name] ?? 0)]);
      assert.deepEqual(writes, [['writeStep', 1]], step.nodeId);
      assert.equal(reads, profileReads, step.nodeId);
    }
    assert.equal(store.messages.get(`cart-v1-abc/mail`)?.status, 'sent');
    assert.equal(store.presence.size, 0);
  });

  it('reads the profile only for traits, a profile time zone, a segment or a waitFor', () => {
    const node = (definition: Record<string, unknown>) =>
      journeySchema.parse({
        id: 'n',
        name: 'n',
        trigger: { event: 'E' },
        start: 'x',
        nodes: { x: definition, done: { type: 'exit' } },
      }).nodes.x!;
    const needsProfile = (n: JourneyNode) => nodeModule(n.type).needsProfile(n);
    const branch = (when: Record<string, unknown>) =>
      node({ type: 'branch', cases: [{ when, next: 'done' }], default: 'done' });
    assert.equal(needsProfile(branch({ traits: { plan: ['pro'] } })), true);
    assert.equal(needsProfile(branch({ computed: { totalSpend: [{ numeric: ['>', 1] }] } })), true);
    assert.equal(needsProfile(branch({ segment: 'vip' })), true);
    assert.equal(needsProfile(branch({ properties: { k: ['v'] } })), false);
    assert.equal(needsProfile(node({ type: 'wait', until: { time: '09:00' }, next: 'done' })), true);
    assert.equal(
      needsProfile(node({ type: 'wait', until: { time: '09:00', timezone: 'UTC' }, next: 'done' })),
      false,
    );
    assert.equal(needsProfile(node({ type: 'webhook', url: 'https://x.example/h', next: 'done' })), false);
    assert.equal(needsProfile(node({ type: 'update', set: { a: 1 }, next: 'done' })), false);
    assert.equal(needsProfile(journey.nodes.mail!), true);
    assert.equal(needsProfile(journey.nodes.bought!), true);
    assert.equal(needsProfile(journey.nodes.done!), false);
  });

  it('the entry’s properties come from the entry item, read only by nodes that use them', async () => {
    const { deps, store, sent } = setup();
    // An input of ids only, as the reactor starts executions; the properties beside the execution.
    store.entryData.set('cart-v1-abc', { cartId: 'c9' });
    const idsOnly = (nodeId: string, extra: Partial<StepRequest> = {}): StepRequest => {
      const base = request(nodeId, extra);
      return {
        ...base,
        input: {
          ...base.input,
          entry: { event: 'Product Added', messageId: 'm1', properties: {}, stored: true },
        },
      };
    };
    const reads = () => store.calls.readEntryProperties ?? 0;
    await runStep(idsOnly('mail'), deps);
    assert.equal(sent[0]!.text, 'c9', 'the template sees {{ event.cartId }}');
    assert.equal(reads(), 1);
    await runStep(idsOnly('bought', { taskToken: 'tok' }), deps);
    assert.deepEqual([...store.presence.values()][0]!.waiting?.match, { cartId: 'c9' });
    assert.equal(reads(), 2);
    await runStep(idsOnly('bump'), deps);
    await runStep(idsOnly('done'), deps);
    assert.equal(reads(), 2, 'update and exit read nothing');
    // No properties at entry: nothing is read.
    await runStep(request('mail', { execution: `${execution}x` }), deps);
    assert.equal(reads(), 2);
  });

  it('action fail records the failure on the node and the journey', async () => {
    const { deps, store } = setup();
    const out = await runStep(request('mail', { action: 'fail', error: { Error: 'MessageRejected' } }), deps);
    assert.equal(out.outcome, 'failed');
    const stats = await store.readStats('cart');
    assert.equal(stats['node|mail|failed'], 1);
    assert.equal(stats['journey|failed'], 1);
  });
});

describe('step: counters for nodes passed without a step', () => {
  const counts = (deltas: ReturnType<typeof stepDeltas>) =>
    Object.fromEntries(deltas.map((d) => [statAttribute(d), d.by ?? 1]));
  /** The counters of the cart journey's step at `nodeId`, come from `last`, ending with `result`. */
  const stepCounts = (
    nodeId: string,
    last: StepRequest['input']['last'],
    result: Parameters<typeof stepDeltas>[2],
  ) => counts(stepDeltas(journey, request(nodeId, {}, last), result));

  it('a wait or split after a matched branch case is entered once (the branch step counted it)', () => {
    const branching: Journey = journeySchema.parse({
      id: 'b',
      name: 'Branch then wait',
      trigger: { event: 'Signed Up' },
      start: 'vip',
      nodes: {
        vip: {
          type: 'branch',
          cases: [{ when: { properties: { plan: ['pro'] } }, next: 'hold' }],
          default: 'ab',
        },
        hold: { type: 'wait', for: 'PT1H', next: 'done' },
        ab: { type: 'split', branches: [{ weight: 100, next: 'done', name: 'all' }] },
        done: { type: 'exit' },
      },
    });
    const at = (nodeId: string, last?: StepRequest['input']['last']) =>
      request('done', { nodeId, journeyId: 'b', nodeType: branching.nodes[nodeId]!.type }, last);
    const total: Record<string, number> = {};
    const add = (deltas: ReturnType<typeof stepDeltas>) => {
      for (const [key, by] of Object.entries(counts(deltas))) total[key] = (total[key] ?? 0) + by;
    };
    add(stepDeltas(branching, at('vip'), { outcome: 'matched', next: 'hold', caseIndex: 0 }));
    add(
      stepDeltas(branching, at('done', { nodeId: 'vip', outcome: 'matched', next: 'hold' }), {
        outcome: 'completed',
        next: null,
      }),
    );
    assert.equal(total['node|hold|entered'], 1);
    assert.equal(total['node|hold|completed'], 1);
    assert.equal(total['node|hold|waiting'], 0);

    const viaSplit: Record<string, number> = {};
    for (const deltas of [
      stepDeltas(branching, at('vip'), { outcome: 'default', next: 'ab' }),
      stepDeltas(branching, at('done', { nodeId: 'vip', outcome: 'default', next: 'ab' }), {
        outcome: 'completed',
        next: null,
      }),
    ])
      for (const [key, by] of Object.entries(counts(deltas))) viaSplit[key] = (viaSplit[key] ?? 0) + by;
    assert.equal(viaSplit['node|ab|entered'], 1);
    assert.equal(viaSplit['node|ab|branch:0'], 1);
  });

  it('a step routing into a split and a waitFor counts the split (with its branch) at once', () => {
    const deltas = stepCounts(
      'mail',
      { nodeId: 'pause', outcome: 'x', next: 'mail' },
      { outcome: 'sent', next: 'ab' },
    );
    assert.equal(deltas['node|ab|entered'], 1);
    assert.equal(deltas['node|ab|completed'], 1);
    assert.equal(deltas['node|ab|branch:0'], 1);
    assert.equal(deltas['node|mail|sent'], 1);
  });

  it('the step after a wait counts leaving it; a timed-out waitFor is counted by the next step', () => {
    const afterWait = stepCounts(
      'mail',
      { nodeId: 'x', outcome: 'sent', next: 'pause' },
      { outcome: 'sent', next: 'ab' },
    );
    assert.equal(afterWait['node|pause|completed'], 1);
    assert.equal(afterWait['node|pause|waiting'], -1);
    const afterTimeout = stepCounts(
      'bump',
      { nodeId: 'bought', outcome: 'timedOut', next: 'bump' },
      { outcome: 'updated', next: 'done' },
    );
    assert.equal(afterTimeout['node|bought|timedOut'], 1);
    assert.equal(afterTimeout['node|bought|waiting'], -1);
  });

  it('a held message waits in its node; its Task run again leaves the wait without entering twice; a stop while held exits it', () => {
    const fromPause = { nodeId: 'pause', outcome: 'x', next: 'mail' };
    const holdResult = {
      outcome: 'held',
      reason: 'quiet_hours',
      next: 'ab',
      until: '2026-01-01T08:00:00Z',
    } as const;
    const held = stepCounts('mail', fromPause, holdResult);
    assert.equal(held['node|mail|entered'], 1);
    assert.equal(held['node|mail|waiting'], 1);
    assert.equal(held['node|mail|held'], 1);
    assert.equal(held['node|mail|held:quiet_hours'], 1);
    assert.equal(held['node|ab|entered'], undefined, 'nothing after the node is entered while held');
    const capped = { outcome: 'skipped', reason: 'frequency_cap', next: 'ab' } as const;
    const afterHold = { nodeId: 'mail', outcome: 'held', next: 'ab' };
    const rerun = stepCounts('mail', afterHold, capped);
    assert.equal(rerun['node|mail|entered'], undefined);
    assert.equal(rerun['node|mail|waiting'], -1);
    assert.equal(rerun['node|mail|skipped'], 1);
    assert.equal(rerun['node|mail|skipped:frequency_cap'], 1);
    assert.equal(rerun['node|ab|entered'], 1);
    const stopped = counts(stopDeltas(journey, 'p1', 'mail', ['mail.sent', 'mail.hold']));
    assert.deepEqual(stopped, { 'node|mail|waiting': -1, 'node|mail|exited': 1 });
  });
});
