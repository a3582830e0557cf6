import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { forwardToOrderedQueue } from '../../shared/events/ordering.js';
import { type IngestBatchDeps, ingestBatch } from '../../shared/profiles/index.js';
import { edgeLogger } from '../config.js';
import { lambdaLog, sqsBatchLog } from '../middleware/index.js';
import { createIngestDeps } from './deps.js';

/**
 * SQS → ingest. Each record carries an EventBridge event (DetailType = Segment type, Detail = the
 * message). Invalid events go to the dead-letter store; transient failures are reported as
 * `batchItemFailures` (ReportBatchItemFailures) so only they are redelivered. With an ordered queue
 * (AWS), events from the rule's standard queue are first moved into it, grouped per person.
 */
export function createIngestHandler(deps: IngestBatchDeps | (() => IngestBatchDeps)) {
  let resolved: IngestBatchDeps | undefined;
  return middy<SQSEvent, SQSBatchResponse>()
    .use(lambdaLog({ log: edgeLogger({ component: 'ingest' }), ...sqsBatchLog, level: 'debug' }))
    .handler(async (event) => {
      resolved ??= typeof deps === 'function' ? deps() : deps;
      const records = event.Records.map((record) => ({
        id: record.messageId,
        body: record.body,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
      }));
      // From the rule's standard queue, on AWS: into the per-person FIFO queue (events/ordering.ts).
      const fromRule = !event.Records.every((record) => record.eventSourceARN?.endsWith('.fifo'));
      const failed =
        resolved.ordered && fromRule
          ? await forwardToOrderedQueue(records, resolved.ordered)
          : (await ingestBatch(records, resolved)).failed;
      return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

/** Deps are created on the first invocation (in the container, once), not at import. */
export const handler = createIngestHandler(() => createIngestDeps());
