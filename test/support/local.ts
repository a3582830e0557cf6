/**
 * Helpers for tests against the local stack (in this process or the one `test/run.ts` started):
 * SDK client config for the edge, and the local-only routes (idle, outbox, DLQ, clock).
 */
import { after, before } from 'node:test';
import { Analytics } from '@segment/analytics-node';
import type { DeadLetter } from '../../infra/local/eventbridge.js';
import type { OutboxMessage } from '../../infra/local/ses.js';
import { testStack } from './stack.js';

/** Config for any AWS SDK v3 client: the edge, a fixed region, dummy credentials. */
export function awsClientConfig(edgeUrl: string) {
  return {
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok)
    throw new Error(`${init?.method ?? 'GET'} ${url} → ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Resolves once the local bus has delivered everything and clock-driven work has finished. */
export async function waitForIdle(httpUrl: string): Promise<void> {
  await getJson(`${httpUrl}/local/idle`);
}

export async function readOutbox(
  httpUrl: string,
  filter: Partial<Record<'to' | 'profileId' | 'journeyId' | 'nodeId', string>> = {},
): Promise<OutboxMessage[]> {
  const query = new URLSearchParams(filter as Record<string, string>).toString();
  const body = await getJson<{ messages: OutboxMessage[] }>(
    `${httpUrl}/local/outbox${query ? `?${query}` : ''}`,
  );
  return body.messages;
}

/** Bus messages whose delivery kept failing (the local SQS DLQ), newest first. */
export async function readDeadLetters(httpUrl: string): Promise<DeadLetter[]> {
  return (await getJson<{ messages: DeadLetter[] }>(`${httpUrl}/local/dlq`)).messages;
}

/** Events ingest refused as invalid today (virtual clock), from its dead-letter store, newest first. */
export async function readRejectedEvents(
  httpUrl: string,
): Promise<
  { id: string; code: string; reason: string; issues: { path: (string | number)[] }[]; body: string }[]
> {
  return (await getJson<{ rejected: [] }>(`${httpUrl}/local/dlq`)).rejected;
}

/** Moves the local virtual clock (`"P2D"`, `"PT1H"`, or ms); resolves once what fell due has run. */
export async function advanceClock(
  httpUrl: string,
  advance: string | number,
): Promise<{ now: string; nowMs: number }> {
  return getJson(`${httpUrl}/local/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advance }),
  });
}

/** A unique id for this test run, so tests can share one stack. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * AWS SDK clients on the test stack's edge for the suite (or file) it is called in: `make` builds them
 * from the client config in a `before` hook (the stack started or found then), and `after` destroys
 * them. The object returned has them and `httpUrl` once `before` has run.
 */
export function useStackClients<Clients extends Record<string, { destroy(): void }>>(
  make: (config: ReturnType<typeof awsClientConfig>) => Clients,
): Clients & { httpUrl: string } {
  const clients = {} as Clients & { httpUrl: string };
  let made: Clients | undefined;
  before(async () => {
    const stack = await testStack();
    made = make(awsClientConfig(stack.edgeUrl));
    Object.assign(clients, made, { httpUrl: stack.httpUrl });
  });
  after(() => {
    for (const client of Object.values(made ?? {})) client.destroy();
  });
  return clients;
}

/**
 * The Segment Node SDK (@segment/analytics-node) pointed at the local HTTP API with the dev write key,
 * no retries; `errors` collects every error it reports.
 */
export function segmentAnalytics(httpUrl: string, options: { flushAt: number }) {
  const analytics = new Analytics({ writeKey: 'dev-write-key', host: httpUrl, maxRetries: 0, ...options });
  const errors: unknown[] = [];
  analytics.on('error', (error) => errors.push(error));
  return { analytics, errors };
}
