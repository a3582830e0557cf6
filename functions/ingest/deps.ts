import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { integerFromEnv } from '../../shared/config.js';
import { derivedEventsReactor, dynamoDeriver, sequenceReactors } from '../../shared/derived/index.js';
import { DynamoDeadLetterStore } from '../../shared/events/dead-letters.js';
import type { OrderedQueue } from '../../shared/events/ordering.js';
import { eventBridgePublisher, publishMessages } from '../../shared/http/ingestion.js';
import { randomIds } from '../../shared/ids.js';
import { DynamoProfileStore, type IngestBatchDeps } from '../../shared/profiles/index.js';
import { busName, ingestRule } from '../../shared/routing.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger, handlerClock } from '../config.js';
import { createReactor } from './reactor.js';

/** Everything ingest needs, created once per Lambda container. */
export function createIngestDeps(env: NodeJS.ProcessEnv = process.env): IngestBatchDeps {
  const client = createDocumentClient();
  // The system clock on AWS; locally the stack's virtual clock, as the reactor uses.
  const clock = handlerClock;
  const log = edgeLogger({ fn: 'ingest' });
  const publisher = eventBridgePublisher(
    new EventBridgeClient({ maxAttempts: 5 }),
    env.CAIRN_BUS_NAME || busName,
  );
  const store = new DynamoProfileStore({
    client,
    clock,
    tableName: tableName(profilesTable, env),
    ...(env.CAIRN_EVENT_RETENTION_DAYS
      ? { eventRetentionDays: integerFromEnv(env, 'CAIRN_EVENT_RETENTION_DAYS', 0, 1) }
      : {}),
  });
  return {
    // Computed traits, stage and scores: definitions cached per container, no request per event.
    ingest: {
      store,
      clock,
      ids: randomIds,
      log,
      deriver: dynamoDeriver(client, tableName(journeysTable, env)),
    },
    parse: { clock, ids: randomIds },
    // Journeys first; then a stage change or a threshold crossed goes onto the bus (1 PutEvents, only then).
    reactor: sequenceReactors(
      createReactor(),
      derivedEventsReactor((messages) => publishMessages(messages, { publisher, source: 'cairn' })),
    ),
    deadLetters: new DynamoDeadLetterStore({ client, clock, tableName: tableName(journeysTable, env) }),
    log,
    concurrency: integerFromEnv(env, 'CAIRN_INGEST_CONCURRENCY', ingestRule.batchSize, 1),
    maxReceiveCount: ingestRule.maxReceiveCount,
    ...(env.CAIRN_INGEST_ORDERED_QUEUE_URL
      ? { ordered: sqsOrderedQueue(env.CAIRN_INGEST_ORDERED_QUEUE_URL) }
      : {}),
  };
}

/** The per-person FIFO queue (AWS only; the local bus groups by person itself). */
function sqsOrderedQueue(queueUrl: string): OrderedQueue {
  const sqs = new SQSClient({});
  return {
    async send(entries) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      return (out.Failed ?? []).map((failure) => String(failure.Id));
    },
  };
}
