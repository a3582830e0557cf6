import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import {
  createMachine,
  days,
  describe,
  fn,
  history,
  hours,
  minutes,
  start,
  unique,
  useHarness,
} from './support.js';

const h = useHarness({ now: () => ({ at: new Date(h.clock.now()).toISOString() }) });

const oneWait = (wait: object) => ({
  StartAt: 'wait',
  States: { wait: { Type: 'Wait', ...wait, Next: 'done' }, done: { Type: 'Pass', End: true } },
});

suite('Wait states run on the virtual clock', () => {
  test('Seconds: still running just before the wait ends, succeeded once the clock reaches it', async () => {
    const { arn } = await createMachine(h, unique('seconds'), oneWait({ Seconds: 7200 }));
    const exec = await start(h, arn, { cartId: 'c1' });
    await h.clock.advance(hours(2) - 1000);
    assert.equal((await describe(h, exec)).status, 'RUNNING');
    await h.clock.advance(1000);
    const done = await describe(h, exec);
    assert.equal(done.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(done.output!), { cartId: 'c1' });
  });

  test('SecondsPath reads the duration from the input', async () => {
    const { arn } = await createMachine(h, unique('seconds-path'), oneWait({ SecondsPath: '$.delay' }));
    const exec = await start(h, arn, { delay: 600 });
    await h.clock.advance(minutes(9));
    assert.equal((await describe(h, exec)).status, 'RUNNING');
    await h.clock.advance(minutes(1));
    assert.equal((await describe(h, exec)).status, 'SUCCEEDED');
  });

  test('Timestamp and TimestampPath wait until that instant of virtual time', async () => {
    const at = new Date(h.clock.now() + days(2)).toISOString().replace(/\.\d+Z$/, 'Z');
    const fixed = await createMachine(h, unique('timestamp'), oneWait({ Timestamp: at }));
    const fromInput = await createMachine(h, unique('timestamp-path'), oneWait({ TimestampPath: '$.until' }));
    const a = await start(h, fixed.arn);
    const b = await start(h, fromInput.arn, { until: at });
    await h.clock.advance(days(1));
    assert.equal((await describe(h, a)).status, 'RUNNING');
    assert.equal((await describe(h, b)).status, 'RUNNING');
    await h.clock.advance(days(1));
    assert.equal((await describe(h, a)).status, 'SUCCEEDED');
    assert.equal((await describe(h, b)).status, 'SUCCEEDED');
    const exited = (await history(h, b)).find((event) => event.type === 'WaitStateExited');
    assert.ok(exited?.timestamp && exited.timestamp.getTime() >= Date.parse(at));
  });

  test('a timestamp in the past does not wait', async () => {
    const { arn } = await createMachine(h, unique('past'), oneWait({ TimestampPath: '$.until' }));
    const exec = await start(h, arn, { until: '2020-01-01T00:00:00Z' });
    assert.equal((await describe(h, exec)).status, 'SUCCEEDED');
  });

  test('advance fires due waits in time order, each seeing its own wake-up time', async () => {
    const definition = {
      StartAt: 'wait',
      States: {
        wait: { Type: 'Wait', SecondsPath: '$.delay', Next: 'stamp' },
        stamp: { Type: 'Task', Resource: fn('now'), End: true },
      },
    };
    const { arn } = await createMachine(h, unique('order'), definition);
    const startedAt = h.clock.now();
    const late = await start(h, arn, { delay: 7200 });
    const early = await start(h, arn, { delay: 3600 });
    await h.clock.advance(hours(3));
    const lateAt = Date.parse(JSON.parse((await describe(h, late)).output!).at);
    const earlyAt = Date.parse(JSON.parse((await describe(h, early)).output!).at);
    assert.ok(earlyAt < lateAt);
    assert.ok(Math.abs(earlyAt - (startedAt + hours(1))) < 1000);
    assert.ok(Math.abs(lateAt - (startedAt + hours(2))) < 1000);
  });

  test('a wait ended by advance lets the execution run on to its next wait in the same call', async () => {
    const definition = {
      StartAt: 'first',
      States: {
        first: { Type: 'Wait', Seconds: 3600, Next: 'second' },
        second: { Type: 'Wait', Seconds: 3600, Next: 'done' },
        done: { Type: 'Succeed' },
      },
    };
    const { arn } = await createMachine(h, unique('chain'), definition);
    const exec = await start(h, arn);
    await h.clock.advance(hours(2));
    assert.equal((await describe(h, exec)).status, 'SUCCEEDED');
  });

  test('the context object ($$.Execution, $$.State.Name) is intact after a wait resumes the execution', async () => {
    const definition = {
      StartAt: 'replace',
      States: {
        replace: { Type: 'Pass', Result: { step: 'replaced' }, Next: 'wait' },
        wait: { Type: 'Wait', Seconds: 60, Next: 'read' },
        read: {
          Type: 'Pass',
          Parameters: {
            'trigger.$': '$$.Execution.Input.trigger',
            'started.$': '$$.Execution.StartTime',
            'id.$': '$$.Execution.Id',
            'node.$': '$$.State.Name',
            'step.$': '$.step',
          },
          End: true,
        },
      },
    };
    const { arn } = await createMachine(h, unique('context'), definition);
    const startedAt = h.clock.now();
    const exec = await start(h, arn, { trigger: { event: 'Signed Up' } });
    await h.clock.advance(60_000);
    const out = JSON.parse((await describe(h, exec)).output!);
    assert.deepEqual(out, {
      trigger: { event: 'Signed Up' },
      started: new Date(startedAt).toISOString(),
      id: exec,
      node: 'read',
      step: 'replaced',
    });
  });

  test('the execution TimeoutSeconds is measured on the virtual clock', async () => {
    const definition = { ...oneWait({ Seconds: 7200 }), TimeoutSeconds: 3600 };
    const { arn } = await createMachine(h, unique('exec-timeout'), definition);
    const exec = await start(h, arn);
    await h.clock.advance(hours(1));
    const out = await describe(h, exec);
    assert.equal(out.status, 'TIMED_OUT');
    assert.equal(out.error, 'States.Timeout');
    const types = (await history(h, exec)).map((event) => event.type);
    assert.equal(types.at(-1), 'ExecutionTimedOut');
  });
});
