import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventReactor } from '../../shared/profiles/index.js';
import { createRuntime } from '../../shared/runtime/runtime.js';

/**
 * The journeys hook of ingest: what runs after each stored event (start / resume / stop executions).
 * This is the one place the journeys runtime is wired in (shared/runtime/reactor.ts).
 */
export function createReactor(deps: { client: DynamoDBDocumentClient }): EventReactor {
  const { reactor } = createRuntime({ documentClient: deps.client });
  return {
    async onEvent(input) {
      await reactor.onEvent(input);
    },
  };
}
