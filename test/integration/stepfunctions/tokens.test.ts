import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  createMachine,
  describe,
  eventTypes,
  fn,
  hours,
  minutes,
  start,
  unique,
  useHarness,
} from './support.js';

const h = useHarness({
  waiter: () => ({ registered: true }),
  send: (payload) => ({ sent: payload }),
});

/** waitFor: the token goes to a Lambda; success → then, timeout → else (as the journey compiler emits). */
const waitForEvent = (extra: object = {}) => ({
  StartAt: 'bought',
  States: {
    bought: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: fn('waiter'),
        Payload: { 'taskToken.$': '$$.Task.Token', 'cartId.$': '$.cartId', 'node.$': '$$.State.Name' },
      },
      ResultPath: '$.event',
      TimeoutSeconds: 3600,
      Catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'reminder' },
        { ErrorEquals: ['CartAbandoned'], ResultPath: '$.failure', Next: 'abandoned' },
      ],
      Next: 'thanks',
      ...extra,
    },
    thanks: { Type: 'Pass', Result: 'thanks', ResultPath: '$.path', End: true },
    reminder: { Type: 'Pass', Result: 'reminder', ResultPath: '$.path', End: true },
    abandoned: { Type: 'Pass', Result: 'abandoned', ResultPath: '$.path', End: true },
  },
});

/** The same without Catch (and without the states only Catch reached). */
const uncaught = (extra: object = {}) => {
  const definition = waitForEvent(extra);
  const { bought, thanks } = definition.States;
  const { Catch: _catch, ...rest } = bought;
  return { StartAt: 'bought', States: { bought: rest, thanks } };
};

function lastToken(): string {
  const payload = h.functions.callsOf('waiter').at(-1) as { taskToken: string };
  return payload.taskToken;
}

async function rejects(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name);
    return true;
  });
}

