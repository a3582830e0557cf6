import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type DerivedTimerDeps, dynamoDeriver } from '../../shared/derived/index.js';
import { eventBridgePublisher, publishMessages } from '../../shared/http/ingestion.js';
import { DynamoProfileStore } from '../../shared/profiles/index.js';
import { busName } from '../../shared/routing.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger, handlerClock } from '../config.js';

/** What the lifecycle timer needs, once per container (and once per local stack). */
export function createLifecycleDeps(env: NodeJS.ProcessEnv = process.env): DerivedTimerDeps {
  const client = createDocumentClient();
  const clock = handlerClock;
  const publisher = eventBridgePublisher(
    new EventBridgeClient({ maxAttempts: 5 }),
    env.CAIRN_BUS_NAME || busName,
  );
  return {
    store: new DynamoProfileStore({ client, clock, tableName: tableName(profilesTable, env) }),
    deriver: dynamoDeriver(client, tableName(journeysTable, env)),
    publish: (messages) => publishMessages(messages, { publisher, source: 'cairn' }),
    clock,
    log: edgeLogger({ fn: 'lifecycle' }),
  };
}
