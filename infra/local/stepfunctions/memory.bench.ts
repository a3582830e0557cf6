/**
 * Memory per waiting execution: starts N executions that wait (half in a 2-day Wait, half for a task
 * token after a Lambda call), measures the heap, then advances the clock and answers the tokens.
 *   node --expose-gc --import tsx infra/local/stepfunctions/memory.bench.ts [N]
 */
import { memoryLogger } from '../../../shared/log.js';
import { createVirtualClock } from './clock.js';
import { LocalStepFunctions } from './service.js';

const count = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const tokens: string[] = [];
const clock = createVirtualClock({ timeScale: 0 });
const service = new LocalStepFunctions({
  clock,
  log: memoryLogger(),
  invoke: async (_name, payload) => {
    const token = (payload as { taskToken?: string }).taskToken;
    if (token) tokens.push(token);
    return { ok: true };
  },
});
const fn = 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step';
const definition = {
  StartAt: 'route',
  States: {
    route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.kind', StringEquals: 'wait', Next: 'wait-2d' }],
      Default: 'bought',
    },
    'wait-2d': { Type: 'Wait', Seconds: 172_800, Next: 'done' },
    bought: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: fn,
        Payload: {
          'taskToken.$': '$$.Task.Token',
          'execution.$': '$$.Execution.Id',
          node: 'bought',
          'profileId.$': '$.profileId',
        },
      },
      TimeoutSeconds: 604_800,
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'done' }],
      ResultPath: '$.event',
      Next: 'done',
    },
    done: { Type: 'Succeed' },
  },
};
const created = (await service.handle('CreateStateMachine', {
  name: 'cart-recovery',
  definition: JSON.stringify(definition),
  roleArn: 'arn:aws:iam::000000000000:role/cairn',
  publish: true,
})) as { stateMachineVersionArn: string };

const before = heap();
const started = performance.now();
for (let i = 0; i < count; i++) {
  const input = {
    kind: process.env.KIND ?? (i % 2 === 0 ? 'wait' : 'token'),
    profileId: `p-${i.toString().padStart(8, '0')}`,
    journeyId: 'cart-recovery',
    trigger: { event: 'Product Added', messageId: `m-${i}`, properties: { cartId: `cart-${i}`, price: 42 } },
  };
  await service.handle('StartExecution', {
    stateMachineArn: created.stateMachineVersionArn,
    name: `cart-recovery-v1-${i}`,
    input: JSON.stringify(input),
  });
  if (i % 500 === 499) await clock.settled();
}
await clock.settled();
const startMs = performance.now() - started;
const after = heap();
const waiting = service.waitingCount();

const advanced = performance.now();
await clock.advance(172_800_000);
const advanceMs = performance.now() - advanced;
const answered = performance.now();
for (const taskToken of tokens)
  await service.handle('SendTaskSuccess', { taskToken, output: '{"event":"Order Completed"}' });
await clock.settled();
const answerMs = performance.now() - answered;
const list = (await service.handle('ListExecutions', {
  stateMachineArn: created.stateMachineVersionArn,
  statusFilter: 'SUCCEEDED',
  maxResults: 1000,
})) as { executions: unknown[] };

console.log(
  JSON.stringify(
    {
      executions: count,
      waiting,
      bytesPerWaitingExecution: Math.round((after - before) / count),
      startPerSecond: Math.round(count / (startMs / 1000)),
      advanceP2DMs: Math.round(advanceMs),
      sendTaskSuccessPerSecond: Math.round(tokens.length / (answerMs / 1000)),
      succeededFirstPage: list.executions.length,
    },
    null,
    2,
  ),
);
await service.stop();
clock.stop();
