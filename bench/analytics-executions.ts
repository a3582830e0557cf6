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
 * B 8 % (decided per execution index, so a run is reproducible), six hours after entry (a goal stop
 * in the wait). Entries are spread over BENCH_REPORT_DAYS (100) days of a virtual clock (one per
 * execution, through AsyncLocalStorage, so executions run concurrently at their own times). Only
 * Step Functions is stood in for (StartExecution, StopExecution, GetExecutionHistory answered in
 * process, and counted: on AWS they are requests).
 *
 * Real executions send each write as it happens (15-21 executions/s on a loaded 2-core machine).
 * `BENCH_REPORT_SEED=1` (seeding): only the first BENCH_REPORT_REAL (default 1,000) run that way; the
 * rest run the SAME code against a capturing client (bench/analytics-seed.ts) whose writes are then
 * sent in bulk: the items with BatchWriteItem, the counters summed into one ADD per item. Two checks
 * keep the seeded data honest:
 *   drift      the real executions are captured a second time (not written) and what the capture
 *              would write (every day's counters per day and kind, the stats totals, every
 *              transition record) must equal what the real run wrote: else the bench stops;
 *   adds up    the report over real + seeded data must give the numbers the bench decided: entered,
 *              each arm's customers and conversions, paths summing to entered and conversions, the
 *              week's entries.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { loadavg } from 'node:os';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { countCalls, createRuntime, type Runtime, runtimeCalls } from '../functions/runtime/runtime.js';
import { sumCounters } from '../shared/analytics/counters.js';
import { armsFor } from '../shared/analytics/record.js';
import { buildReport } from '../shared/analytics/report.js';
import { dynamoAnalyticsReader } from '../shared/analytics/store.js';
import type { Clock } from '../shared/clock.js';
import { executionName } from '../shared/journeys/compile.js';
import { splitChoiceStateName, splitHash } from '../shared/journeys/nodes/split.js';
import { createLogger } from '../shared/log.js';
import { enter } from '../shared/runtime/entry.js';
import { runStep } from '../shared/runtime/step.js';
import { stopFor } from '../shared/runtime/stop.js';
import type { ExecutionService, PresenceRecord } from '../shared/runtime/types.js';
import { createDocumentClient, queryAll } from '../shared/store/dynamodb.js';
import { journeysTable, profilesTable } from '../shared/store/tables.js';
import { evenSplit } from '../test/support/journeys.js';
import { type Capture, capture } from './analytics-seed.js';
import { percentile, pool, round } from './support/stats.js';

// biome-ignore lint/suspicious/noExplicitAny: responses read field by field
type Call = (method: string, path: string, body?: unknown) => Promise<any>;

const executions = Number(process.env.BENCH_REPORT_EXECUTIONS ?? 10_000);
const days = Number(process.env.BENCH_REPORT_DAYS ?? 100);
const concurrency = Number(process.env.BENCH_REPORT_CONCURRENCY ?? 24);
const seeding = process.env.BENCH_REPORT_SEED === '1';
const realExecutions = seeding
  ? Math.min(executions, Number(process.env.BENCH_REPORT_REAL ?? 1_000))
  : executions;
/** Seeded executions captured between two bulk writes (bounds the memory the capture holds). */
const seedChunk = 5_000;
/** Executions at which a seeded run measures the report on its way up (multiples of seedChunk). */
const checkpoints = (process.env.BENCH_REPORT_CHECKPOINTS ?? '10000,30000,60000').split(',').map(Number);
/** BatchWriteItem / UpdateItem requests in flight while seeding. */
const seedWriters = Number(process.env.BENCH_REPORT_SEED_WRITERS ?? 8);
const role = 'bench-executions';
const journeyId = 'bench-report';
const firstDay = Date.parse('2026-03-01T00:00:00.000Z');
const hour = 3_600_000;
const day = 24 * hour;
const weekFromDay = 40;
const weekToDay = 46;
const journeysTableName = process.env.CAIRN_JOURNEYS_TABLE ?? journeysTable.defaultName;
const profilesTableName = process.env.CAIRN_PROFILES_TABLE ?? profilesTable.defaultName;

