/**
 * Segments benchmark (`npm run bench:segments`): writes bench/results/segments.json. On the local
 * stack (memory, virtual time moved only by the bench):
 *  1. DynamoDB requests the segments hook of ingest makes per ingested event, with 20 segments
 *     defined: an event no segment reads, an event some read whose memberships stay, and a trait
 *     change that moves the customer in or out of one segment (counted by the hook's own client).
 *  2. The backfill of a new segment over BENCH_SEGMENT_PROFILES (default 100,000) existing profiles
 *     (written straight into the table): seconds and profiles/s, from PUT until `status: ready`.
 *  3. Event → first step of a journey triggered by the segment entry it causes (`trigger: { segment }`,
 *     first node a webhook to a local server): p50/p99 over BENCH_SEGMENT_ENTRIES (default 100).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { runtimeCalls } from '../functions/runtime/runtime.js';
import { profileItem } from '../shared/profiles/dynamodb.js';
import { newProfileRecord } from '../shared/profiles/model.js';
import { createDocumentClient } from '../shared/store/dynamodb.js';
import { profilesTable } from '../shared/store/tables.js';
import { startBenchStack } from './support/bench-stack.js';
import { percentile, pool, printTable, round } from './support/stats.js';

const profiles = Number(process.env.BENCH_SEGMENT_PROFILES ?? 100_000);
const entries = Number(process.env.BENCH_SEGMENT_ENTRIES ?? 100);
const eventsPerCase = 100;
process.env.CAIRN_LOG_LEVEL ??= 'warn';

const { stack, call } = await startBenchStack();
const idle = () => call('GET', '/local/idle');

/** The segments hook's DynamoDB requests (reads, writes) per event over `count` events sent by `send`. */
async function requestsPerEvent(count: number, send: (i: number) => Promise<unknown>) {
  await idle();
  const before = { ...(runtimeCalls.segments ?? {}) };
  for (let i = 0; i < count; i++) {
    await send(i);
    await idle();
  }
  const after = runtimeCalls.segments ?? {};
  const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
  const reads = delta('DynamoDB.Query') + delta('DynamoDB.GetItem');
  const writes = ['TransactWriteItems', 'UpdateItem', 'PutItem', 'DeleteItem', 'BatchWriteItem']
    .map((command) => delta(`DynamoDB.${command}`))
    .reduce((a, b) => a + b, 0);
  return { readsPerEvent: round(reads / count, 3), writesPerEvent: round(writes / count, 3) };
}

