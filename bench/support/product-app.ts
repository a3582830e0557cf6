/**
 * The load generator of the ingest benchmark, run in a worker thread: the "product app" that sends
 * Segment messages with PutEvents (the real EventBridge SDK client, 10 entries per call). In reality it
 * runs in another process on another machine; here it at least has its own thread, so its SDK work
 * (serialising, signing, HTTP) does not share the event loop of the stack it measures.
 *
 * Protocol (parentPort): the parent posts a `ProductAppJob`; the worker answers `ProductAppResult`
 * with, for every message, the wall-clock time (ms, `performance.timeOrigin + now()`) its PutEvents
 * call was started — comparable across threads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { busEntry } from '../../shared/http/ingestion.js';
import { putEventsLimits } from '../../shared/routing.js';
import {
  type ProductAppJob,
  type ProductAppOptions,
  type ProductAppResult,
  wallNow,
} from './product-app-client.js';
import { pool } from './stats.js';

const entriesPerCall = putEventsLimits.entries;

if (parentPort) {
  const port = parentPort;
  const { edgeUrl, busName } = workerData as ProductAppOptions;
  const bus = new EventBridgeClient({
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  const put = async (messages: Record<string, unknown>[], sentAt: Float64Array, offset: number) => {
    const now = wallNow();
    for (let i = 0; i < messages.length; i++) sentAt[offset + i] = now;
    const out = await bus.send(
      new PutEventsCommand({
        Entries: messages.map((m) => ({ EventBusName: busName, ...busEntry(m, 'bench') })),
      }),
    );
    if (out.FailedEntryCount) throw new Error(`PutEvents failed for ${out.FailedEntryCount} entries`);
  };

  const run = async (job: ProductAppJob): Promise<Float64Array> => {
    const sentAt = new Float64Array(job.messages.length);
    const calls = Math.ceil(job.messages.length / entriesPerCall);
    const slice = (b: number) => job.messages.slice(b * entriesPerCall, (b + 1) * entriesPerCall);
    if (job.mode === 'burst') {
      await pool(calls, job.senders ?? 8, (b) => put(slice(b), sentAt, b * entriesPerCall));
      return sentAt;
    }
    const intervalMs = job.intervalMs ?? 10;
    const p0 = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let b = 0; b < calls; b++) {
      const wait = p0 + b * intervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(put(slice(b), sentAt, b * entriesPerCall));
    }
    await Promise.all(inFlight);
    return sentAt;
  };

  port.on('message', (job: ProductAppJob) => {
    run(job).then(
      (sentAt) => port.postMessage({ id: job.id, sentAt } satisfies ProductAppResult),
      (error: unknown) =>
        port.postMessage({
          id: job.id,
          sentAt: new Float64Array(0),
          error: error instanceof Error ? error.message : String(error),
        } satisfies ProductAppResult),
    );
  });
}