/** Execution i: when it enters (spread evenly over the days, at a different time of day each). */
const enteredAtOf = (i: number) => firstDay + (i % days) * day + ((i * 7_919_173) % day);
/** Whether execution i converts: 12 % of arm A, 8 % of arm B, by its index (reproducible). */
const convertsOf = (i: number, arm: 'A' | 'B') => (i * 7_919) % 100 < (arm === 'A' ? 12 : 8);

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
  const log = createLogger({ component: 'bench' }, { level: 'warn' });
  const runtime = createRuntime({ role, clock, log });
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

  // What the bench decides, to check the report against: each arm's customers and conversions.
  const armOf = (i: number): 'A' | 'B' =>
    armsFor(definition, journeyId, `bench-p-${i}`).ab === 'waitA' ? 'A' : 'B';
  const expected = { A: { entered: 0, conversions: 0 }, B: { entered: 0, conversions: 0 }, week: 0 };
  for (let i = 0; i < executions; i++) {
    const arm = armOf(i);
    expected[arm].entered++;
    if (convertsOf(i, arm)) expected[arm].conversions++;
    const d = i % days;
    if (d >= weekFromDay && d <= weekToDay) expected.week++;
  }

  /** Runs execution i with the runtime's code on `using` (the real runtime, or one writing into a capture). */
  const runOne = async (using: Pick<Runtime, 'store' | 'journeys' | 'step'>, i: number) => {
    const profileId = `bench-p-${i}`;
    const enteredAt = enteredAtOf(i);
    const arm = armOf(i);
    const state = { now: enteredAt };
    await time.run(state, async () => {
      const entryKey = `bench-entry-${i}`;
      const trigger = { event: 'Bench Entered', messageId: entryKey, properties: {} };
      const started = await enter(
        { executions: executionsService, store: using.store, clock, executionName, log },
        journey,
        profileId,
        [],
        trigger,
        entryKey,
      );
      if (!started.started) throw new Error(`execution ${i} did not start`);
      if (convertsOf(i, arm)) {
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
            journeys: using.journeys,
            executions: executionsService,
            store: using.store,
            clock,
            log,
            ...(using.step.analytics && { analytics: using.step.analytics }),
          },
          presence,
          'goal',
          { event: 'Bench Converted' },
        );
        parked.delete(started.executionArn);
        if (!stopped) throw new Error(`execution ${i} did not stop`);
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
        using.step,
      );
    });
  };

  /** The runtime's code, writing into a capture instead of DynamoDB (reads still go to it). */
  const seedClient = countCalls(createDocumentClient(), 'bench-seed', 'DynamoDB');
  const capturing = (): { runtime: Pick<Runtime, 'store' | 'journeys' | 'step'>; capture: Capture } => {
    const captured = capture(seedClient, profilesTableName);
    const seeded = createRuntime({ role: 'bench-seed-runtime', clock, log, documentClient: captured.client });
    return {
      capture: captured,
      runtime: {
        store: seeded.store,
        journeys: seeded.journeys,
        step: { ...seeded.step, analytics: captured.reader },
      },
    };
  };

  /**
   * The report's latency on the way up (seeding only), in the same run and so under comparable load:
   * does it grow with executions? 10 calls of the all-days report at each checkpoint.
   */
  type Checkpoint = { executions: number; seededItems: number; p50: number; p95: number; load1m: number };
  const reportAt: Checkpoint[] = [];
  const checkpoint = async (count: number, seededItems: number) => {
    const latencies: number[] = [];
    let entered = 0;
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      entered = (await call('GET', `/journeys/${journeyId}/report`)).entered;
      latencies.push(performance.now() - start);
    }
    if (entered !== count) throw new Error(`report at ${count} executions says ${entered} entered`);
    return {
      executions: count,
      seededItems: seededItems,
      p50: round(percentile(latencies, 50), 1),
      p95: round(percentile(latencies, 95), 1),
      load1m: round(loadavg()[0]!, 1),
    };
  };

  const t0 = performance.now();
  let done = 0;
  const progress = setInterval(() => {
    const seconds = (performance.now() - t0) / 1000;
    console.log(`  ${done.toLocaleString('en-US')} executions written, ${round(done / seconds, 0)}/s`);
  }, 30_000);
  let realSeconds = 0;
  /** Step Functions requests of the real executions (the seeded ones ask for the same, not counted). */
  const realSfn = { ...sfn };
  let drift: Awaited<ReturnType<typeof driftCheck>> | undefined;
  let seed:
    | {
        executions: number;
        seconds: number;
        perSecond: number;
        captureSeconds: number;
        itemsWritten: number;
        counterItemUpdates: number;
        capturedWritesPerExecution: Record<string, number>;
        dynamoDbRequests: Record<string, number>;
      }
    | undefined;
  try {
    await pool(realExecutions, concurrency, async (i) => {
      await runOne(runtime, i);
      done++;
    });
    realSeconds = (performance.now() - t0) / 1000;
    Object.assign(realSfn, sfn);
    if (seeding) {
      // Drift: the real executions once more, captured, must give exactly what they wrote.
      const twin = capturing();
      await pool(realExecutions, concurrency, (i) => runOne(twin.runtime, i));
      drift = await driftCheck(createDocumentClient(), twin.capture);
      if (drift.mismatches.length > 0) {
        throw new Error(
          `seeded items differ from the real ones: ${JSON.stringify(drift.mismatches.slice(0, 5))}`,
        );
      }
      // Seeding the rest: captured a chunk at a time, then written in bulk.
      const s0 = performance.now();
      const seeder = capturing();
      let captureMs = 0;
      let itemsWritten = 0;
      let counterItemsAdded = 0;
      let checkpointMs = 0;
      for (let from = realExecutions; from < executions; ) {
        // Chunks end on multiples of seedChunk, so the checkpoints (multiples too) fall between them.
        const to = Math.min(executions, (Math.floor(from / seedChunk) + 1) * seedChunk);
        const c0 = performance.now();
        await pool(to - from, concurrency, async (k) => {
          await runOne(seeder.runtime, from + k);
          done++;
        });
        captureMs += performance.now() - c0;
        itemsWritten += await seeder.capture.flush(seedWriters);
        if (checkpoints.includes(to) && to < executions) {
          counterItemsAdded += await seeder.capture.flushCounters(seedWriters);
          const k0 = performance.now();
          reportAt.push(await checkpoint(to, itemsWritten));
          checkpointMs += performance.now() - k0;
        }
        from = to;
      }
      counterItemsAdded += await seeder.capture.flushCounters(seedWriters);
      const seconds = (performance.now() - s0 - checkpointMs) / 1000;
      const seeded = executions - realExecutions;
      seed = {
        executions: seeded,
        seconds: round(seconds, 0),
        perSecond: round(seeded / seconds, 0),
        captureSeconds: round(captureMs / 1000, 0),
        itemsWritten,
        counterItemUpdates: counterItemsAdded,
        capturedWritesPerExecution: Object.fromEntries(
          Object.entries(seeder.capture.writes).map(([k, v]) => [k, round(v / seeded, 2)]),
        ),
        dynamoDbRequests: { ...(runtimeCalls['bench-seed'] ?? {}) },
      };
    }
  } finally {
    clearInterval(progress);
  }
  const dynamo = { ...(runtimeCalls[role] ?? {}) };
  const dynamoRequests = Object.values(dynamo).reduce((sum, n) => sum + n, 0);
  const sfnRequests = Object.values(realSfn).reduce((sum, n) => sum + n, 0);

  // The counter items the report reads (it never reads the transition records).
  const client = createDocumentClient();
  let counterItems = 0;
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: journeysTableName,
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
    return {
      p50: round(percentile(latencies, 50), 1),
      p95: round(percentile(latencies, 95), 1),
      bytes: Buffer.byteLength(JSON.stringify(last)),
      last,
    };
  };
  const all = await timed(`/journeys/${journeyId}/report`);
  const weekFrom = new Date(firstDay + weekFromDay * day).toISOString().slice(0, 10);
  const weekTo = new Date(firstDay + weekToDay * day).toISOString().slice(0, 10);
  const week = await timed(`/journeys/${journeyId}/report?from=${weekFrom}&to=${weekTo}`);

  // Where a report's time goes, in process: the counters' Query (pages = requests) and buildReport.
  const readRole = 'bench-report-read';
  const reader = dynamoAnalyticsReader(countCalls(createDocumentClient(), readRole, 'DynamoDB'), {
    journeysTableName,
  });
  const inProcess = async (range: { from?: string; to?: string }) => {
    const before = runtimeCalls[readRole]?.['DynamoDB.Query'] ?? 0;
    const read: number[] = [];
    const build: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r0 = performance.now();
      const counters = await reader.readCounters(journeyId, range);
      const b0 = performance.now();
      buildReport(definition, counters, range);
      build.push(performance.now() - b0);
      read.push(b0 - r0);
    }
    return {
      counterQueryPagesPerReport: ((runtimeCalls[readRole]?.['DynamoDB.Query'] ?? 0) - before) / 10,
      readCountersMsP50: round(percentile(read, 50), 1),
      buildReportMsP50: round(percentile(build, 50), 2),
    };
  };
  const allInProcess = await inProcess({});
  const weekInProcess = await inProcess({ from: weekFrom, to: weekTo });

  const experiment = all.last.experiments?.[0];
  const arms = (experiment?.arms ?? []) as { name: string; entered: number; conversions: number }[];
  const paths = (all.last.paths ?? []) as { count: number; conversions: number }[];
  const arm = (name: string) => arms.find((a) => a.name === name);
  const conversions = expected.A.conversions + expected.B.conversions;
  const checks = [
    ['entered', executions, all.last.entered],
    ['sum of arms entered', executions, arms.reduce((sum, a) => sum + a.entered, 0)],
    ['arm A entered', expected.A.entered, arm('A')?.entered],
    ['arm B entered', expected.B.entered, arm('B')?.entered],
    ['goal conversions', conversions, all.last.goal?.conversions],
    ['arm A conversions', expected.A.conversions, arm('A')?.conversions],
    ['arm B conversions', expected.B.conversions, arm('B')?.conversions],
    ['sum of arms conversions', conversions, arms.reduce((sum, a) => sum + a.conversions, 0)],
    ['sum of path counts (every execution ended)', executions, paths.reduce((sum, p) => sum + p.count, 0)],
    ['sum of path conversions', conversions, paths.reduce((sum, p) => sum + p.conversions, 0)],
    ['node ab entered', executions, all.last.nodes?.ab?.entered],
    ['week entered', expected.week, week.last.entered],
  ].map(([name, want, got]) => ({ name: String(name), expected: want, actual: got, ok: want === got }));
  const failed = checks.filter((check) => !check.ok);
  if (failed.length > 0) console.error(`report does not add up: ${JSON.stringify(failed)}`);

  return {
    executions,
    days,
    concurrency,
    mode: seeding ? 'seeded' : 'real',
    written: {
      executions: realExecutions,
      seconds: round(realSeconds, 0),
      perSecond: round(realExecutions / realSeconds, 0),
      dynamoDbRequests: dynamo,
      dynamoDbRequestsPerExecution: round(dynamoRequests / realExecutions, 2),
      stepFunctionsRequests: realSfn,
      requestsPerExecution: round((dynamoRequests + sfnRequests) / realExecutions, 2),
    },
    expected,
    ...(seed && { seeded: seed }),
    ...(drift && { drift }),
    counterItems,
    report: {
      entered: all.last.entered,
      conversions: all.last.goal?.conversions,
      experiment: experiment && {
        arms: arms.map((a) => ({ name: a.name, entered: a.entered, conversions: a.conversions })),
        winner: experiment.winner,
        pValue: experiment.pValue,
      },
      paths: paths.length,
      checks,
      addsUp: failed.length === 0,
    },
    allDaysMs: { p50: all.p50, p95: all.p95, bytes: all.bytes, ...allInProcess },
    ...(reportAt.length > 0 && {
      allDaysOnTheWayUp: [
        ...reportAt,
        {
          executions,
          seededItems: seed?.itemsWritten ?? 0,
          p50: all.p50,
          p95: all.p95,
          load1m: round(loadavg()[0]!, 1),
        },
      ],
    }),
    oneWeekMs: {
      from: weekFrom,
      to: weekTo,
      p50: week.p50,
      p95: week.p95,
      bytes: week.bytes,
      entered: week.last.entered,
      ...weekInProcess,
    },
    failed,
  };
}

