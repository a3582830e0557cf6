import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JourneyErasure } from '../profiles/erasure.js';
import { deleteAll, queryAll } from '../store/dynamodb.js';
import { executionPk } from '../store/keys.js';
import type { RuntimeStore } from './store.js';
import type { PresenceRecord } from './types.js';

/**
 * The journey part of an erasure (shared/profiles/erasure.ts runs it after the tombstones and before
 * the profile's items go): stops every execution the profiles are in and deletes the message records
 * of every execution they ever had (`MSG#<execution>`, which hold the subject and the profile id),
 * with the execution's entry data (the trigger's properties, entry-data.ts) in the same partition.
 * Executions are found from the presence items (running), the entry records and the timeline
 * (ended); all three live under the profile, so the profile's deletion removes them afterwards.
 * Cost: per profile 2 Queries (journey items, timeline); per running execution 1 StopExecution
 * (+ its counters); per execution 1 Query + 1 BatchWriteItem per 25 message records.
 */

/** Message records by execution (the Journeys table). */
export interface MessageErasureStore {
  /** Deletes every message record of the executions; returns how many there were. */
  deleteMessages(executionNames: string[]): Promise<number>;
}

export interface JourneyErasureDeps {
  store: Pick<RuntimeStore, 'readJourneyState' | 'listTimeline'>;
  messages: MessageErasureStore;
  /** Stops one execution and takes it off its node's counters; false when it was not running. */
  stop(presence: PresenceRecord): Promise<boolean>;
}

export function journeyErasure(deps: JourneyErasureDeps): JourneyErasure {
  return {
    async eraseJourneys(profileIds) {
      const executions = new Set<string>();
      let executionsStopped = 0;
      for (const profileId of profileIds) {
        const [state, timeline] = await Promise.all([
          deps.store.readJourneyState(profileId),
          deps.store.listTimeline(profileId),
        ]);
        for (const presence of state.presence) {
          executions.add(presence.executionName);
          if (await deps.stop(presence)) executionsStopped++;
        }
        for (const entry of state.entries) if (entry.lastExecution) executions.add(entry.lastExecution);
        for (const entry of timeline) executions.add(entry.executionName);
      }
      const messages = await deps.messages.deleteMessages([...executions]);
      return { executionsStopped, messages };
    },
  };
}

export function dynamoMessageErasure(
  client: DynamoDBDocumentClient,
  journeysTable: string,
): MessageErasureStore {
  return {
    async deleteMessages(executionNames) {
      let deleted = 0;
      for (const executionName of executionNames) {
        const keys = await queryAll(client, {
          TableName: journeysTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': executionPk(executionName) },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
        });
        await deleteAll(client, journeysTable, keys);
        // The execution's own items share the partition (`#entry`: entry-data.ts; `#refused`:
        // store.ts refusalKey); `#` never starts a node id, so they are told apart from messages.
        deleted += keys.filter((key) => !String(key.sk).startsWith('#')).length;
      }
      return deleted;
    },
  };
}
