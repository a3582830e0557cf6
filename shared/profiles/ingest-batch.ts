import { CairnError, formatPath, type Issue, PayloadTooLargeError, ValidationError } from '../errors.js';
import { type DeadLetterStore, storedBody } from '../events/dead-letters.js';
import { fromEventBridge, type NormalizedMessage, type ParseDeps } from '../events/normalize.js';
import type { OrderedQueue } from '../events/ordering.js';
import type { Logger } from '../log.js';
import { type IngestDeps, ingestMessage } from './ingest.js';
import type { EventReactor } from './reactor.js';
import { ProfileErasedError } from './store.js';

/** One queued delivery: an EventBridge event (JSON) with the queue's id for it. */
export interface QueuedEvent {
  id: string;
  body: string;
  /** How often the queue has handed it out, this time included (SQS ApproximateReceiveCount). */
  receiveCount?: number;
}

export interface IngestBatchDeps {
  ingest: IngestDeps;
  parse: ParseDeps;
  reactor: EventReactor;
  deadLetters: DeadLetterStore;
  log: Logger;
  /** Events processed at once. Events of one person are processed one after another, in order. Default 10. */
  concurrency?: number;
  /**
   * Receives after which the queue moves a failed event to its DLQ (the rule's maxReceiveCount): on
   * that last receive a failure is also kept in the dead-letter store with its real reason.
   */
  maxReceiveCount?: number;
  /**
   * On AWS: the FIFO queue with a message group per person (events/ordering.ts). Events that arrive
   * from the rule's standard queue are moved there; events from it are ingested.
   */
  ordered?: OrderedQueue;
}

export interface IngestBatchResult {
  /** Ids to report as `batchItemFailures`: transient failures, redelivered by the queue. */
  failed: string[];
  ingested: number;
  duplicates: number;
  deadLettered: number;
  /**
   * Events of a person erased meanwhile, consumed without writing anything: Cairn's own derived
   * events about an erased profile (aboutErasedProfile), and events whose commit found the profile
   * they resolved to erased (an ingest that read it just before `DELETE /profiles/{id}`).
   */
  dropped: number;
}

/**
 * Ingests a queue batch. An invalid event goes to the dead-letter store with its reason and field
 * paths and counts as done (retrying cannot fix it); a transient failure (a conflict that outlasted
 * the retries, a throttled or unavailable DynamoDB, a failing reactor) is reported for redelivery,
 * and so are the later events of the same person in the batch, which keeps their order. One bad event
 * never fails its batch.
 */
export async function ingestBatch(events: QueuedEvent[], deps: IngestBatchDeps): Promise<IngestBatchResult> {
  const result: IngestBatchResult = { failed: [], ingested: 0, duplicates: 0, deadLettered: 0, dropped: 0 };
  const parsed: { event: QueuedEvent; message: NormalizedMessage }[] = [];
  for (const event of events) {
    try {
      parsed.push({ event, message: fromEventBridge(JSON.parse(event.body), deps.parse) });
    } catch (error) {
      if (await deadLetter(event, error, deps)) result.deadLettered += 1;
      else result.failed.push(event.id);
    }
  }
  const work = personLanes(parsed);

  const runLane = async (lane: { event: QueuedEvent; message: NormalizedMessage }[]) => {
    for (let i = 0; i < lane.length; i++) {
      const { event, message } = lane[i]!;
      try {
        if (await aboutErasedProfile(message, deps)) {
          result.dropped += 1;
          continue;
        }
        const ingested = await ingestMessage(message, deps.ingest);
        if (ingested.profile)
          await deps.reactor.onEvent({ profile: ingested.profile, event: ingested.event, result: ingested });
        if (ingested.duplicate) result.duplicates += 1;
        else result.ingested += 1;
      } catch (error) {
        if (error instanceof ProfileErasedError) {
          // The person asked to be forgotten while this event was on its way: it is theirs, so it is
          // not written (a redelivery, once the identities are gone, would start a new profile with
          // it). Ids only in the log. An event that arrives once the erasure has deleted the
          // identities resolves to no one and starts a new profile, as any first event does.
          result.dropped += 1;
          deps.log.info('event of an erased profile dropped', {
            messageId: message.messageId,
            reason: 'profile_erased',
          });
          continue;
        }
        if (isPermanent(error) && (await deadLetter(event, error, deps, 'ingest_rejected'))) {
          // Retrying cannot help (DynamoDB refused the item as it is): kept with the reason; the
          // person's later events go on.
          result.deadLettered += 1;
          continue;
        }
        const last = event.receiveCount !== undefined && event.receiveCount >= (deps.maxReceiveCount ?? 3);
        deps.log.error(
          last ? 'ingest failed on the last receive' : 'ingest failed; event will be redelivered',
          {
            messageId: message.messageId,
            queueId: event.id,
            error: errorName(error),
            later: lane.length - i - 1,
          },
        );
        // The queue's DLQ keeps the event for a redrive, but not why: the dead letters say.
        if (last) await deadLetter(event, error, deps, 'ingest_failed');
        for (const rest of lane.slice(i)) result.failed.push(rest.event.id);
        return;
      }
    }
  };
  const concurrency = Math.max(1, deps.concurrency ?? 10);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, work.length) }, async () => {
      while (next < work.length) await runLane(work[next++]!);
    }),
  );
  return result;
}

