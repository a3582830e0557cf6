/**
 * Ingest benchmark (`npm run bench:ingest`, < 3 min): writes bench/results/ingest.json.
 *
 *  1. cost: DynamoDB requests and consumed WCU/RCU (ReturnConsumedCapacity TOTAL) per tracked event
 *     of a known user in steady state, counted on the SDK client (not timed);
 *  2. throughput: events/s through PutEvents → local bus → SQS-shaped batches → ingest handler →
 *     DynamoDB Local, known users, as fast as the senders can go. The senders are the "product app"
 *     (bench/support/product-app.ts): a worker thread with the real EventBridge client, 10 entries
 *     per PutEvents call, as it would be another process in reality;
 *  3. latency: p50/p99 from PutEvents to profile updated, at half the measured throughput;
 *  4. raw: DynamoDB Local's PutItem/s at the same concurrency, in the same run, so
 *     efficiency = eventsPerSecond / (rawPutItemPerSecond / ddbRequestsPerEvent) (goal ≥ 0.7).
 * Two more baselines tell where time goes: the handler fed SQS batches directly (no PutEvents, no
 * local bus: handlerEventsPerSecond / handlerEfficiency), and the same three DynamoDB requests per
 * event replayed without Cairn (replayEventsPerSecond: DynamoDB Local's own ceiling for this work).
 * cpuMsPerEvent splits each phase's CPU between this process's main thread, its other threads and
 * DynamoDB Local's JVM (/proc): on a 2-core machine the phases are CPU-bound, so efficiency is about
 * CPU(3 raw PutItems) / CPU(one event), and shows which side a change moved.
 * Concurrency: 10 batches in flight (the local bus default = the CDK event source mapping's
 * maxConcurrency) × 10 events per batch (ingest's default) = 100; raw PutItem uses the same 100.
 *
 * Env: BENCH_USERS (200), BENCH_EVENTS (4000), BENCH_COST_EVENTS (200), BENCH_LATENCY_EVENTS (1500),
 * BENCH_WARMUP_EVENTS (6000: sent through PutEvents, and as raw PutItems, before anything is timed;
 * a sixth of it again, untimed, right before the PutEvents and the second raw phase), BENCH_SENDERS (8).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { createIngestHandler } from '../functions/ingest/handler.js';
import { registerFunction } from '../infra/local/functions.js';
import { startLocalStack } from '../infra/local/stack.js';
import { systemClock } from '../shared/clock.js';
import { DynamoDeadLetterStore, parseMessage } from '../shared/events/index.js';
import { randomIds } from '../shared/ids.js';
import { createLogger } from '../shared/log.js';
import { identityPk } from '../shared/profiles/dynamodb.js';
import { DynamoProfileStore, type IngestBatchDeps, ingestMessage } from '../shared/profiles/index.js';
import { busName, ingestRule } from '../shared/routing.js';
import { createDocumentClient } from '../shared/store/dynamodb.js';
import { eventPrefix, profilePk, profileSortKey } from '../shared/store/keys.js';
import { journeysTable, profilesTable, tableName } from '../shared/store/tables.js';
import { type CpuSample, cpuPer, cpuSample } from './support/cpu.js';
import { meterDynamo } from './support/ddb-meter.js';
import { ProductApp, wallNow } from './support/product-app-client.js';
import { percentile, pool, printTable, round } from './support/stats.js';

const users = Number(process.env.BENCH_USERS ?? 200);
const throughputEvents = Number(process.env.BENCH_EVENTS ?? 4000);
const costEvents = Number(process.env.BENCH_COST_EVENTS ?? 200);
const latencyEvents = Number(process.env.BENCH_LATENCY_EVENTS ?? 1500);
const warmupEvents = Number(process.env.BENCH_WARMUP_EVENTS ?? 6000);
const rewarmEvents = Math.ceil(warmupEvents / 6);
/** Local bus: batches in flight per rule (its default) × events in flight per batch (ingest's default). */
const busBatchesInFlight = 10;
const ingestConcurrency = Number(process.env.CAIRN_INGEST_CONCURRENCY ?? ingestRule.batchSize);
const inFlight = busBatchesInFlight * Math.min(ingestConcurrency, ingestRule.batchSize);
const senders = Number(process.env.BENCH_SENDERS ?? 8);

