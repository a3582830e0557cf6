import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { NormalizedMessage } from '../events/index.js';
import { resendingUnprocessed } from '../retry.js';
import { putEventsEntrySize, putEventsLimits } from '../routing.js';
import { ServiceUnavailableError } from './respond.js';

/**
 * Forwards validated Segment messages to the bus, exactly as a product app calling PutEvents would:
 * `DetailType` = the Segment type, `Detail` = the message. PutEvents takes at most 10 entries and
 * 256 KB per call, and can accept part of a call (FailedEntryCount): failed entries are retried with
 * backoff, and if some still fail the request answers 503 so the sender retries the batch (duplicates
 * are harmless: ingest dedupes on messageId).
 */
export interface BusEntry {
  Source: string;
  DetailType: string;
  Detail: string;
}

/** The bus entry of one Segment message, as a product app puts it: `DetailType` its type, `Detail` itself. */
export function busEntry(message: { readonly type?: unknown }, source: string): BusEntry {
  return { Source: source, DetailType: String(message.type), Detail: JSON.stringify(message) };
}

/** One PutEvents call. Resolves with the indexes (into `entries`) that failed. */
export interface EventPublisher {
  putEvents(entries: BusEntry[]): Promise<{ failed: { index: number; code?: string }[] }>;
}

export function eventBridgePublisher(client: EventBridgeClient, busName: string): EventPublisher {
  return {
    async putEvents(entries) {
      const out = await client.send(
        new PutEventsCommand({ Entries: entries.map((entry) => ({ ...entry, EventBusName: busName })) }),
      );
      const failed: { index: number; code?: string }[] = [];
      if (out.FailedEntryCount) {
        (out.Entries ?? []).forEach((result, index) => {
          if (result.ErrorCode) failed.push({ index, code: result.ErrorCode });
        });
      }
      return { failed };
    },
  };
}

/** Groups entries into PutEvents calls within `putEventsLimits` (10 entries, 256 KB). */
export function chunkEntries(entries: BusEntry[]): BusEntry[][] {
  const chunks: BusEntry[][] = [];
  let current: BusEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = putEventsEntrySize(entry);
    if (
      current.length > 0 &&
      (current.length === putEventsLimits.entries || bytes + size > putEventsLimits.bytes)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

export interface PublishOptions {
  publisher: EventPublisher;
  /** EventBridge `Source`: the write key's source, `cairn.http` by default. */
  source: string;
  /** Attempts per entry, including the first. Default 3. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Publishes every message; throws ServiceUnavailableError (503) if some could not be put. */
export async function publishMessages(
  messages: readonly NormalizedMessage[],
  options: PublishOptions,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 3;
  let lastCode: string | undefined;
  const unpublished = await resendingUnprocessed(
    messages.map((message) => busEntry(message, options.source)),
    async (pending) => {
      const results = await Promise.all(
        chunkEntries(pending).map(async (chunk) => {
          const { failed } = await options.publisher.putEvents(chunk);
          return failed.map(({ index, code }) => {
            lastCode = code ?? lastCode;
            return chunk[index]!;
          });
        }),
      );
      return results.flat();
    },
    { attempts: maxAttempts, backoff: (failed) => 50 * 4 ** (failed - 1), sleep: options.sleep },
  );
  if (unpublished.length > 0) {
    throw new ServiceUnavailableError(
      `${unpublished.length} of ${messages.length} messages could not be published; retry`,
      { failed: unpublished.length, reason: lastCode },
    );
  }
}
