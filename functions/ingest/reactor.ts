import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type EventReactor, noopReactor } from '../../shared/profiles/index.js';

/**
 * The journeys hook of ingest: what runs after each stored event (start / resume / stop executions).
 * This is the one place the journeys runtime is wired in; until it is, events only update profiles.
 */
export function createReactor(_deps: { client: DynamoDBDocumentClient }): EventReactor {
  return noopReactor;
}
