import { stableHash } from '../ids.js';
import { messageGroupOf } from '../routing.js';

/**
 * Per-person ordering without head-of-line blocking, on AWS. An EventBridge rule cannot set a FIFO
 * queue's MessageGroupId from the event, so the rule fills a standard queue and ingest moves its
 * events into the ordered (FIFO) queue with one message group per person (`messageGroupOf`): SQS
 * then hands one person's events out in order and one batch at a time, and everyone else's events
 * go past them. The bus event id is the deduplication id, so a redelivered event is dropped by SQS
 * within its five-minute window (ingest's own dedupe covers the rest). Locally the bus applies the
 * same grouping itself (infra/local/eventbridge.ts).
 */
export interface OrderedEntry {
  /** The record's id in the batch (SendMessageBatch `Id`: alphanumerics, `-`, `_`, at most 80). */
  Id: string;
  MessageBody: string;
  MessageGroupId: string;
  MessageDeduplicationId: string;
}

/** One entry per queued event (SQS record id and body), in order. */
export function orderedEntries(records: readonly { id: string; body: string }[]): OrderedEntry[] {
  return records.map((record, index) => {
    let detail: unknown;
    let eventId: string | undefined;
    try {
      const envelope = JSON.parse(record.body) as { id?: unknown; detail?: unknown };
      detail = envelope.detail;
      if (typeof envelope.id === 'string' && envelope.id !== '') eventId = envelope.id;
    } catch {
      // Not JSON: ingest dead-letters it; any group will do.
    }
    return {
      Id: String(index),
      MessageBody: record.body,
      // Group ids are at most 128 characters: a digest of the person's key (never the id itself).
      MessageGroupId: stableHash('group', messageGroupOf(detail)),
      MessageDeduplicationId: stableHash('event', eventId ?? record.id),
    };
  });
}

/** The ordered queue: one SendMessageBatch call (at most 10 entries); resolves with the `Id`s that failed. */
export interface OrderedQueue {
  send(entries: OrderedEntry[]): Promise<string[]>;
}

/** Moves queued events into the ordered queue; resolves with the record ids to report as failed. */
export async function forwardToOrderedQueue(
  records: readonly { id: string; body: string }[],
  queue: OrderedQueue,
): Promise<string[]> {
  const entries = orderedEntries(records);
  const failed: string[] = [];
  for (let i = 0; i < entries.length; i += 10) {
    const chunk = entries.slice(i, i + 10);
    try {
      for (const id of await queue.send(chunk)) failed.push(records[Number(id)]!.id);
    } catch {
      for (const entry of chunk) failed.push(records[Number(entry.Id)]!.id);
    }
  }
  return failed;
}