suite('.waitForTaskToken', () => {
  test('hands a token to the Lambda and resumes with SendTaskSuccess output', async () => {
    const { arn } = await createMachine(h, unique('token-ok'), waitForEvent());
    const exec = await start(h, arn, { cartId: 'cart-1' });
    const payload = h.functions.callsOf('waiter').at(-1) as {
      taskToken: string;
      cartId: string;
      node: string;
    };
    assert.equal(payload.cartId, 'cart-1');
    assert.equal(payload.node, 'bought');
    assert.ok(payload.taskToken.length > 20);
    assert.equal((await describe(h, exec)).status, 'RUNNING');
    await h.sfn.send(
      new SendTaskSuccessCommand({ taskToken: payload.taskToken, output: '{"orderId":"o-9"}' }),
    );
    await h.clock.settled();
    const out = await describe(h, exec);
    assert.equal(out.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(out.output!), {
      cartId: 'cart-1',
      event: { orderId: 'o-9' },
      path: 'thanks',
    });
    const types = await eventTypes(h, exec);
    assert.deepEqual(types.slice(0, 7), [
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
  });

  test('SendTaskFailure with an error name is caught by the matching Catch', async () => {
    const { arn } = await createMachine(h, unique('token-fail'), waitForEvent());
    const exec = await start(h, arn, { cartId: 'cart-2' });
    await h.sfn.send(
      new SendTaskFailureCommand({ taskToken: lastToken(), error: 'CartAbandoned', cause: 'gone' }),
    );
    await h.clock.settled();
    const out = JSON.parse((await describe(h, exec)).output!);
    assert.equal(out.path, 'abandoned');
    assert.deepEqual(out.failure, { Error: 'CartAbandoned', Cause: 'gone' });
  });

  test('TimeoutSeconds on the virtual clock ends in States.Timeout, taken by Catch', async () => {
    const { arn } = await createMachine(h, unique('token-timeout'), waitForEvent());
    const exec = await start(h, arn, { cartId: 'cart-3' });
    const token = lastToken();
    await h.clock.advance(minutes(59));
    assert.equal((await describe(h, exec)).status, 'RUNNING');
    await h.clock.advance(minutes(1));
    const out = await describe(h, exec);
    assert.equal(out.status, 'SUCCEEDED');
    assert.equal(JSON.parse(out.output!).path, 'reminder');
    assert.equal(JSON.parse(out.output!).timeout.Error, 'States.Timeout');
    assert.ok((await eventTypes(h, exec)).includes('TaskTimedOut'));
    await rejects(h.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })), 'TaskTimedOut');
  });

  test('a timeout without a Catch fails the execution with States.Timeout', async () => {
    const definition = uncaught();
    const { arn } = await createMachine(h, unique('token-uncaught'), definition);
    const exec = await start(h, arn, { cartId: 'cart-4' });
    await h.clock.advance(hours(1));
    const out = await describe(h, exec);
    assert.equal(out.status, 'FAILED');
    assert.equal(out.error, 'States.Timeout');
  });

  test('HeartbeatSeconds times out without heartbeats and is extended by SendTaskHeartbeat', async () => {
    const { arn } = await createMachine(h, unique('heartbeat'), uncaught({ HeartbeatSeconds: 600 }));
    const beating = await start(h, arn, { cartId: 'beat' });
    const token = lastToken();
    const silent = await start(h, arn, { cartId: 'silent' });
    await h.clock.advance(minutes(9));
    await h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await h.clock.advance(minutes(9));
    assert.equal((await describe(h, beating)).status, 'RUNNING');
    const out = await describe(h, silent);
    assert.equal(out.status, 'FAILED');
    assert.equal(out.error, 'States.HeartbeatTimeout');
  });

  test('a token answered while the Lambda is still running is not lost', async () => {
    h.functions.set('eager', async (payload) => {
      const { taskToken } = payload as { taskToken: string };
      await h.sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"early":true}' }));
      return {};
    });
    const definition = waitForEvent();
    (definition.States.bought.Parameters as { FunctionName: string }).FunctionName = fn('eager');
    const { arn } = await createMachine(h, unique('eager'), definition);
    const exec = await start(h, arn, { cartId: 'c' });
    await h.clock.settled();
    const out = await describe(h, exec);
    assert.equal(out.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(out.output!).event, { early: true });
  });

  test('token errors are AWS-shaped: InvalidToken, TaskDoesNotExist, TaskTimedOut after an answer or a stop', async () => {
    await rejects(
      h.sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })),
      'InvalidToken',
    );
    const unknown = Buffer.from(
      JSON.stringify(['arn:aws:states:us-east-1:000000000000:execution:nope:nope', 1, 'x']),
    ).toString('base64url');
    await rejects(
      h.sfn.send(new SendTaskSuccessCommand({ taskToken: unknown, output: '{}' })),
      'TaskDoesNotExist',
    );

    const { arn } = await createMachine(h, unique('token-errors'), waitForEvent());
    await start(h, arn, { cartId: 'a' });
    const answered = lastToken();
    await rejects(
      h.sfn.send(new SendTaskSuccessCommand({ taskToken: answered, output: 'not json' })),
      'InvalidOutput',
    );
    await h.sfn.send(new SendTaskSuccessCommand({ taskToken: answered, output: '{}' }));
    await rejects(
      h.sfn.send(new SendTaskSuccessCommand({ taskToken: answered, output: '{}' })),
      'TaskTimedOut',
    );

    const stopped = await start(h, arn, { cartId: 'b' });
    const token = lastToken();
    await h.sfn.send(new StopExecutionCommand({ executionArn: stopped, error: 'Goal', cause: 'converted' }));
    await rejects(h.sfn.send(new SendTaskFailureCommand({ taskToken: token })), 'TaskTimedOut');
  });

  test('a failing Lambda fails the task before any wait, with the thrown error name', async () => {
    class WebhookDown extends Error {
      override name = 'WebhookDown';
    }
    h.functions.set('broken', () => {
      throw new WebhookDown('503 from hook');
    });
    const definition = uncaught();
    (definition.States.bought.Parameters as { FunctionName: string }).FunctionName = fn('broken');
    const { arn } = await createMachine(h, unique('token-lambda-error'), definition);
    const exec = await start(h, arn, { cartId: 'x' });
    const out = await describe(h, exec);
    assert.equal(out.status, 'FAILED');
    assert.equal(out.error, 'WebhookDown');
    assert.equal(JSON.parse(out.cause!).errorMessage, '503 from hook');
  });
});
