/**
 * Broadcasts benchmark (`npm run bench:broadcasts`): writes bench/results/broadcasts.json.
 * A segment of BENCH_BROADCAST_MEMBERS (10,000) members, a published journey, one broadcast "now" at
 * BENCH_BROADCAST_RATE (200, the default rate) entries per virtual second on the local stack (memory).
 * The virtual clock is advanced a second at a time, so the rate is honoured as on AWS; the time
 * measured is the real time from the run start to all entered (what the one-process stack can do),
 * the CPU each entry costs (this process's main thread, DynamoDB Local's JVM: on a shared machine the
 * CPU figures are the stable ones), and the AWS requests per entered customer made by the broadcast
 * Lambda (DynamoDB, SQS, StartExecution).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { runtimeCalls } from '../functions/runtime/runtime.js';
import { DynamoSegmentStore } from '../shared/segments/index.js';
import type { Segment } from '../shared/segments/schema.js';
import { createDocumentClient } from '../shared/store/dynamodb.js';
import { journeysTable, profilesTable } from '../shared/store/tables.js';
import { startBenchStack } from './support/bench-stack.js';
import { cpuPer, cpuSample } from './support/cpu.js';
import { pool, printTable, round } from './support/stats.js';

const members = Number(process.env.BENCH_BROADCAST_MEMBERS ?? 10_000);
const rate = Number(process.env.BENCH_BROADCAST_RATE ?? 200);
process.env.CAIRN_LOG_LEVEL ??= 'warn';

// Time moves only when the benchmark advances it: one slot's second at a time, as on AWS.
const { stack, call } = await startBenchStack();

try {
  const journeyId = 'bench-broadcast';
  await call(
    'PUT',
    `/journeys/${journeyId}`,
    `id: ${journeyId}\nname: Bench broadcast\ntrigger: { event: "Never" }\nreentry: always\nstart: wait\nnodes:\n  wait: { type: wait, for: P1D, next: done }\n  done: { type: exit }\n`,
    'application/yaml',
  );
  await call('POST', `/journeys/${journeyId}/publish`);

  const segments = new DynamoSegmentStore({
    client: createDocumentClient(),
    profilesTable: profilesTable.defaultName,
    journeysTable: journeysTable.defaultName,
  });
  const now = new Date().toISOString();
  await segments.saveSegment({
    id: 'bench',
    definition: {} as Segment,
    status: 'ready',
    revision: 1,
    createdAt: now,
    updatedAt: now,
  });
  const setupStarted = performance.now();
  await pool(members, 16, async (i) => {
    await segments.enter('bench', `bench-${String(i).padStart(6, '0')}`, now);
  });
  const setupSeconds = (performance.now() - setupStarted) / 1000;

  for (const key of Object.keys(runtimeCalls.broadcast ?? {})) delete runtimeCalls.broadcast![key];
  const created = await call('POST', `/journeys/${journeyId}/broadcasts`, {
    segment: 'bench',
    ratePerSecond: rate,
  });
  const started = performance.now();
  const cpuBefore = cpuSample(stack.dynamoDbPid);
  let view: Record<string, unknown> = {};
  let virtualSeconds = 0;
  do {
    await stack.clock.advance(1000);
    virtualSeconds++;
    view = await call('GET', `/broadcasts/${created.broadcastId}`);
    if (process.env.BENCH_DEBUG)
      console.log(virtualSeconds, view.status, view.entered, JSON.stringify(view.runs));
  } while (view.status !== 'done' && virtualSeconds < members / rate + 120);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuPer(cpuBefore, cpuSample(stack.dynamoDbPid), Math.max(1, Number(view.entered)));
  const calls = { ...(runtimeCalls.broadcast ?? {}) };
  const entered = Number(view.entered);
  const perEntry = Object.fromEntries(
    Object.entries(calls).map(([name, n]) => [name, round(n / Math.max(1, entered), 3)]),
  );
  const result = {
    members,
    ratePerSecond: rate,
    entered,
    status: view.status,
    virtualSeconds,
    realSeconds: round(seconds, 1),
    entriesPerSecond: round(entered / seconds, 1),
    setupSeconds: round(setupSeconds, 1),
    cpuMsPerEntry: { node: cpu.mainThread, nodeOtherThreads: cpu.otherThreads, dynamoDbLocal: cpu.other },
    loadAverage: loadavg().map((n) => round(n, 1)),
    requestsPerEntry: perEntry,
    requestsTotal: calls,
  };
  printTable('broadcast to a segment (local stack, memory)', [
    ['members', members],
    ['rate (virtual /s)', rate],
    ['entered', entered],
    ['virtual seconds', virtualSeconds],
    ['real seconds, run start → all entered', result.realSeconds],
    ['entries per real second', result.entriesPerSecond],
    ['CPU ms per entry: Node main thread', cpu.mainThread],
    ['CPU ms per entry: DynamoDB Local', cpu.other],
    ...Object.entries(perEntry).map(([name, n]) => [`${name} per entry`, n] as [string, number]),
  ]);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/broadcasts.json', `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await stack.stop();
}