try {
  // 1. Twenty segments: on traits, on counted events, on an event in a window.
  for (let i = 0; i < 20; i++) {
    const where =
      i < 10
        ? { traits: { tier: [`t${i}`] } }
        : i < 15
          ? { performed: { event: 'Bench Order', count: { '>=': 1000 + i } } }
          : { performed: { event: 'Bench View', within: 'P7D', count: { '>=': 1000 + i } } };
    await call('PUT', `/segments/bench-${i}`, { id: `bench-${i}`, name: `Bench ${i}`, where });
  }
  await idle();
  const userId = 'bench-user';
  await call('POST', '/v1/identify', { userId, traits: { tier: 'none' } });
  const unread = await requestsPerEvent(eventsPerCase, () =>
    call('POST', '/v1/track', { userId, event: 'Bench Noise' }),
  );
  const unchanged = await requestsPerEvent(eventsPerCase, (i) =>
    call('POST', '/v1/track', { userId, event: i % 2 ? 'Bench Order' : 'Bench View' }),
  );
  const changed = await requestsPerEvent(eventsPerCase, (i) =>
    call('POST', '/v1/identify', { userId, traits: { tier: i % 2 ? 'none' : 't0' } }),
  );

  // 2. Backfill over existing profiles, 10% of which match.
  const client = createDocumentClient();
  const now = new Date().toISOString();
  const started = Date.now();
  await pool(Math.ceil(profiles / 25), 8, async (batch) => {
    const items = Array.from({ length: Math.min(25, profiles - batch * 25) }, (_, j) => {
      const n = batch * 25 + j;
      const profile = {
        ...newProfileRecord(`bench-p-${String(n).padStart(7, '0')}`, now),
        traits: { country: n % 10 === 0 ? 'FR' : 'DE' },
        version: 1,
      };
      return { PutRequest: { Item: profileItem(profile) } };
    });
    let pending: typeof items = items;
    while (pending.length > 0) {
      const out = await client.send(
        new BatchWriteCommand({ RequestItems: { [profilesTable.defaultName]: pending } }),
      );
      pending = (out.UnprocessedItems?.[profilesTable.defaultName] ?? []) as typeof items;
    }
  });
  const writtenSeconds = (Date.now() - started) / 1000;
  const backfillStart = Date.now();
  await call('PUT', '/segments/bench-fr', {
    id: 'bench-fr',
    name: 'Bench FR',
    where: { traits: { country: ['FR'] } },
  });
  let segment: Record<string, unknown> = {};
  // Polled (a long backfill outlasts one /local/idle wait).
  for (;;) {
    segment = await call('GET', '/segments/bench-fr');
    if (segment.status === 'ready') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const backfillSeconds = (Date.now() - backfillStart) / 1000;

  // 3. Event → segment entry → the triggered journey's first step (a webhook to this process).
  // Entries are sent one at a time: the i-th call of the webhook is the i-th entry's first step.
  const arrived: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrived.push(Date.now());
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  await call('PUT', '/segments/bench-entry', {
    id: 'bench-entry',
    name: 'Bench entry',
    where: { traits: { entered: [true] } },
  });
  await idle();
  await call('PUT', '/journeys/bench-segment-entry', {
    id: 'bench-segment-entry',
    name: 'Bench segment entry',
    trigger: { segment: 'bench-entry' },
    start: 'hook',
    nodes: {
      hook: { type: 'webhook', url: hook, next: 'done' },
      done: { type: 'exit' },
    },
  });
  await call('POST', '/journeys/bench-segment-entry/publish');
  const latencies: number[] = [];
  for (let i = 0; i < entries; i++) {
    const user = `bench-entry-${i}`;
    const sent = Date.now();
    await call('POST', '/v1/identify', { userId: user, traits: { entered: true } });
    while (arrived.length <= i) {
      if (Date.now() - sent > 10_000) throw new Error(`entry ${user} never reached the first step`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    latencies.push(arrived[i]! - sent);
  }
  server.close();

  const result = {
    segmentsDefined: 20,
    requestsPerEvent: {
      eventNoSegmentReads: unread,
      readByFiveMembershipUnchanged: unchanged,
      membershipChangedOneSegment: changed,
    },
    backfill: {
      profiles,
      matching: Math.ceil(profiles / 10),
      count: segment.count,
      seconds: round(backfillSeconds, 1),
      profilesPerSecond: Math.round(profiles / backfillSeconds),
      extrapolated100kSeconds: round((backfillSeconds * 100_000) / profiles, 0),
      profilesWrittenInSeconds: round(writtenSeconds, 1),
    },
    entryToFirstStep: {
      entries,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/segments.json', `${JSON.stringify(result, null, 2)}\n`);
  const requestRows = Object.entries(result.requestsPerEvent).flatMap(([name, r]) => [
    [`${name}: reads/event`, r.readsPerEvent] as [string, number],
    [`${name}: writes/event`, r.writesPerEvent] as [string, number],
  ]);
  printTable('Segments (local stack, 20 segments defined)', [
    ...requestRows,
    [`backfill of ${profiles} profiles, s`, result.backfill.seconds],
    ['backfill profiles/s', result.backfill.profilesPerSecond],
    ['backfill 100k, s (extrapolated)', result.backfill.extrapolated100kSeconds],
    ['event → segment journey step p50 ms', result.entryToFirstStep.p50Ms],
    ['event → segment journey step p99 ms', result.entryToFirstStep.p99Ms],
  ]);
} finally {
  await stack.stop();
}
