import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Firing, Slot } from '../../shared/broadcasts/ports.js';
import type { Broadcasts } from '../../shared/broadcasts/service.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { edgeLogger } from '../config.js';
import { lambdaLog } from '../middleware/index.js';
import { countCalls, createRuntime } from '../runtime/runtime.js';
import { createBroadcastDeps } from './deps.js';

/**
 * Broadcasts at run time: EventBridge Scheduler invokes it with `{ firing }` (page a run's members
 * into slots), SQS with slot messages (enter up to ratePerSecond members). A slot that throws is
 * reported failed and redelivered; its entries are idempotent and its counts applied once.
 */
const log = edgeLogger({ component: 'broadcast' });
let broadcasts: Broadcasts | undefined;

function wired(functionArn: string | undefined): Broadcasts {
  if (!broadcasts) {
    const client = countCalls(createDocumentClient(), 'broadcast', 'DynamoDB');
    const runtime = createRuntime({ role: 'broadcast', documentClient: client });
    broadcasts = createBroadcastDeps({ client, runtime, log, functionArn });
    if (!broadcasts) throw new Error('broadcasts are not configured (CAIRN_BROADCAST_QUEUE_URL)');
  }
  return broadcasts;
}

type BroadcastEvent = { firing: Firing } | SQSEvent;

export const handler = middy<BroadcastEvent, SQSBatchResponse | undefined>()
  .use(
    lambdaLog<BroadcastEvent, SQSBatchResponse | undefined>({
      log,
      correlationId: (event) =>
        'firing' in event ? event.firing.broadcastId : event.Records?.[0]?.messageId,
    }),
  )
  .handler(async (event, context) => {
    const broadcasts = wired(context?.invokedFunctionArn?.split(':').slice(0, 7).join(':'));
    if ('firing' in event) return void (await broadcasts.fire(event.firing));
    const failed: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        await broadcasts.startSlot((JSON.parse(record.body) as { slot: Slot }).slot);
      } catch (error) {
        log.warn('slot failed; SQS delivers it again', {
          messageId: record.messageId,
          errorName: (error as Error).name,
        });
        failed.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failed };
  });
