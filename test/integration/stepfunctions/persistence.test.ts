import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { DescribeStateMachineCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import {
  createMachine,
  describe,
  eventTypes,
  FakeFunctions,
  fn,
  hours,
  start,
  startHarness,
  tempDir,
} from './support.js';

const dataDir = tempDir();
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('state machines, versions and waiting executions survive a restart with data on disk', async () => {
  const functions = new FakeFunctions();
  functions.set('waiter', () => ({}));
  const definition = {
    StartAt: 'wait',
    States: {
      wait: { Type: 'Wait', Seconds: 7200, Next: 'bought' },
      bought: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: fn('waiter'), Payload: { 'token.$': '$$.Task.Token', 'who.$': '$.who' } },
        ResultPath: '$.event',
        TimeoutSeconds: 86400,
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'gave-up' }],
        Next: 'done',
      },
      'gave-up': { Type: 'Pass', Result: 'timeout', ResultPath: '$.path', End: true },
      done: { Type: 'Pass', Result: 'event', ResultPath: '$.path', End: true },
    },
  };

  const first = await startHarness({ dataDir, functions });
  const { arn, versionArn } = await createMachine(first, 'journey-persisted', definition, true);
  const inWait = await start(first, versionArn!, { who: 'waiting' });
  const forToken = await start(first, versionArn!, { who: 'token' });
  const forTimeout = await start(first, versionArn!, { who: 'timeout' });
  await first.clock.advance(hours(2) - 60_000);
  // All three are still in the Wait when the stack stops.
  await first.stop();
  const stoppedAt = first.clock.now();

  // The new clock starts earlier; the service moves it to the time the last run reached.
  const second = await startHarness({ dataDir, functions });
  assert.ok(second.clock.now() >= stoppedAt);
  const described = await second.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: versionArn! }));
  assert.equal(described.stateMachineArn, versionArn);
  assert.equal((await describe(second, inWait)).status, 'RUNNING');
  await second.clock.advance(60_000);
  const tokens = functions.callsOf('waiter') as { token: string; who: string }[];
  assert.deepEqual(tokens.map((call) => call.who).sort(), ['timeout', 'token', 'waiting']);
  await second.stop();

  // Restart again while all three wait for their token.
  const third = await startHarness({ dataDir, functions });
  const tokenOf = (who: string) => tokens.find((call) => call.who === who)!.token;
  await third.sfn.send(
    new SendTaskSuccessCommand({ taskToken: tokenOf('token'), output: '{"orderId":"o1"}' }),
  );
  await third.sfn.send(
    new SendTaskSuccessCommand({ taskToken: tokenOf('waiting'), output: '{"orderId":"o2"}' }),
  );
  await third.clock.advance(hours(24));
  const output = async (exec: string) => JSON.parse((await describe(third, exec)).output ?? 'null');
  assert.deepEqual(await output(forToken), { who: 'token', event: { orderId: 'o1' }, path: 'event' });
  assert.deepEqual(await output(inWait), { who: 'waiting', event: { orderId: 'o2' }, path: 'event' });
  assert.deepEqual(await output(forTimeout), { who: 'timeout', path: 'timeout' });
  const types = await eventTypes(third, forToken);
  assert.equal(types.filter((type) => type === 'WaitStateEntered').length, 1);
  assert.equal(types.at(-1), 'ExecutionSucceeded');
  assert.ok(arn);
  await third.stop();
});

test('an execution stopped in the middle of a task runs that task again after a restart', async () => {
  const dir = tempDir();
  try {
    const functions = new FakeFunctions();
    let release: (() => void) | undefined;
    functions.set('slow', () => new Promise((resolve) => (release = () => resolve({ done: 'first' }))));
    const definition = {
      StartAt: 'before',
      States: {
        before: { Type: 'Pass', Result: { step: 1 }, Next: 'slow' },
        slow: { Type: 'Task', Resource: fn('slow'), End: true },
      },
    };
    const first = await startHarness({ dataDir: dir, functions });
    const { arn } = await createMachine(first, 'mid-task', definition);
    const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    const { executionArn } = await first.sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }),
    );
    while (functions.callsOf('slow').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.stop();
    release?.();

    functions.set('slow', () => ({ done: 'again' }));
    const second = await startHarness({ dataDir: dir, functions });
    await second.clock.settled();
    const out = await describe(second, executionArn!);
    assert.equal(out.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(out.output!), { done: 'again' });
    assert.deepEqual(functions.callsOf('slow'), [{ step: 1 }, { step: 1 }]);
    await second.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
