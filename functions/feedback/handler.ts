import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from '../../shared/log.js';
import { applyEmailFeedback, type SesEventEnvelope } from '../../shared/runtime/feedback.js';
import { invocationLog, lambdaLog, sqsBatchLog } from '../middleware/index.js';
import { createRuntime, type Runtime } from '../runtime/runtime.js';

/**
 * SES events (delivery, bounce, complaint, open, click) from the bus, in SQS batches: each updates
 * its message's status history and the node's message counters. Failures are reported per message
 * so one bad record never makes SQS redeliver the whole batch.
 */
const log = createLogger({ component: 'feedback' });
let runtime: Runtime | undefined;

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(lambdaLog({ log, ...sqsBatchLog, level: 'debug' }))
  .handler(async (event, context) => {
    runtime ??= createRuntime({ role: 'feedback' });
    const deps = runtime.feedback;
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        try {
          await applyEmailFeedback(JSON.parse(record.body) as SesEventEnvelope, deps);
        } catch (error) {
          invocationLog(context, log).error('email event not recorded', {
            messageId: record.messageId,
            errorName: (error as Error).name,
          });
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  });
