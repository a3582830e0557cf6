import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationReasons, queryAll, sendRetryingConflicts, withoutKeys } from '../store/dynamodb.js';
import { profilePk, timelinePrefix, timelineSortKey } from '../store/keys.js';
import { profilesTable } from '../store/tables.js';
import { notErased, ProfileErasedError } from './erased.js';

/**
 * Journey steps and messages on a profile's timeline, in the Profiles table: `P#<profileId>` /
 * `JT#<at>#<execution>#<node>#<outcome>`, between the profile's events (`E#`) and `PROFILE`.
 */

export interface TimelineEntry {
  profileId: string;
  /** ISO-8601. */
  at: string;
  kind: 'journey-step' | 'message';
  journeyId: string;
  journeyVersion: number;
  executionName: string;
  nodeId: string;
  nodeType: string;
  /** entered, completed, waiting, resumed, timed-out, skipped, failed, sent, converted, exited, ... */
  outcome: string;
  detail?: string;
  messageId?: string;
}

/** The journey steps and messages on a profile's timeline. */
export interface TimelineStore {
  addTimeline(entry: TimelineEntry): Promise<void>;
  listTimeline(profileId: string): Promise<TimelineEntry[]>;
}

/** A `journey-step` entry for an execution the profile is in (a resume, a stop), at `at` (epoch ms). */
export function presenceStepEntry(
  presence: { profileId: string; journeyId: string; version: number; executionName: string },
  at: number,
  step: Pick<TimelineEntry, 'nodeId' | 'nodeType' | 'outcome' | 'detail'>,
): TimelineEntry {
  return {
    profileId: presence.profileId,
    at: new Date(at).toISOString(),
    kind: 'journey-step',
    journeyId: presence.journeyId,
    journeyVersion: presence.version,
    executionName: presence.executionName,
    nodeId: step.nodeId,
    nodeType: step.nodeType,
    outcome: step.outcome,
    ...(step.detail !== undefined && { detail: step.detail }),
  };
}

/** The timeline put as request parameters, for a request of its own or an item of a transaction. */
export function timelineWrite(table: string, retentionSeconds: number, now: () => number) {
  return (entry: TimelineEntry) => ({
    TableName: table,
    Item: {
      pk: profilePk(entry.profileId),
      sk: timelineSortKey(entry),
      ...entry,
      expiresAt: Math.floor(now() / 1000) + retentionSeconds,
    },
  });
}

export function dynamoTimelineStore(
  client: DynamoDBDocumentClient,
  options: { tableName?: string; retentionSeconds?: number; now?: () => number } = {},
): TimelineStore {
  const profiles = options.tableName ?? profilesTable.defaultName;
  const now = options.now ?? Date.now;
  const addTimeline = timelineWrite(profiles, options.retentionSeconds ?? 400 * 86_400, now);
  const stripKeys = withoutKeys;
  return {
    async addTimeline(entry) {
      // With the erasure check: nothing goes back under an erased profile (one request still).
      try {
        await sendRetryingConflicts(
          client,
          () =>
            new TransactWriteCommand({
              TransactItems: [{ Put: addTimeline(entry) }, notErased(profiles, entry.profileId)],
            }),
        );
      } catch (error) {
        if (cancellationReasons(error)?.[1] === 'ConditionalCheckFailed')
          throw new ProfileErasedError(entry.profileId);
        throw error;
      }
    },

    async listTimeline(profileId) {
      const items = await queryAll(client, {
        TableName: profiles,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'attribute_not_exists(expiresAt) OR expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': profilePk(profileId),
          ':prefix': timelinePrefix,
          ':now': Math.floor(now() / 1000),
        },
      });
      return items.map((item) => stripKeys<TimelineEntry>(item));
    },
  };
}
