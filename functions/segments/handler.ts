import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { BackfillJob } from '../../shared/segments/service.js';
import { runBackfillPage } from '../../shared/segments/service.js';
import { runDueTimers, wakeSegmentTimers } from '../../shared/segments/timers.js';
import { membershipTrigger } from '../../shared/segments/wiring.js';
import { createRuntime, type Runtime } from '../runtime/runtime.js';
import { createSegments, type SegmentsWiring } from './deps.js';

/**
 * The segments worker. Two inputs:
 *  - an SQS batch of backfill pages (bus rule `cairn-segments`): each record evaluates one page of
 *    profiles and sends the next, so a backfill over millions of profiles is many short invocations;
 *  - the window-timer poll (a schedule on AWS, the virtual clock locally): re-evaluates every
 *    (profile, segment) whose timer is due; an entry or exit by time starts the journeys triggered by it.
 */
let segments: SegmentsWiring | undefined;
let runtime: Runtime | undefined;

export const handler = middy(
  async (event: SQSEvent | { kind?: string }): Promise<SQSBatchResponse | { timers: number }> => {
    segments ??= createSegments();
    if (!('Records' in event)) {
      runtime ??= createRuntime({ role: 'segment-timers' });
      const timers = await runDueTimers(segments.engine(membershipTrigger(runtime.reactor)));
      // Where a waker listens (the local stack), the next pending timer is armed too.
      const next = await segments.store.earliestDue();
      if (next) wakeSegmentTimers(Date.parse(next));
      return { timers };
    }
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      try {
        const envelope = JSON.parse(record.body) as { detail: BackfillJob };
        await runBackfillPage(segments.service, envelope.detail);
      } catch (error) {
        segments.service.log?.error('backfill page failed; it will be retried', {
          queueId: record.messageId,
          error: (error as Error).name,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  },
);
