/**
 * Part 2 of `npm run bench:analytics`: GET /journeys/{id}/report over the analytics records of
 * BENCH_REPORT_EXECUTIONS executions (default 10,000; 100,000 is the size), written by the
 * runtime's own code into DynamoDB Local, never by hand:
 *
 *   entry      shared/runtime/entry.ts `enter` (entry + presence transaction, then the start's
 *              counters with the day's analytics counters: RuntimeStore.addStats)
 *   exit       shared/runtime/step.ts `runStep` of the exit node, as the step Lambda runs it after the
 *              wait (transition record, trail Query, end-of-execution counters in the step's one write)
 *   goal       shared/runtime/stop.ts `stopFor` (trail Query, counters, presence removed, one write)
 *
 * The journey: `ab` split 50/50 (A, B) → `waitA` P1D / `waitB` P2D → `done` exit; A converts 12 %,
 * B 8 %, six hours after entry (a goal stop in the wait). Entries are spread over BENCH_REPORT_DAYS
 * (100) days of a virtual clock (one per execution, through AsyncLocalStorage, so executions run
 * concurrently at their own times). Only Step Functions is stood in for (StartExecution,
 * StopExecution, GetExecutionHistory answered in process, and counted: on AWS they are requests).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createRuntime, runtimeCalls } from '../functions/runtime/runtime.js';
import { armsFor } from '../shared/analytics/record.js';
import type { Clock } from '../shared/clock.js';
import { executionName } from '../shared/journeys/compile.js';
import { splitChoiceStateName, splitHash } from '../shared/journeys/nodes/split.js';
import { createLogger } from '../shared/log.js';
import { enter } from '../shared/runtime/entry.js';
import { runStep } from '../shared/runtime/step.js';
import { stopFor } from '../shared/runtime/stop.js';
import type { ExecutionService, PresenceRecord } from '../shared/runtime/types.js';
import { createDocumentClient } from '../shared/store/dynamodb.js';
import { evenSplit } from '../test/support/journeys.js';
import { percentile, pool, round } from './support/stats.js';

// biome-ignore lint/suspicious/noExplicitAny: responses read field by field
type Call = (method: string, path: string, body?: unknown) => Promise<any>;

const executions = Number(process.env.BENCH_REPORT_EXECUTIONS ?? 10_000);
const days = Number(process.env.BENCH_REPORT_DAYS ?? 100);
const concurrency = Number(process.env.BENCH_REPORT_CONCURRENCY ?? 24);
const role = 'bench-executions';
const journeyId = 'bench-report';
const firstDay = Date.parse('2026-03-01T00:00:00.000Z');
const hour = 3_600_000;
const day = 24 * hour;

export async function reportOverExecutions(call: Call) {
  await call('PUT', `/journeys/${journeyId}`, {
    id: journeyId,
    name: journeyId,
    trigger: { event: 'Bench Entered' },
    goal: { event: 'Bench Converted', within: 'P7D' },
    reentry: 'always',
    start: 'ab',
    nodes: {
      ab: evenSplit({ waitA: 'A', waitB: 'B' }),
      waitA: { type: 'wait', for: 'P1D', next: 'done' },
      waitB: { type: 'wait', for: 'P2D', next: 'done' },
      done: { type: 'exit' },
    },
  });
  await call('POST', `/journeys/${journeyId}/publish`);

  // Each execution runs at its own virtual time.
  const time = new AsyncLocalStorage<{ now: number }>();
  const clock: Clock = { now: () => time.getStore()?.now ?? Date.now() };
  const runtime = createRuntime({
    role,
    clock,
    log: createLogger({ component: 'bench' }, { level: 'warn' }),
  });
  const journey = await runtime.journeys.getJourney(journeyId);
  const definition = journey && (await runtime.journeys.getVersion(journeyId, journey.version));
  if (!journey || !definition) throw new Error(`${journeyId} is not published`);

  // Step Functions, stood in for: what the runtime asks of it, answered as a running execution would.
  const sfn = { StartExecution: 0, StopExecution: 0, GetExecutionHistory: 0 };
  const parked = new Map<string, string>();
  const executionsService: ExecutionService = {
    executionArn: (machine, name) => `${machine.replace(':stateMachine:', ':execution:')}:${name}`,
    async start(input) {
      sfn.StartExecution++;
      return {
        executionArn: executionsService.executionArn(input.stateMachineArn, input.name),
        started: true,
      };
    },
    async sendTaskSuccess() {
      return false;
    },
    async stop() {
      sfn.StopExecution++;
      return true;
    },
    async isRunning() {
      return true;
    },
    async trail(arn) {
      sfn.GetExecutionHistory++;
      const arm = parked.get(arn);
      return arm ? { states: ['ab', splitChoiceStateName('ab'), arm] } : undefined;
    },
  };
  const log = createLogger({ component: 'bench' }, { level: 'warn' });
  const conversions = { A: 0, B: 0 };
  const armCustomers = { A: 0, B: 0 };

  const runOne = async (i: number) => {
    const profileId = `bench-p-${i}`;
    // Spread evenly over the days, at a different time of day each.
    const enteredAt = firstDay + (i % days) * day + ((i * 7_919_173) % day);
    const arm = armsFor(definition, journeyId, profileId).ab === 'waitA' ? 'A' : 'B';
    armCustomers[arm]++;
    const converts = (armCustomers[arm] * 37) % 100 < (arm === 'A' ? 12 : 8);
    const state = { now: enteredAt };
    await time.run(state, async () => {
      const entryKey = `bench-entry-${i}`;
      const trigger = { event: 'Bench Entered', messageId: entryKey, properties: {} };
      const started = await enter(
        { executions: executionsService, store: runtime.store, clock, executionName, log },
        journey,
        profileId,
        [],
        trigger,
        entryKey,
      );
      if (!started.started) throw new Error(`execution ${i} did not start`);
      if (converts) {
        state.now = enteredAt + 6 * hour;
        const presence: PresenceRecord = {
          profileId,
          executionName: started.executionName,
          executionArn: started.executionArn,
          journeyId,
          version: journey.version,
          enteredAt,
          triggerMessageId: entryKey,
          goal: { event: 'Bench Converted', until: enteredAt + 7 * day },
        };
        parked.set(started.executionArn, arm === 'A' ? 'waitA' : 'waitB');
        const stopped = await stopFor(
          {
            journeys: runtime.journeys,
            executions: executionsService,
            store: runtime.store,
            clock,
            log,
            ...(runtime.step.analytics && { analytics: runtime.step.analytics }),
          },
          presence,
          'goal',
          { event: 'Bench Converted' },
        );
        parked.delete(started.executionArn);
        if (!stopped) throw new Error(`execution ${i} did not stop`);
        conversions[arm]++;
        return;
      }
      state.now = enteredAt + (arm === 'A' ? 1 : 2) * day;
      await runStep(
        {
          journeyId,
          version: journey.version,
          nodeId: 'done',
          nodeType: 'exit',
          action: 'run',
          execution: started.executionArn,
          input: {
            profileId,
            journeyId,
            version: journey.version,
            entry: { event: 'Bench Entered', messageId: entryKey, properties: {} },
            enteredAt: new Date(enteredAt).toISOString(),
            splits: { ab: { hash: splitHash(profileId, journeyId, 'ab') } },
          },
        },
        runtime.step,
      );
    });
  };

  const t0 = performance.now();
  let done = 0;
  const progress = setInterval(() => {
    const seconds = (performance.now() - t0) / 1000;
    console.log(`  ${done.toLocaleString('en-US')} executions written, ${round(done / seconds, 0)}/s`);
  }, 30_000);
  try {
    await pool(executions, concurrency, async (i) => {
      await runOne(i);
      done++;
    });
  } finally {
    clearInterval(progress);
  }
  const writeSeconds = (performance.now() - t0) / 1000;
  const dynamo = { ...(runtimeCalls[role] ?? {}) };
  const dynamoRequests = Object.values(dynamo).reduce((sum, n) => sum + n, 0);
  const sfnRequests = Object.values(sfn).reduce((sum, n) => sum + n, 0);

  // The counter items the report reads (it never reads the transition records).
  const client = createDocumentClient();
  let counterItems = 0;
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: process.env.CAIRN_JOURNEYS_TABLE ?? 'cairn-journeys',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `AN#${journeyId}` },
        Select: 'COUNT',
        ...(cursor && { ExclusiveStartKey: cursor }),
      }),
    );
    counterItems += page.Count ?? 0;
    cursor = page.LastEvaluatedKey;
  } while (cursor);

  const timed = async (path: string) => {
    const latencies: number[] = [];
    // biome-ignore lint/suspicious/noExplicitAny: the report, read field by field
    let last: any;
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      last = await call('GET', path);
      latencies.push(performance.now() - start);
    }
    return { p50: round(percentile(latencies, 50), 1), p95: round(percentile(latencies, 95), 1), last };
  };
  const all = await timed(`/journeys/${journeyId}/report`);
  const weekFrom = new Date(firstDay + 40 * day).toISOString().slice(0, 10);
  const weekTo = new Date(firstDay + 46 * day).toISOString().slice(0, 10);
  const week = await timed(`/journeys/${journeyId}/report?from=${weekFrom}&to=${weekTo}`);
  const experiment = all.last.experiments?.[0];
  return {
    executions,
    days,
    concurrency,
    written: {
      seconds: round(writeSeconds, 0),
      perSecond: round(executions / writeSeconds, 0),
      conversions,
      dynamoDbRequests: dynamo,
      dynamoDbRequestsPerExecution: round(dynamoRequests / executions, 2),
      stepFunctionsRequests: sfn,
      requestsPerExecution: round((dynamoRequests + sfnRequests) / executions, 2),
    },
    counterItems,
    report: {
      entered: all.last.entered,
      conversions: all.last.goal?.conversions,
      experiment: experiment && {
        arms: experiment.arms.map((a: { name: string; entered: number; conversions: number }) => ({
          name: a.name,
          entered: a.entered,
          conversions: a.conversions,
        })),
        winner: experiment.winner,
        pValue: experiment.pValue,
      },
      paths: all.last.paths?.length,
    },
    allDaysMs: { p50: all.p50, p95: all.p95 },
    oneWeekMs: { from: weekFrom, to: weekTo, p50: week.p50, p95: week.p95, entered: week.last.entered },
  };
}
