export * from './bgnbd.js';
export * from './definitions.js';
export * from './derive.js';
export * from './deriver.js';
export * from './lead-score.js';
export * from './lifecycle.js';
export * from './schema.js';
export * from './traits.js';

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { cachedDefinitions, DynamoDefinitionStore } from './definitions.js';
import { createDeriver, preparedDefinitions } from './deriver.js';

/** The deriver over the definitions in the Journeys table, cached per container. */
export function dynamoDeriver(client: DynamoDBDocumentClient, journeysTableName: string) {
  return createDeriver(
    preparedDefinitions(cachedDefinitions(new DynamoDefinitionStore(client, journeysTableName))),
  );
}
export * from './catalog.js';
export * from './conditions.js';
export * from './lifecycle-counts.js';
export * from './notifier.js';
export * from './timers.js';
