import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { InvocationLogOptions } from './log.js';

/**
 * How an SQS batch invocation is logged: correlated by its first message id (the rest are in the
 * same batch line), with the batch size and how many records failed (and will be redelivered).
 */
export const sqsBatchLog: Pick<
  InvocationLogOptions<SQSEvent, SQSBatchResponse>,
  'correlationId' | 'describe' | 'outcome'
> = {
  correlationId: (event) => event.Records?.[0]?.messageId,
  describe: (event) => ({ records: event.Records?.length ?? 0 }),
  outcome: (result) => ({ failed: result?.batchItemFailures?.length ?? 0 }),
};
