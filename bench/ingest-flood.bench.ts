/**
 * Head-of-line blocking benchmark (`npm run bench:ingest-flood`, < 1 min): writes
 * bench/results/ingest-flood.json.
 *
 * One busy customer must not delay everyone else. A product app floods the Cairn bus with
 * BENCH_FLOOD_EVENTS (1000) events for one user (10 per PutEvents call, BENCH_FLOOD_SENDERS (4) calls
 * in flight); while it does, BENCH_OTHER_USERS (20) other users each send one event, one every
 * BENCH_OTHER_INTERVAL_MS (50) ms. Measured through the whole local path (PutEvents → local bus →
 * SQS-shaped batches → the real ingest handler with the journeys reactor → DynamoDB Local): for each
 * event, the time from its PutEvents call until the ingest invocation that held it returned (that is
 * when SQS would delete it and the poller takes the next batch). Reported: the other users' p50, p99
 * and max, and the flood's own duration.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { registerFunction, resolveFunction } from '../infra/local/functions.js';
import { startLocalStack } from '../infra/local/stack.js';
import { busEntry } from '../shared/http/ingestion.js';
import { busName, putEventsLimits } from '../shared/routing.js';
import { percentile, pool, printTable, round } from './support/stats.js';

const floodEvents = Number(process.env.BENCH_FLOOD_EVENTS ?? 1000);
const floodSenders = Number(process.env.BENCH_FLOOD_SENDERS ?? 4);
const otherUsers = Number(process.env.BENCH_OTHER_USERS ?? 20);
const otherIntervalMs = Number(process.env.BENCH_OTHER_INTERVAL_MS ?? 50);

process.env.CAIRN_LOG_LEVEL ??= 'warn';
const stack = await startLocalStack({ memory: true, httpPort: 0, edgePort: 0 });
const client = new EventBridgeClient({
  endpoint: stack.edgeUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

try {
  // The real handler, wrapped to see when the invocation holding each event returns.
  const real = await resolveFunction('cairn-ingest');
  const doneAt = new Map<string, number>();
  registerFunction('cairn-ingest', async (event: { Records: { body: string }[] }, context) => {
    const result = await real(event, context);
    const end = performance.now();
    for (const record of event.Records) {
      const id = (JSON.parse(record.body) as { detail?: { messageId?: string } }).detail?.messageId;
      if (id) doneAt.set(id, end);
    }
    return result;
  });

  const sentAt = new Map<string, number>();
  const put = async (messages: Record<string, unknown>[]) => {
    const before = performance.now();
    await client.send(
      new PutEventsCommand({
        Entries: messages.map((m) => ({ EventBusName: busName, ...busEntry(m, 'bench') })),
      }),
    );
    for (const m of messages) sentAt.set(String(m.messageId), before);
  };
  const track = (userId: string, i: number) => ({
    type: 'track',
    messageId: `flood-${randomUUID()}`,
    userId,
    event: 'Product Viewed',
    properties: { sku: `sku-${i % 97}`, price: 19.99 },
    timestamp: new Date().toISOString(),
  });

  // Warm-up: every user known (identify once), handler and JIT warm.
  const flooder = `flooder-${randomUUID().slice(0, 8)}`;
  const others = Array.from({ length: otherUsers }, (_, i) => `other-${i}-${randomUUID().slice(0, 8)}`);
  for (const userId of [flooder, ...others]) {
    await put([{ type: 'identify', messageId: `seed-${randomUUID()}`, userId, traits: { plan: 'free' } }]);
  }
  await stack.settle();
  sentAt.clear();
  doneAt.clear();

  const flood = Array.from({ length: floodEvents }, (_, i) => track(flooder, i));
  const otherMessages = others.map((userId, i) => track(userId, i));
  const started = performance.now();
  const perCall = putEventsLimits.entries;
  const sending = pool(Math.ceil(floodEvents / perCall), floodSenders, (call) =>
    put(flood.slice(call * perCall, (call + 1) * perCall)),
  );
  for (const message of otherMessages) {
    await new Promise((resolve) => setTimeout(resolve, otherIntervalMs));
    await put([message]);
  }
  await sending;
  await stack.settle();
  const floodDoneAt = Math.max(...flood.map((m) => doneAt.get(m.messageId) ?? Number.NaN));

  const latency = (ids: string[]) =>
    ids.map((id) => (doneAt.get(id) ?? Number.NaN) - (sentAt.get(id) ?? Number.NaN));
  const otherLatency = latency(otherMessages.map((m) => m.messageId));
  const results = {
    floodEvents,
    otherUsers,
    otherP50Ms: round(percentile(otherLatency, 50), 1),
    otherP99Ms: round(percentile(otherLatency, 99), 1),
    otherMaxMs: round(Math.max(...otherLatency), 1),
    floodSeconds: round((floodDoneAt - started) / 1000, 2),
    floodEventsPerSecond: round(floodEvents / ((floodDoneAt - started) / 1000), 1),
    missing: otherLatency.filter((ms) => Number.isNaN(ms)).length,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/ingest-flood.json', `${JSON.stringify(results, null, 2)}\n`);
  printTable('Ingest flood benchmark (bench/results/ingest-flood.json)', [
    ['flood: events for one user', floodEvents],
    ['other users, one event each', otherUsers],
    ["other users' p50 ms", results.otherP50Ms],
    ["other users' p99 ms", results.otherP99Ms],
    ["other users' max ms", results.otherMaxMs],
    ['flood done after s', results.floodSeconds],
    ['flood events/s', results.floodEventsPerSecond],
  ]);
} finally {
  client.destroy();
  await stack.stop();
}