process.env.CAIRN_LOG_LEVEL ??= 'warn';
const started = Date.now();
let stopApp = async () => {};
const stack = await startLocalStack({ memory: true, httpPort: 0, edgePort: 0 });

try {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const direct = dynamoDbLocalEndpoint(stack.dynamoDbPid);
  // The handler talks to DynamoDB Local directly, like the raw PutItem baseline, so the ratio compares
  // Cairn's work with the database's; BENCH_DDB=edge routes it through the local edge proxy instead.
  const ddbEndpoint = process.env.BENCH_DDB !== 'edge' && direct ? direct : stack.edgeUrl;
  const client = createDocumentClient({ endpoint: ddbEndpoint, region: 'us-east-1', credentials });
  const meter = meterDynamo(client);
  const log = createLogger({ fn: 'ingest' });

  // The real handler, with a reactor that records when each event's profile update is done.
  const done = new Map<string, number>();
  let waiting: { pending: Set<string>; resolve: () => void } | undefined;
  const deps: IngestBatchDeps = {
    ingest: {
      store: new DynamoProfileStore({
        client,
        tableName: tableName(profilesTable, process.env),
        clock: systemClock,
      }),
      clock: systemClock,
      ids: randomIds,
      log,
    },
    parse: { clock: systemClock, ids: randomIds },
    reactor: {
      onEvent: async ({ event }) => {
        done.set(event.messageId, wallNow());
        if (waiting?.pending.delete(event.messageId) && waiting.pending.size === 0) waiting.resolve();
      },
    },
    deadLetters: new DynamoDeadLetterStore({
      client,
      tableName: tableName(journeysTable, process.env),
      clock: systemClock,
    }),
    log,
    concurrency: ingestConcurrency,
  };
  const handler = createIngestHandler(deps);
  registerFunction('cairn-ingest', (event: SQSEvent, context) => handler(event, context));

  // The product app: a worker thread sending PutEvents with the real EventBridge client.
  const app = new ProductApp({ edgeUrl: stack.edgeUrl, busName });
  stopApp = () => app.stop();
  const userIds = Array.from({ length: users }, (_, i) => `bench-user-${i}-${randomUUID().slice(0, 8)}`);
  const sent = new Map<string, number>();

  const track = (i: number) => ({
    type: 'track',
    messageId: `bench-${randomUUID()}`,
    userId: userIds[i % users],
    event: 'Product Viewed',
    properties: { sku: `sku-${i % 97}`, price: 19.99, currency: 'EUR', category: 'shoes' },
    context: { library: { name: 'bench', version: '1' } },
    timestamp: new Date().toISOString(),
  });
  /** Sends through the product app and resolves once every message's profile update is done. */
  const sendAndWait = async (
    messages: Record<string, unknown>[],
    mode: { mode: 'burst'; senders: number } | { mode: 'paced'; intervalMs: number },
  ) => {
    const ids = messages.map((m) => String(m.messageId));
    const all = new Promise<void>((resolve) => {
      waiting = { pending: new Set(ids.filter((id) => !done.has(id))), resolve };
    });
    const sentAt = await app.run(messages, mode);
    for (const [i, id] of ids.entries()) sent.set(id, sentAt[i]!);
    if (waiting?.pending.size) await all;
    waiting = undefined;
  };

  // Seed: every user identified once, so all later events are of known users.
  const seed = userIds.map((userId) => ({
    type: 'identify',
    messageId: `seed-${randomUUID()}`,
    userId,
    traits: { email: `${userId}@example.com`, plan: 'pro' },
  }));
  await sendAndWait(seed, { mode: 'burst', senders });

  // 1. Cost per event, counted on the SDK client.
  const costClient = createDocumentClient({ endpoint: stack.edgeUrl, region: 'us-east-1', credentials });
  const costMeter = meterDynamo(costClient);
  const costStore = new DynamoProfileStore({
    client: costClient,
    tableName: tableName(profilesTable, process.env),
    clock: systemClock,
    returnConsumedCapacity: 'TOTAL',
  });
  for (let i = 0; i < 20; i++) {
    await ingestMessage(parseMessage(track(i), { clock: systemClock, ids: randomIds }), {
      ...deps.ingest,
      store: costStore,
    });
  }
  costMeter.reset();
  for (let i = 0; i < costEvents; i++) {
    await ingestMessage(parseMessage(track(i), { clock: systemClock, ids: randomIds }), {
      ...deps.ingest,
      store: costStore,
    });
  }
  const cost = costMeter.snapshot();
  const awsModel = await awsCapacityModel(costClient, userIds[0]!);

  // Raw PutItem on DynamoDB Local at the same concurrency (and at 16), measured before and after the
  // ingest phases (the machine's load drifts; the table grows) and averaged.
  // The client is made as the handler's is (createDocumentClient, same endpoint and config).
  const rawAt = async (endpoint: string, concurrency: number, count: number) => {
    const raw = createDocumentClient({ endpoint, region: 'us-east-1', credentials });
    const item = {
      pk: '',
      sk: 'E#2026-01-01T00:00:00.000Z#x',
      message: JSON.stringify(track(0)),
      expiresAt: 9999999999,
    };
    const r0 = performance.now();
    await pool(count, concurrency, async (i) => {
      await raw.send(
        new PutCommand({
          TableName: tableName(profilesTable, process.env),
          Item: { ...item, pk: `RAW#${i % 1000}`, sk: `E#${i}` },
        }),
      );
    });
    raw.destroy();
    return count / ((performance.now() - r0) / 1000);
  };
  const rawCount = Math.max(2000, throughputEvents);
  // Warm-up, untimed: both JITs (DynamoDB Local's JVM, this process's V8) on every path measured, so
  // what follows is steady state and not the order of the phases.
  await sendAndWait(
    Array.from({ length: warmupEvents }, (_, i) => track(i)),
    { mode: 'burst', senders },
  );
  await rawAt(direct ?? stack.edgeUrl, inFlight, warmupEvents);
  const rc0 = cpuSample(stack.dynamoDbPid);
  const rawBefore = await rawAt(direct ?? stack.edgeUrl, inFlight, rawCount);
  const rawCpu = cpuPer(rc0, cpuSample(stack.dynamoDbPid), rawCount / 3);

  // 2. Throughput: all events as fast as the senders can put them. Each timed phase follows an
  // untimed run of its own kind: DynamoDB Local's JVM pays for switching from one workload to another
  // (JIT, GC) in the first seconds after, which would otherwise be charged to whichever phase comes next.
  await sendAndWait(
    Array.from({ length: rewarmEvents }, (_, i) => track(i)),
    { mode: 'burst', senders },
  );
  meter.reset();
  const burst = Array.from({ length: throughputEvents }, (_, i) => track(i));
  const c0 = cpuSample(stack.dynamoDbPid);
  const t0 = performance.now();
  await sendAndWait(burst, { mode: 'burst', senders });
  const burstCpu = cpuPer(c0, cpuSample(stack.dynamoDbPid), throughputEvents);
  const throughputSeconds = (performance.now() - t0) / 1000;
  const eventsPerSecond = throughputEvents / throughputSeconds;
  const burstRequests = meter.snapshot();
  const burstLatencies = burst.map((m) => done.get(String(m.messageId))! - sent.get(String(m.messageId))!);

  // 2b. The same events handed to the handler directly as SQS batches (no PutEvents, no local bus),
  // as many batches in flight as the local bus runs: separates ingest's cost from the local stack's.
  const direct2 = Array.from({ length: throughputEvents }, (_, i) => track(i));
  const batches = Math.ceil(direct2.length / ingestRule.batchSize);
  const hc0 = cpuSample(stack.dynamoDbPid);
  const h0 = performance.now();
  await pool(batches, busBatchesInFlight, async (b) => {
    const slice = direct2.slice(b * ingestRule.batchSize, (b + 1) * ingestRule.batchSize);
    const event = {
      Records: slice.map((m) => ({
        messageId: randomUUID(),
        body: JSON.stringify({
          version: '0',
          id: randomUUID(),
          'detail-type': m.type,
          source: 'bench',
          detail: m,
        }),
      })),
    } as SQSEvent;
    const out = await handler(event, {} as Context);
    if (out.batchItemFailures.length > 0) throw new Error('handler reported failures');
  });
  const handlerCpu = cpuPer(hc0, cpuSample(stack.dynamoDbPid), throughputEvents);
  const handlerEventsPerSecond = throughputEvents / ((performance.now() - h0) / 1000);

  // 3. Latency at half that rate (10 events per PutEvents, evenly spaced).
  const paced = Array.from({ length: latencyEvents }, (_, i) => track(i));
  const intervalMs = (10 / (eventsPerSecond / 2)) * 1000;
  await sendAndWait(paced, { mode: 'paced', intervalMs });
  const latencies = paced.map((m) => done.get(String(m.messageId))! - sent.get(String(m.messageId))!);

  // 4. Raw PutItem again, after.
  await rawAt(direct ?? stack.edgeUrl, inFlight, rewarmEvents);
  const rawAfter = await rawAt(direct ?? stack.edgeUrl, inFlight, rawCount);
  const rawPutItemPerSecond = (rawBefore + rawAfter) / 2;
  const rawPutItemPerSecondAt16 = await rawAt(direct ?? stack.edgeUrl, 16, rawCount);
  const rawViaEdgePerSecond = await rawAt(stack.edgeUrl, inFlight, rawCount);
  // The same three requests per event (identity GetItem, profile Query, a 3-item transaction with
  // the same item sizes and conditions) replayed without Cairn around them: what DynamoDB Local
  // alone allows, so eventsPerSecond / this is the share Cairn's own work leaves.
  const pc0 = cpuSample(stack.dynamoDbPid);
  const replayEventsPerSecond = await replaySameRequests(
    direct ?? stack.edgeUrl,
    inFlight,
    rawCount,
    awsModel.items,
  );

  const replayCpu = cpuPer(pc0, cpuSample(stack.dynamoDbPid), rawCount);
  const ddbRequestsPerEvent = cost.requests / costEvents;
  const efficiency = eventsPerSecond / (rawPutItemPerSecond / ddbRequestsPerEvent);
  const results = {
    generatedAt: new Date().toISOString(),
    path: 'PutEvents → local EventBridge → SQS-shaped batches → functions/ingest handler → DynamoDB Local',
    ingestDynamoEndpoint: ddbEndpoint === stack.edgeUrl ? 'edge proxy' : 'DynamoDB Local (direct)',
    users,
    ddbRequestsPerEvent: round(ddbRequestsPerEvent, 3),
    requestsByCommand: Object.fromEntries(
      Object.entries(cost.byCommand).map(([k, v]) => [k, round(v / costEvents, 3)]),
    ),
    wcuPerEvent: round(cost.wcu / costEvents, 3),
    rcuPerEvent: round(cost.rcu / costEvents, 3),
    capacityNote:
      'wcu/rcuPerEvent are what DynamoDB Local reports (it counts a transaction as 2 WCU whatever its size); ' +
      'awsModel applies AWS pricing rules to the sizes of the items actually written and read',
    awsModel: {
      wcuPerEvent: awsModel.wcuPerEvent,
      rcuPerEvent: awsModel.rcuPerEvent,
      itemBytes: awsModel.itemBytes,
    },
    eventsPerSecond: round(eventsPerSecond, 1),
    throughputEvents,
    ddbRequestsPerEventUnderLoad: round(burstRequests.requests / throughputEvents, 3),
    concurrency: { inFlight, busBatchesInFlight, ingestConcurrency, senders },
    rawPutItemPerSecond: round(rawPutItemPerSecond, 1),
    rawPutItemPerSecondBeforeAfter: [round(rawBefore, 1), round(rawAfter, 1)],
    rawPutItemPerSecondAt16: round(rawPutItemPerSecondAt16, 1),
    rawPutItemViaEdgePerSecond: round(rawViaEdgePerSecond, 1),
    rawEndpoint: direct ? 'DynamoDB Local (direct)' : 'edge proxy (DynamoDB Local port not found)',
    efficiency: round(efficiency, 3),
    handlerEventsPerSecond: round(handlerEventsPerSecond, 1),
    handlerEfficiency: round(handlerEventsPerSecond / (rawPutItemPerSecond / ddbRequestsPerEvent), 3),
    replayEventsPerSecond: round(replayEventsPerSecond, 1),
    efficiencyVsSameRequests: round(eventsPerSecond / replayEventsPerSecond, 3),
    efficiencyVsBestRaw: round(
      eventsPerSecond / (Math.max(rawPutItemPerSecond, rawPutItemPerSecondAt16) / ddbRequestsPerEvent),
      3,
    ),
    cpuMsPerEvent: {
      note: "CPU ms per event: this process's main thread, its other threads (product app worker, GC), DynamoDB Local",
      putEvents: burstCpu,
      handlerDirectly: handlerCpu,
      sameRequestsReplayed: replayCpu,
      threeRawPutItems: rawCpu,
    },
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    latencyRatePerSecond: round(eventsPerSecond / 2, 1),
    saturatedP50Ms: round(percentile(burstLatencies, 50), 1),
    saturatedP99Ms: round(percentile(burstLatencies, 99), 1),
    wallSeconds: round((Date.now() - started) / 1000, 1),
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/ingest.json', `${JSON.stringify(results, null, 2)}\n`);
  printTable('Ingest benchmark (bench/results/ingest.json)', [
    ['DynamoDB requests / event', results.ddbRequestsPerEvent],
    ['  by command', JSON.stringify(results.requestsByCommand)],
    ['WCU / event', results.wcuPerEvent],
    ['RCU / event', results.rcuPerEvent],
    ['WCU / RCU per event, AWS pricing', `${awsModel.wcuPerEvent} / ${awsModel.rcuPerEvent}`],
    ['events/s (PutEvents → ingest)', results.eventsPerSecond],
    [`raw PutItem/s (${inFlight} in flight)`, results.rawPutItemPerSecond],
    ['raw PutItem/s (16 in flight)', results.rawPutItemPerSecondAt16],
    ['raw PutItem/s via edge', results.rawPutItemViaEdgePerSecond],
    ['efficiency (goal ≥ 0.7)', results.efficiency],
    ['efficiency vs best raw', results.efficiencyVsBestRaw],
    ['events/s, handler called directly', results.handlerEventsPerSecond],
    ['efficiency, handler directly', results.handlerEfficiency],
    ['same 3 requests replayed, events/s', results.replayEventsPerSecond],
    ['events/s ÷ replayed', results.efficiencyVsSameRequests],
    ['CPU ms/event, PutEvents path: main/other threads/JVM', cpuRow(burstCpu)],
    ['CPU ms/event, handler directly', cpuRow(handlerCpu)],
    ['CPU ms/event, same requests replayed', cpuRow(replayCpu)],
    ['CPU ms per 3 raw PutItems', cpuRow(rawCpu)],
    [`p50 ms (at ${results.latencyRatePerSecond}/s)`, results.p50Ms],
    ['p99 ms', results.p99Ms],
    ['p50 / p99 ms saturated', `${results.saturatedP50Ms} / ${results.saturatedP99Ms}`],
    ['wall s', results.wallSeconds],
  ]);
} finally {
  await stopApp();
  await stack.stop();
}

async function replaySameRequests(
  endpoint: string,
  concurrency: number,
  count: number,
  items: Record<'identity' | 'profile' | 'event' | 'dedupe', Record<string, unknown>>,
): Promise<number> {
  const client = createDocumentClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const table = tableName(profilesTable, process.env);
  const run = randomUUID().slice(0, 8);
  const users = 200;
  for (let u = 0; u < users; u++) {
    await client.send(
      new PutCommand({ TableName: table, Item: { ...items.identity, pk: `I#replay#${run}-${u}` } }),
    );
    await client.send(
      new PutCommand({
        TableName: table,
        Item: { ...items.profile, pk: profilePk(`replay-${run}-${u}`), version: 0 },
      }),
    );
  }
  const versions = new Array<number>(users).fill(0);
  const r0 = performance.now();
  await pool(count, concurrency, async (i) => {
    const u = i % users;
    await client.send(
      new GetCommand({ TableName: table, Key: { pk: `I#replay#${run}-${u}`, sk: 'IDENTITY' } }),
    );
    await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND sk >= :sk',
        ExpressionAttributeValues: { ':pk': profilePk(`replay-${run}-${u}`), ':sk': profileSortKey },
      }),
    );
    const version = versions[u]!;
    versions[u] = version + 1;
    await client
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: { ...items.dedupe, pk: `M#replay-${run}-${i}` },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table,
                Item: { ...items.event, pk: profilePk(`replay-${run}-${u}`), sk: `E#${i}` },
              },
            },
            {
              Put: {
                TableName: table,
                Item: { ...items.profile, pk: profilePk(`replay-${run}-${u}`), version: version + 1 },
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: { ':v': version },
              },
            },
          ],
        }),
      )
      .catch(() => undefined); // a lost race on the replayed version costs the same and is not Cairn's concern here
  });
  client.destroy();
  return count / ((performance.now() - r0) / 1000);
}