/** Items grouped the way the report reads them: counters per day and kind, stats totals, transitions by key. */
function groups(
  counterItems: Iterable<{ pk: string; sk: string; counters: Record<string, unknown> }>,
  transitions: Iterable<Record<string, unknown>>,
) {
  const days = new Map<string, Record<string, unknown>[]>();
  const stats: Record<string, unknown>[] = [];
  for (const { pk, sk, counters } of counterItems) {
    if (pk === `STATS#${journeyId}`) stats.push(counters);
    if (pk !== `AN#${journeyId}`) continue;
    const group = sk.split('#').slice(0, 3).join('#'); // D#<day>#<kind>, over the shards
    days.set(group, [...(days.get(group) ?? []), counters]);
  }
  const out = new Map<string, string>();
  for (const [group, items] of days) out.set(group, canonical(sumCounters(items)));
  out.set('stats', canonical(sumAll(stats)));
  for (const item of transitions) out.set(`TR ${item.pk} ${item.sk}`, canonical(item));
  return out;
}

function sumAll(items: Record<string, unknown>[]) {
  const totals: Record<string, number> = {};
  for (const item of items)
    for (const [k, v] of Object.entries(item)) if (typeof v === 'number') totals[k] = (totals[k] ?? 0) + v;
  return totals;
}

