/**
 * Measures the local stack itself (not Cairn's domain work): `npx tsx infra/local/measure.ts`.
 *   - start time of `npm start --memory` until GET /health answers 200 (a separate process);
 *   - resident memory of the Node process and of DynamoDB Local's JVM, idle and after traffic;
 *   - PutEvents → delivery latency (event accepted → ingest handler invoked, and → handler done).
 * Prints one JSON object.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { registerFunction, resolveFunction } from './functions.js';
import { freePort } from './ports.js';
import { startLocalStack } from './stack.js';

function rssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function cliStartMs(): Promise<number> {
  const [httpPort, edgePort] = [await freePort(), await freePort()];
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/cli.ts', '--memory'], {
    env: {
      ...process.env,
      CAIRN_HTTP_PORT: String(httpPort),
      CAIRN_EDGE_PORT: String(edgePort),
      CAIRN_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return Date.now() - started;
      if (Date.now() - started > 60_000) throw new Error('npm start did not become healthy within 60 s');
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const cliStart = [await cliStartMs(), await cliStartMs(), await cliStartMs()];

process.env.CAIRN_LOG_LEVEL = 'warn';
const t0 = Date.now();
const stack = await startLocalStack({ memory: true, httpPort: 0, edgePort: 0 });
const inProcessStartMs = Date.now() - t0;
const idle = { nodeMb: rssMb(process.pid), dynamoDbMb: rssMb(stack.dynamoDbPid) };

// Wrap the real ingest handler to see when each event reaches it and when it is done.
const real = await resolveFunction('cairn-ingest');
const invokedAt = new Map<string, number>();
const doneAt = new Map<string, number>();
registerFunction('cairn-ingest', async (event: { Records: { body: string }[] }, context) => {
  const now = Date.now();
  const ids = event.Records.map(
    (r) => (JSON.parse(r.body) as { detail: { messageId: string } }).detail.messageId,
  );
  for (const id of ids) invokedAt.set(id, now);
  const result = await real(event, context);
  const end = Date.now();
  for (const id of ids) doneAt.set(id, end);
  return result;
});

const client = new EventBridgeClient({
  endpoint: stack.edgeUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
const sentAt = new Map<string, number>();
const put = async (userId: string) => {
  const messageId = randomUUID();
  const detail = { type: 'track', userId, event: 'Measured', messageId };
  const before = Date.now();
  await client.send(
    new PutEventsCommand({
      Entries: [
        { EventBusName: 'cairn', Source: 'measure', DetailType: 'track', Detail: JSON.stringify(detail) },
      ],
    }),
  );
  sentAt.set(messageId, before);
};
// Warm-up (cold start of the handler, JIT), then one event at a time, each after the last was processed.
for (let i = 0; i < 20; i++) await put(`warm-${i % 5}`);
await stack.settle();
sentAt.clear();
for (let i = 0; i < 300; i++) {
  await put(`user-${i % 50}`);
  await stack.settle();
}
const toInvoke = [...sentAt].map(([id, at]) => (invokedAt.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
const toDone = [...sentAt].map(([id, at]) => (doneAt.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
const afterTraffic = { nodeMb: rssMb(process.pid), dynamoDbMb: rssMb(stack.dynamoDbPid) };
client.destroy();
const stopStarted = Date.now();
await stack.stop();

console.log(
  JSON.stringify(
    {
      npmStartToHealthyMs: cliStart,
      inProcessStartMs,
      rssIdle: idle,
      rssAfter320Events: afterTraffic,
      putEventsToHandlerInvokedMs: {
        p50: percentile(toInvoke, 50),
        p99: percentile(toInvoke, 99),
        n: toInvoke.length,
      },
      putEventsToIngestDoneMs: { p50: percentile(toDone, 50), p99: percentile(toDone, 99) },
      stopMs: Date.now() - stopStarted,
    },
    null,
    2,
  ),
);
process.exit(0);
