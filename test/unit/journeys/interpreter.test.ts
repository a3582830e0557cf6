/**
 * The compiled example journeys run on the ASL interpreter the local stack uses
 * (aws-local-stepfunctions), with a fake step Lambda that follows the step contract: this checks the
 * ASL and the contract together (payload shape, `$.last`, waitFor timeout route, failure route) and
 * counts state transitions per node on real paths.
 */
import '../../../infra/local/stepfunctions/polyfill.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition } from '../../../shared/journeys/asl.js';
import { compileJourney } from '../../../shared/journeys/compile.js';
import type { StepResult } from '../../../shared/journeys/execution.js';
import { walkWithoutSteps } from '../../../shared/journeys/graph.js';
import { nodeModule } from '../../../shared/journeys/nodes/index.js';
import type { Journey } from '../../../shared/journeys/schema.js';
import { type StepRequest, stepRequestSchema } from '../../../shared/journeys/step.js';
import { loadJourneyFile, statemachinesDir } from '../../../statemachines/artifacts.js';

function example(id: string): Journey {
  const { journey, problems } = loadJourneyFile(`${statemachinesDir}/${id}.journey.yaml`);
  assert.deepEqual(problems, []);
  return journey!;
}

type FakeStep = (request: StepRequest) => StepResult | 'timeout' | Error;

interface Run {
  calls: StepRequest[];
  entered: string[];
  output?: unknown;
  error?: unknown;
}

async function run(journey: Journey, step: FakeStep, properties: Record<string, unknown> = {}): Promise<Run> {
  const asl: AslDefinition = compileJourney(journey, { version: 1 });
  const calls: StepRequest[] = [];
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const waits: Record<string, number> = {};
  for (const [name, state] of Object.entries(asl.States)) {
    if (state.Type === 'Wait') waits[name] = 0;
    if (state.Type !== 'Task') continue;
    handlers[name] = async (parameters) => {
      const request = stepRequestSchema.parse((parameters as { Payload: unknown }).Payload);
      calls.push(request);
      const result = step(request);
      if (result === 'timeout') throw Object.assign(new Error('timed out'), { name: 'States.Timeout' });
      if (result instanceof Error) throw result;
      // lambda:invoke wraps the function's response in Payload; waitForTaskToken returns the SendTaskSuccess output.
      if (request.nodeType === 'waitFor') return {};
      // Message steps always return `until` (the Task keeps it for a hold): as the real step does.
      const messageStep = nodeModule(request.nodeType).channel !== undefined;
      return { Payload: messageStep ? { until: '2026-01-01T00:00:00Z', ...(result as object) } : result };
    };
  }
  const machine = new StateMachine(asl as never);
  const execution = machine.run(
    {
      profileId: 'p-1',
      journeyId: journey.id,
      version: 1,
      entry: { event: (journey.trigger as { event: string }).event, properties },
    } as never,
    {
      overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waits },
      context: {
        Execution: {
          Id: `arn:aws:states:us-east-1:000000000000:execution:cairn-${journey.id}:exec-1`,
          Name: 'exec-1',
        },
        Task: { Token: 'token-1' },
      } as never,
    },
  );
  const entered: string[] = [];
  const consumed = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as { type: string; state?: { name: string } };
      if (e.type === 'StateEntered' && e.state) entered.push(e.state.name);
    }
  })();
  const result: Run = { calls, entered };
  try {
    result.output = await execution.result;
  } catch (error) {
    result.error = error;
  }
  await consumed;
  return result;
}

/** Transitions per node on this run: states entered, grouped by the node they belong to (the part before the dot). */
function transitionsByNode(entered: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of entered) {
    if (name === 'journey.failed') continue;
    const node = name.split('.')[0]!;
    counts[node] = (counts[node] ?? 0) + 1;
  }
  return counts;
}

/** A fake runtime: static outcomes per node type, branch decided by `branchTo`. */
function fakeStep(
  journey: Journey,
  options: { waitFor?: 'matched' | 'timeout'; branchTo?: string; fail?: string } = {},
): FakeStep {
  return (request) => {
    if (request.action === 'fail') return { outcome: 'failed', next: null };
    if (request.nodeId === options.fail) return Object.assign(new Error('boom'), { name: 'SendFailed' });
    const node = journey.nodes[request.nodeId]!;
    switch (node.type) {
      case 'email':
        return { outcome: 'sent', next: node.next, messageId: 'm' };
      case 'branch':
        return options.branchTo
          ? { outcome: 'matched', next: options.branchTo, caseIndex: 0 }
          : { outcome: 'default', next: node.default };
      case 'waitFor':
        return options.waitFor === 'timeout' ? 'timeout' : { outcome: 'waiting', next: null };
      case 'wait':
        return { outcome: 'scheduled', next: node.next, until: '2020-01-01T00:00:00Z' };
      case 'update':
        return { outcome: 'updated', next: node.next };
      default:
        return { outcome: 'completed', next: null };
    }
  };
}

const path = (r: Run) => r.calls.map((c) => `${c.nodeId}${c.action === 'fail' ? '!' : ''}`);
const lastOf = (r: Run, nodeId: string) => r.calls.find((c) => c.nodeId === nodeId)?.input.last;

