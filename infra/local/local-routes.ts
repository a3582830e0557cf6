/**
 * Routes that only exist locally, served on the HTTP port (and on the edge): the captured emails,
 * the dead-letter queue, the virtual clock, and a way for tests and benchmarks to wait until the
 * asynchronous work (bus deliveries, executions woken by the clock) has settled.
 */
import { parseDuration } from '../../shared/journeys/duration.js';
import type { LocalRoutes } from './edge.js';
import type { LocalEventBridge } from './eventbridge.js';
import type { LocalSes, OutboxMessage } from './ses.js';
import type { LocalSms, SmsOutboxMessage } from './sms.js';
import type { LocalSns, PushOutboxMessage } from './sns.js';
import type { VirtualClock } from './stepfunctions/clock.js';

export interface LocalRoutesOptions {
  ses: LocalSes;
  sms?: LocalSms;
  sns?: LocalSns;
  bus: LocalEventBridge;
  clock: VirtualClock;
  /** Events ingest refused as invalid on those days (YYYY-MM-DD), from its dead-letter store, newest first. */
  rejectedEvents?: (dates: string[]) => Promise<unknown[]>;
}

const outboxFilters = ['channel', 'to', 'profileId', 'journeyId', 'nodeId'] as const;

/** One captured message of any channel, as `GET /local/outbox` lists them. */
export type AnyOutboxMessage = (OutboxMessage & { channel: 'email' }) | SmsOutboxMessage | PushOutboxMessage;

export function createLocalRoutes({
  ses,
  sms,
  sns,
  bus,
  clock,
  rejectedEvents,
}: LocalRoutesOptions): LocalRoutes {
  // Every channel's captured messages, newest first (ISO times of one clock sort as strings).
  const outbox = (): AnyOutboxMessage[] =>
    [
      ...ses.outbox().map((message) => ({ ...message, channel: 'email' as const })),
      ...(sms?.outbox() ?? []),
      ...(sns?.outbox() ?? []),
    ].sort((a, b) => (a.sentAt < b.sentAt ? 1 : a.sentAt > b.sentAt ? -1 : 0));
  const clockState = () => ({
    now: new Date(clock.now()).toISOString(),
    nowMs: clock.now(),
    timeScale: clock.timeScale,
  });
  return async (method, url, body) => {
    const route = `${method} ${url.pathname.replace(/\/$/, '')}`;
    switch (route) {
      case 'GET /local/outbox': {
        let messages = outbox();
        for (const name of outboxFilters) {
          const wanted = url.searchParams.get(name);
          if (wanted !== null) messages = messages.filter((m) => matchesFilter(m, name, wanted));
        }
        return { status: 200, body: { messages } };
      }
      case 'DELETE /local/outbox':
        ses.clear();
        sms?.clear();
        sns?.clear();
        return { status: 200, body: { messages: [] } };
      case 'GET /local/dlq': {
        // Two kinds of dead letters: bus messages whose delivery kept failing (`messages`), and events
        // ingest refused as invalid and stored with the reason (`rejected`, for one day: ?date=, default
        // today by the real and by the virtual clock).
        const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
        const date = url.searchParams.get('date');
        const dates = date ? [date] : [...new Set([day(Date.now()), day(clock.now())])];
        if (!dates.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) {
          return {
            status: 400,
            body: { error: { code: 'validation_failed', message: 'date must be YYYY-MM-DD' } },
          };
        }
        const rejected = rejectedEvents ? await rejectedEvents(dates).catch(() => []) : [];
        return { status: 200, body: { messages: bus.deadLetters().reverse(), rejected } };
      }
      case 'POST /local/dlq/redrive':
        return { status: 200, body: { redriven: bus.redrive() } };
      case 'GET /local/clock':
        return { status: 200, body: clockState() };
      case 'POST /local/clock': {
        const ms = advanceMs(body);
        if (typeof ms === 'string')
          return { status: 400, body: { error: { code: 'validation_failed', message: ms } } };
        // What was sent before this call (accepted by HTTP or PutEvents, queued on the bus, in ingest,
        // journeys starting, steps running) settles first, so it happens before time moves.
        await settle(bus, clock);
        await clock.advance(ms);
        await settle(bus, clock);
        return { status: 200, body: clockState() };
      }
      case 'GET /local/idle': {
        // Bounded, so a caller waiting on work that never settles gets an answer, not a hung request.
        const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') ?? 60_000) || 60_000, 300_000);
        const settled = await settleWithin(timeoutMs, () => settle(bus, clock));
        if (settled) return { status: 200, body: { idle: true } };
        const message = `still busy after ${timeoutMs} ms (bus idle: ${bus.isIdle()})`;
        return { status: 503, body: { error: { code: 'busy', message } } };
      }
      default:
        return undefined;
    }
  };
}

/** Waits until the bus has delivered everything and the clock's tracked work has finished, repeatedly (one may feed the other). */
export async function settle(bus: LocalEventBridge, clock: VirtualClock): Promise<void> {
  for (let round = 0; round < 100; round++) {
    await bus.whenIdle();
    await clock.settled();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (bus.isIdle()) return;
  }
}

/** Runs `settling` for at most `timeoutMs`: true if it settled in time, false if the time ran out. */
export async function settleWithin(timeoutMs: number, settling: () => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      settling().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function matchesFilter(
  message: AnyOutboxMessage,
  name: (typeof outboxFilters)[number],
  wanted: string,
): boolean {
  if (name === 'to' && message.channel === 'email')
    return message.toAddresses.some((address) => address.toLowerCase() === wanted.toLowerCase());
  if (name === 'to') return message.to.toLowerCase() === wanted.toLowerCase();
  return String(message[name] ?? '') === wanted;
}

/** `{ "advance": "P2D" }` (ISO-8601) or `{ "advance": 3600000 }` (ms) → ms, or what is wrong. */
function advanceMs(body: unknown): number | string {
  const advance = (body as { advance?: unknown } | undefined)?.advance;
  if (typeof advance === 'number' && Number.isFinite(advance) && advance >= 0) return advance;
  if (typeof advance === 'string') {
    const parsed = parseDuration(advance);
    return 'error' in parsed ? `advance: ${parsed.error}` : parsed.seconds * 1000;
  }
  return 'advance: send { "advance": "P2D" } (an ISO-8601 duration) or a number of milliseconds';
}
