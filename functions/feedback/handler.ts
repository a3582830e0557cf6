import middy from '@middy/core';
import type { SNSEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readInboundSms } from '../../shared/channels/sms/inbound.js';
import { applyFeedback, type ProviderEventEnvelope } from '../../shared/runtime/feedback.js';
import { edgeLogger } from '../config.js';
import { invocationLog, lambdaLog, sqsBatchLog } from '../middleware/index.js';
import { createFeedbackDeps, type FeedbackHandlerDeps } from './deps.js';

/**
 * Two kinds of input. SQS batches of provider events from the default bus (SES delivery, bounce,
 * complaint, open, click; SMS delivery receipts): each updates its message's status history and
 * counters and suppresses dead addresses; failures are reported per message so one bad record never
 * makes SQS redeliver the whole batch. SNS notifications from the two-way SMS destination: a reply
 * to one of Cairn's numbers (STOP / START / HELP and free text); a failure throws, so SNS retries.
 */
const log = edgeLogger({ component: 'feedback' });
let deps: FeedbackHandlerDeps | undefined;

export const handler = middy<SQSEvent | SNSEvent, SQSBatchResponse | undefined>()
  .use(lambdaLog({ log, ...sqsBatchLog, level: 'debug' }))
  .handler(async (event, context) => {
    deps ??= createFeedbackDeps();
    const ready = deps;
    if (event.Records[0] && 'Sns' in event.Records[0]) {
      for (const record of (event as SNSEvent).Records)
        await ready.inboundSms(readInboundSms(record.Sns.Message));
      return undefined;
    }
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    await Promise.all(
      (event as SQSEvent).Records.map(async (record) => {
        try {
          await applyFeedback(JSON.parse(record.body) as ProviderEventEnvelope, ready.feedback);
        } catch (error) {
          invocationLog(context, log).error('provider event not recorded', {
            messageId: record.messageId,
            errorName: (error as Error).name,
          });
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  });