/**
 * WCU/RCU of one steady-state event under AWS pricing, from the sizes of the items involved:
 * transactional writes cost 2 WCU per started KB of each item; reads 1 RCU per started 4 KB, half
 * that eventually consistent (GetItem of the identity: eventual; Query of the profile: strong).
 */
async function awsCapacityModel(client: ReturnType<typeof createDocumentClient>, userId: string) {
  const table = tableName(profilesTable, process.env);
  const identity = (
    await client.send(
      new GetCommand({
        TableName: table,
        Key: { pk: identityPk({ type: 'userId', value: userId }), sk: 'IDENTITY' },
      }),
    )
  ).Item!;
  const profileId = String(identity.profileId);
  const profile = (
    await client.send(
      new GetCommand({ TableName: table, Key: { pk: profilePk(profileId), sk: profileSortKey } }),
    )
  ).Item!;
  const events = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
      ExpressionAttributeValues: { ':pk': profilePk(profileId), ':e': eventPrefix },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const event = events.Items![0]!;
  // The event names its dedupe record (the key is scoped to the sender: events/fingerprint.ts).
  const dedupe = (
    await client.send(new GetCommand({ TableName: table, Key: { pk: String(event.dedupe), sk: 'MESSAGE' } }))
  ).Item!;
  const kb = (item: Record<string, unknown>) => Math.ceil(itemBytes(item) / 1024);
  const wcuPerEvent = 2 * (kb(dedupe) + kb(event) + kb(profile));
  const rcuPerEvent = 0.5 * Math.ceil(itemBytes(identity) / 4096) + Math.ceil(itemBytes(profile) / 4096);
  return {
    wcuPerEvent,
    rcuPerEvent,
    items: { identity, profile, event, dedupe },
    itemBytes: {
      identity: itemBytes(identity),
      profile: itemBytes(profile),
      event: itemBytes(event),
      dedupe: itemBytes(dedupe),
    },
  };
}

/** DynamoDB item size: attribute names plus values (strings in UTF-8, numbers about 1 byte per 2 digits). */
function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    bytes +=
      typeof value === 'number' ? Math.ceil(String(value).length / 2) + 1 : Buffer.byteLength(String(value));
  }
  return bytes;
}

function cpuRow(cpu: CpuSample): string {
  return `${cpu.mainThread} / ${cpu.otherThreads} / ${cpu.other}`;
}

/** DynamoDB Local's own port, from its JVM command line (`-port N`), to measure it without the edge. */
function dynamoDbLocalEndpoint(pid: number | undefined): string | undefined {
  if (!pid) return undefined;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const port = args[args.indexOf('-port') + 1];
    return args.includes('-port') && port ? `http://127.0.0.1:${port}` : undefined;
  } catch {
    return undefined;
  }
}