describe('compiled examples on the ASL interpreter', () => {
  it('cart recovery, order placed in time: wait, waitFor resumes, exit', async () => {
    const journey = example('cart-recovery');
    const r = await run(journey, fakeStep(journey, { waitFor: 'matched' }), { cartId: 'c1', price: 5 });
    assert.equal(r.error, undefined);
    assert.deepEqual(path(r), ['bought', 'done']);
    assert.deepEqual(r.entered, ['wait-2h', 'bought', 'done']);
    const first = r.calls[0]!;
    assert.equal(first.taskToken, 'token-1');
    assert.equal(
      first.execution,
      'arn:aws:states:us-east-1:000000000000:execution:cairn-cart-recovery:exec-1',
    );
    assert.equal(first.version, 1);
    assert.equal(first.input.last, undefined, 'the first step has no last');
    assert.deepEqual(walkWithoutSteps(journey, journey.start, 'p-1'), {
      passed: [{ nodeId: 'wait-2h', type: 'wait' }],
      reaches: 'bought',
    });
    assert.deepEqual(lastOf(r, 'done'), { nodeId: 'bought', outcome: 'matched', next: 'done' });
  });

  it('cart recovery, no order, pro customer: timeout → reminder → coupon, each step told where the customer came from', async () => {
    const journey = example('cart-recovery');
    const r = await run(journey, fakeStep(journey, { waitFor: 'timeout', branchTo: 'coupon' }), {
      cartId: 'c1',
    });
    assert.equal(r.error, undefined);
    assert.deepEqual(path(r), ['bought', 'reminder', 'vip', 'coupon', 'done']);
    assert.deepEqual(lastOf(r, 'reminder'), { nodeId: 'bought', outcome: 'timedOut', next: 'reminder' });
    assert.deepEqual(lastOf(r, 'vip'), {
      nodeId: 'reminder',
      outcome: 'sent',
      next: 'vip',
      until: '2026-01-01T00:00:00Z',
    });
    assert.deepEqual(lastOf(r, 'coupon'), { nodeId: 'vip', outcome: 'matched', next: 'coupon' });
    const counts = transitionsByNode(r.entered);
    assert.deepEqual(counts, { 'wait-2h': 1, bought: 2, reminder: 2, vip: 2, coupon: 2, done: 1 });
  });

  it('cart recovery, no order, other customer: the branch default skips the coupon', async () => {
    const journey = example('cart-recovery');
    const r = await run(journey, fakeStep(journey, { waitFor: 'timeout' }));
    assert.deepEqual(path(r), ['bought', 'reminder', 'vip', 'done']);
  });

  it('welcome: activated customers get tips, the others a nudge, then their trait is updated', async () => {
    const journey = example('welcome');
    const activated = await run(journey, fakeStep(journey, { branchTo: 'tips' }));
    assert.deepEqual(path(activated), ['welcome-email', 'activated', 'tips', 'mark-onboarded', 'done']);
    assert.deepEqual(lastOf(activated, 'activated'), {
      nodeId: 'welcome-email',
      outcome: 'sent',
      next: 'wait-2d',
      until: '2026-01-01T00:00:00Z',
    });
    const other = await run(journey, fakeStep(journey));
    assert.deepEqual(path(other), ['welcome-email', 'activated', 'nudge', 'mark-onboarded', 'done']);
  });

  it('webinar: confirmation, wait until the computed instant, reminder, then thanks or recording', async () => {
    const journey = example('webinar');
    const attended = await run(journey, fakeStep(journey, { waitFor: 'matched' }), {
      webinarId: 'w1',
      startsAt: '2026-02-01T17:00:00Z',
    });
    assert.equal(attended.error, undefined);
    assert.deepEqual(path(attended), [
      'confirmation',
      'day-before',
      'reminder',
      'attended',
      'thanks',
      'done',
    ]);
    assert.ok(attended.entered.includes('day-before.until'));
    assert.deepEqual(lastOf(attended, 'reminder'), {
      nodeId: 'day-before',
      outcome: 'scheduled',
      next: 'reminder',
      until: '2020-01-01T00:00:00Z',
    });
    const missed = await run(journey, fakeStep(journey, { waitFor: 'timeout' }), { webinarId: 'w1' });
    assert.deepEqual(path(missed), [
      'confirmation',
      'day-before',
      'reminder',
      'attended',
      'recording',
      'done',
    ]);
  });

  it('a step that fails is recorded with action "fail" and the error, and the execution fails', async () => {
    const journey = example('cart-recovery');
    const r = await run(journey, fakeStep(journey, { waitFor: 'timeout', fail: 'reminder' }));
    assert.ok(r.error, 'the execution failed');
    assert.deepEqual(path(r), ['bought', 'reminder', 'reminder!']);
    const failure = r.calls.at(-1)!;
    assert.equal(failure.nodeType, 'email');
    assert.equal(failure.error?.Error, 'SendFailed');
    assert.deepEqual(r.entered.slice(-2), ['reminder.failed', 'journey.failed']);
  });

  it('no node costs more than 2 state transitions on the paths taken', async () => {
    for (const id of ['cart-recovery', 'welcome', 'webinar']) {
      const journey = example(id);
      for (const options of [
        { waitFor: 'timeout' as const, branchTo: undefined },
        { waitFor: 'matched' as const },
      ]) {
        const r = await run(journey, fakeStep(journey, options), {
          cartId: 'c',
          webinarId: 'w',
          startsAt: '2026-02-01T17:00:00Z',
        });
        for (const [node, count] of Object.entries(transitionsByNode(r.entered))) {
          assert.ok(count <= 2, `${id}: ${node} took ${count} transitions`);
        }
      }
    }
  });
});