function canonical(value: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));
}

/** The real run's analytics items in DynamoDB against what the capture of the same executions holds. */
async function driftCheck(client: DynamoDBDocumentClient, captured: Capture) {
  const query = (pk: string) =>
    queryAll(client, {
      TableName: journeysTableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
  const realCounters = [...(await query(`AN#${journeyId}`)), ...(await query(`STATS#${journeyId}`))].map(
    (item) => ({ pk: String(item.pk), sk: String(item.sk), counters: item }),
  );
  const realTransitions: Record<string, unknown>[] = [];
  for (let d = 0; d < days + 3; d++) {
    realTransitions.push(
      ...(await query(`TR#${journeyId}#${new Date(firstDay + d * day).toISOString().slice(0, 10)}`)),
    );
  }
  const capturedCounters = [...captured.counters].map(([k, counters]) => {
    const [, pk, sk] = k.split('\u0000') as [string, string, string];
    return { pk, sk, counters };
  });
  const capturedTransitions = [...captured.items()]
    .map(([, item]) => item)
    .filter((item) => String(item.pk).startsWith(`TR#${journeyId}#`));
  const real = groups(realCounters, realTransitions);
  const seeded = groups(capturedCounters, capturedTransitions);
  const mismatches: { key: string; real?: string; seeded?: string }[] = [];
  for (const key of new Set([...real.keys(), ...seeded.keys()])) {
    if (real.get(key) !== seeded.get(key)) {
      mismatches.push({
        key,
        ...(real.has(key) && { real: real.get(key) }),
        ...(seeded.has(key) && { seeded: seeded.get(key) }),
      });
    }
  }
  return {
    dayCounterGroupsCompared: [...real.keys()].filter((k) => k.startsWith('D#')).length,
    transitionRecordsCompared: realTransitions.length,
    statsCompared: true,
    mismatches,
  };
}