/**
 * A derived event (`Lifecycle Stage Changed`, `Lead Score Threshold Crossed`: shared/derived/notifier.ts)
 * is published for the profile as it was read, under its first userId / anonymousId. When the profile
 * was erased between that read and now (a lifecycle timer or an update node running during the
 * erasure), ingesting it would start a new profile for the erased identifiers: it is dropped, with
 * ids only in the log. One GetItem of the tombstone, for derived events only.
 */
async function aboutErasedProfile(message: NormalizedMessage, deps: IngestBatchDeps): Promise<boolean> {
  const cairn = message.context.cairn as { derived?: unknown; profileId?: unknown } | undefined;
  if (cairn?.derived !== true || typeof cairn.profileId !== 'string') return false;
  if (!(await deps.ingest.store.isErased(cairn.profileId))) return false;
  deps.log.info('derived event of an erased profile dropped', { messageId: message.messageId });
  return true;
}

/**
 * Failures no retry can fix: the event itself is refused (our validation, or DynamoDB's
 * ValidationException for an item or key it will never accept).
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof ValidationError || error instanceof PayloadTooLargeError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'ValidationException' || name === 'ItemCollectionSizeLimitExceededException';
}

/**
 * Keeps the event in the dead-letter store with why. Invalid events (validation, size, JSON) always;
 * other errors only when `failure` says which kind of failure it is.
 */
async function deadLetter(
  event: QueuedEvent,
  error: unknown,
  deps: IngestBatchDeps,
  failure?: 'ingest_rejected' | 'ingest_failed',
): Promise<boolean> {
  let code: string;
  let issues: Issue[] = [];
  if (error instanceof ValidationError) {
    code = error.code;
    issues = error.issues;
  } else if (error instanceof PayloadTooLargeError) {
    code = error.code;
  } else if (error instanceof SyntaxError) {
    code = 'malformed_json';
  } else if (failure !== undefined) {
    code = failure;
  } else {
    return false;
  }
  const reason =
    issues.length > 0
      ? issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ')
      : failure === undefined
        ? (error as Error).message
        : `${errorName(error)}: ${(error as Error)?.message ?? String(error)}`;
  const receivedAt = new Date(deps.parse.clock.now()).toISOString();
  try {
    await deps.deadLetters.put({
      id: event.id,
      receivedAt,
      code,
      reason,
      issues,
      source: `sqs:${event.id}`,
      ...storedBody(event.body),
    });
  } catch (storeError) {
    deps.log.error('dead-letter write failed; event will be redelivered', {
      queueId: event.id,
      error: errorName(storeError),
    });
    return false;
  }
  // Paths and codes only: the messages name fields, never values.
  deps.log.warn('event rejected to dead letters', {
    queueId: event.id,
    code,
    paths: issues.map((issue) => formatPath(issue.path)),
  });
  return true;
}

function errorName(error: unknown): string {
  if (error instanceof CairnError) return error.code;
  return (error as { name?: string })?.name ?? 'Error';
}

/**
 * Groups a batch into lanes that each hold one person's events, in batch order. Identity is not
 * resolved yet, so events that share any sender id (userId, anonymousId, an alias's previousId) go
 * into the same lane: `identify {userId, anonymousId}` then `track {userId}` must not run side by side.
 */
export function personLanes<T extends { message: NormalizedMessage }>(items: T[]): T[][] {
  const parent = items.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const firstWithId = new Map<string, number>();
  items.forEach(({ message }, i) => {
    for (const id of [message.userId, message.anonymousId, message.previousId]) {
      if (id === undefined || id === '') continue;
      const first = firstWithId.get(id);
      if (first === undefined) firstWithId.set(id, i);
      else parent[root(i)] = root(first);
    }
  });
  const lanes = new Map<number, T[]>();
  items.forEach((item, i) => {
    const lane = lanes.get(root(i)) ?? [];
    lane.push(item);
    lanes.set(root(i), lane);
  });
  return [...lanes.values()];
}
