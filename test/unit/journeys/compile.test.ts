import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AslState,
  FAILED_STATE,
  fillAslPlaceholders,
  lambdaRetry,
  STEP_FUNCTION_PLACEHOLDER,
  timeoutRetry,
  transientRetry,
} from '../../../shared/journeys/asl.js';
import {
  commonPathTransitions,
  compileJourney,
  executionName,
  transitionsByNodeKind,
} from '../../../shared/journeys/compile.js';
import { validateJourney } from '../../../shared/journeys/validate.js';
import { aslProblems } from '../../../statemachines/asl-check.js';
import { everyNode, everyNodeDocument } from './fixtures.js';

const asl = compileJourney(everyNode, { version: 3 });
const state = (name: string): AslState => {
  const found = asl.States[name];
  assert.ok(found, `state ${name} exists`);
  return found;
};

function payload(nodeId: string, nodeType: string, action = 'run') {
  return {
    journeyId: 'golden',
    'version.$': '$.version',
    nodeId,
    nodeType,
    action,
    'execution.$': '$$.Execution.Id',
    'input.$': '$',
  };
}

function catchAll(nodeId: string) {
  return { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${nodeId}.failed` };
}

describe('compileJourney', () => {
  it('produces a definition asl-validator accepts, starting at the start node, in JSONPath', () => {
    assert.deepEqual(aslProblems(asl), []);
    assert.equal(asl.StartAt, 'hello');
    assert.equal(asl.QueryLanguage, 'JSONPath');
    assert.equal(asl.Comment, 'Cairn journey golden v3: Every node type');
  });

  it('names one state after every node and suffixes helper states with a dot', () => {
    const names = Object.keys(asl.States);
    for (const id of Object.keys(everyNode.nodes)) assert.ok(names.includes(id), id);
    for (const name of names.filter((n) => !(n in everyNode.nodes))) assert.match(name, /\./);
  });

  it('email: step Task keeping outcome, next and until in $.last, then a Choice that sleeps a held message in a Wait and runs the Task again', () => {
    assert.deepEqual(state('hello'), {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: STEP_FUNCTION_PLACEHOLDER, Payload: payload('hello', 'email') },
      ResultSelector: {
        nodeId: 'hello',
        'outcome.$': '$.Payload.outcome',
        next: 'notify',
        'until.$': '$.Payload.until',
      },
      ResultPath: '$.last',
      TimeoutSeconds: 60,
      Retry: [lambdaRetry, transientRetry, timeoutRetry],
      Catch: [catchAll('hello')],
      Next: 'hello.sent',
    });
    assert.deepEqual(state('hello.sent'), {
      Type: 'Choice',
      Choices: [{ Variable: '$.last.outcome', StringEquals: 'held', Next: 'hello.hold' }],
      Default: 'notify',
    });
    assert.deepEqual(state('hello.hold'), { Type: 'Wait', TimestampPath: '$.last.until', Next: 'hello' });
  });

  it('every node that calls the step has a failure route: record the failure, then the Fail state', () => {
    assert.deepEqual(state('hello.failed'), {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: STEP_FUNCTION_PLACEHOLDER,
        Payload: { ...payload('hello', 'email', 'fail'), 'error.$': '$.error' },
      },
      ResultPath: null,
      TimeoutSeconds: 60,
      Retry: [lambdaRetry, transientRetry, timeoutRetry],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: FAILED_STATE }],
      Next: FAILED_STATE,
    });
    assert.equal(state(FAILED_STATE).Type, 'Fail');
    for (const id of ['hello', 'notify', 'morning', 'bought', 'vip', 'tag', 'done']) {
      assert.ok(asl.States[`${id}.failed`], `${id}.failed`);
    }
  });

  it('webhook: its retries become a Retry on WebhookError, and its timeout bounds the Task', () => {
    const notify = state('notify');
    assert.deepEqual((notify.Retry as unknown[])[0], {
      ErrorEquals: ['WebhookError'],
      IntervalSeconds: 2,
      MaxAttempts: 3,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    });
    assert.equal(notify.TimeoutSeconds, 15);
    assert.deepEqual(notify.Parameters, {
      FunctionName: STEP_FUNCTION_PLACEHOLDER,
      Payload: payload('notify', 'webhook'),
    });
  });

  it('wait for: a single Wait state with seconds', () => {
    assert.deepEqual(state('pause'), { Type: 'Wait', Seconds: 7200, Next: 'morning' });
    assert.equal(asl.States['pause.failed'], undefined);
  });

  it('wait until: a step computes the instant, a Wait state waits for it through TimestampPath', () => {
    assert.deepEqual(state('morning').ResultSelector, {
      nodeId: 'morning',
      'outcome.$': '$.Payload.outcome',
      next: 'bought',
      'until.$': '$.Payload.until',
    });
    assert.equal(state('morning').Next, 'morning.until');
    assert.deepEqual(state('morning.until'), { Type: 'Wait', TimestampPath: '$.last.until', Next: 'bought' });
  });

  it('waitFor: a waitForTaskToken Task with the token, a timeout, and States.Timeout routed to else', () => {
    const bought = state('bought');
    assert.equal(bought.Resource, 'arn:aws:states:::lambda:invoke.waitForTaskToken');
    assert.deepEqual(bought.Parameters, {
      FunctionName: STEP_FUNCTION_PLACEHOLDER,
      Payload: { ...payload('bought', 'waitFor'), 'taskToken.$': '$$.Task.Token' },
    });
    assert.equal(bought.TimeoutSeconds, 86400);
    assert.deepEqual(bought.ResultSelector, { nodeId: 'bought', outcome: 'matched', next: 'ab' });
    assert.deepEqual(
      bought.Retry,
      [lambdaRetry, transientRetry],
      'the timeout is the else path, never retried',
    );
    assert.deepEqual(bought.Catch, [
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.last', Next: 'bought.timeout' },
      catchAll('bought'),
    ]);
    assert.equal(bought.Next, 'ab');
    assert.deepEqual(state('bought.timeout'), {
      Type: 'Pass',
      Result: { nodeId: 'bought', outcome: 'timedOut', next: 'vip' },
      ResultPath: '$.last',
      Next: 'vip',
    });
  });

  it('branch: a step picks the case, a Choice routes on $.last.next', () => {
    assert.deepEqual(state('vip').ResultSelector, {
      nodeId: 'vip',
      'outcome.$': '$.Payload.outcome',
      'next.$': '$.Payload.next',
    });
    assert.equal(state('vip').Next, 'vip.choice');
    assert.deepEqual(state('vip.choice'), {
      Type: 'Choice',
      Choices: [{ Variable: '$.last.next', StringEquals: 'tag', Next: 'tag' }],
      Default: 'ab',
    });
  });

  it('branch whose cases all lead to the default needs no Choice', () => {
    const journey = validateJourney({
      ...everyNodeDocument,
      start: 'b',
      nodes: {
        b: { type: 'branch', cases: [{ when: { properties: { x: [1] } }, next: 'done' }], default: 'done' },
        done: { type: 'exit' },
      },
    });
    const compiled = compileJourney(journey);
    assert.equal(compiled.States.b?.Next, 'done');
    assert.equal(compiled.States['b.choice'], undefined);
  });

  it('split: a Pass hashes profile/journey/node with States.Hash, a Choice compares with cumulative weights', () => {
    assert.deepEqual(state('ab'), {
      Type: 'Pass',
      Parameters: { 'hash.$': "States.Hash(States.Format('{}/golden/ab', $.profileId), 'SHA-256')" },
      ResultPath: "$.splits['ab']",
      Next: 'ab.choice',
    });
    assert.deepEqual(state('ab.choice'), {
      Type: 'Choice',
      Choices: [
        { Variable: "$.splits['ab'].hash", StringLessThan: '4ccccccd', Next: 'tag' },
        { Variable: "$.splits['ab'].hash", StringLessThan: 'e6666666', Next: 'done' },
      ],
      Default: 'done',
    });
  });

  it('update: one step Task', () => {
    assert.deepEqual(state('tag').Parameters, {
      FunctionName: STEP_FUNCTION_PLACEHOLDER,
      Payload: payload('tag', 'update'),
    });
    assert.equal(state('tag').Next, 'done');
  });

  it('exit: a last step Task that ends the execution and keeps the state as output', () => {
    const done = state('done');
    assert.equal(done.End, true);
    assert.equal(done.Next, undefined);
    assert.equal(done.ResultPath, null);
    assert.equal(done.ResultSelector, undefined);
    assert.deepEqual(done.Parameters, {
      FunctionName: STEP_FUNCTION_PLACEHOLDER,
      Payload: payload('done', 'exit'),
    });
  });

  it('every Task retries Lambda throttling and transient errors and catches everything else', () => {
    for (const [name, s] of Object.entries(asl.States)) {
      if (s.Type !== 'Task') continue;
      const retry = s.Retry as { ErrorEquals: string[] }[];
      const errors = retry.flatMap((r) => r.ErrorEquals);
      for (const error of [
        'Lambda.ServiceException',
        'Lambda.TooManyRequestsException',
        'Lambda.SdkClientException',
      ]) {
        assert.ok(errors.includes(error), `${name} retries ${error}`);
      }
      assert.equal(
        errors.includes('States.Timeout'),
        name !== 'bought',
        `${name}: States.Timeout retried unless waitFor`,
      );
      const catchers = s.Catch as { ErrorEquals: string[] }[];
      assert.deepEqual(catchers.at(-1)?.ErrorEquals, ['States.ALL'], `${name} catches States.ALL`);
      assert.equal((s.Parameters as { FunctionName: string }).FunctionName, STEP_FUNCTION_PLACEHOLDER);
    }
  });

  it('the largest journey allowed (200 nodes, long ids) stays well under the 1 MB definition limit', () => {
    const nodes: Record<string, unknown> = { done: { type: 'exit' } };
    const id = (i: number) => `a-rather-long-descriptive-node-name-${i}`;
    for (let i = 0; i < 199; i++) {
      nodes[id(i)] = {
        type: 'waitFor',
        event: 'E',
        timeout: 'P1D',
        // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
        then: i === 198 ? 'done' : id(i + 1),
        else: 'done',
      };
    }
    const big = validateJourney({ ...everyNodeDocument, start: id(0), nodes });
    assert.ok(JSON.stringify(compileJourney(big)).length < 700_000);
  });

  it('is deterministic: the same journey compiles to the same bytes', () => {
    assert.equal(JSON.stringify(compileJourney(everyNode, { version: 3 })), JSON.stringify(asl));
  });
});

describe('commonPathTransitions', () => {
  it('counts at most 2 state transitions per node on the common path', () => {
    assert.deepEqual(commonPathTransitions(asl), {
      hello: 2,
      notify: 1,
      pause: 1,
      morning: 2,
      bought: 2,
      vip: 2,
      ab: 2,
      tag: 1,
      done: 1,
    });
  });
});

describe('transitionsByNodeKind', () => {
  it('reports the maximum per node kind, wait split by its form', () => {
    assert.deepEqual(transitionsByNodeKind(everyNode), {
      email: 2,
      webhook: 1,
      'wait.for': 1,
      'wait.until': 2,
      waitFor: 2,
      branch: 2,
      split: 2,
      update: 1,
      exit: 1,
    });
  });
});

describe('fillAslPlaceholders', () => {
  it('fills the step function placeholder everywhere and leaves valid JSON', () => {
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:step';
    const text = fillAslPlaceholders(asl, { StepFunctionArn: arn });
    assert.ok(!text.includes(STEP_FUNCTION_PLACEHOLDER));
    const parsed = JSON.parse(text) as typeof asl;
    assert.equal((parsed.States.hello!.Parameters as { FunctionName: string }).FunctionName, arn);
  });
});

describe('executionName', () => {
  it('is <journey>-v<version>-<hash>, stable for the same profile and entry, different otherwise', () => {
    const name = executionName('cart-recovery', 2, 'p-1', 'msg-1');
    assert.match(name, /^cart-recovery-v2-[A-Za-z0-9_-]{22}$/);
    assert.equal(executionName('cart-recovery', 2, 'p-1', 'msg-1'), name);
    assert.notEqual(executionName('cart-recovery', 2, 'p-1', 'msg-2'), name);
    assert.notEqual(executionName('cart-recovery', 2, 'p-2', 'msg-1'), name);
  });

  it('stays within 80 valid characters for the longest journey id and a large version', () => {
    const name = executionName('a'.repeat(40), 123456, 'p', 'e');
    assert.ok(name.length <= 80, `${name.length}`);
    assert.match(name, /^[A-Za-z0-9_-]+$/);
  });
});
