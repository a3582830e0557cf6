import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { processClock } from '../../shared/clock.js';
import { type DerivedTimerDeps, dynamoDeriver } from '../../shared/derived/index.js';
import { eventBridgePublisher, publishMessages } from '../../shared/http/ingestion.js';
import { createLogger } from '../../shared/log.js';
import { DynamoProfileStore } from '../../shared/profiles/index.js';
import { busName } from '../../shared/routing.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';

/** What the lifecycle timer needs, once per container (and once per local stack). */
export function createLifecycleDeps(env: NodeJS.ProcessEnv = process.env): DerivedTimerDeps {
  const client = createDocumentClient();
  const clock = processClock;
  const publisher = eventBridgePublisher(
    new EventBridgeClient({ maxAttempts: 5 }),
    env.CAIRN_BUS_NAME || busName,
  );
  return {
    store: new DynamoProfileStore({ client, clock, tableName: tableName(profilesTable, env) }),
    deriver: dynamoDeriver(client, tableName(journeysTable, env)),
    publish: (messages) => publishMessages(messages, { publisher, source: 'cairn' }),
    clock,
    log: createLogger({ fn: 'lifecycle' }),
  };
}
