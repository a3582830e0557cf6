import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { eventBridgeScheduler, sqsSlotQueue } from '../../shared/broadcasts/aws.js';
import { BroadcastDynamoStore } from '../../shared/broadcasts/dynamodb.js';
import { type Broadcasts, createBroadcasts } from '../../shared/broadcasts/service.js';
import { randomIds } from '../../shared/ids.js';
import { executionName } from '../../shared/journeys/compile.js';
import type { Logger } from '../../shared/log.js';
import { DynamoProfileStore, getProfile } from '../../shared/profiles/index.js';
import { enter } from '../../shared/runtime/entry.js';
import { DynamoSegmentStore } from '../../shared/segments/index.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { handlerClock } from '../config.js';
import { countCalls, type Runtime } from '../runtime/runtime.js';

/**
 * Configuration of broadcasts (api and broadcast functions), from the environment:
 *   CAIRN_BROADCAST_QUEUE_URL       the slot queue (SQS)
 *   CAIRN_BROADCAST_FUNCTION_ARN    what schedules invoke (the broadcast Lambda)
 *   CAIRN_SCHEDULER_ROLE_ARN        the role EventBridge Scheduler invokes it with
 *   CAIRN_SCHEDULE_GROUP            the schedule group, default `cairn`
 * Without a queue URL broadcasts are not wired: the routes answer 501.
 */
export function createBroadcastDeps(options: {
  client: DynamoDBDocumentClient;
  runtime: Pick<Runtime, 'store' | 'executions' | 'journeys'>;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** The broadcast Lambda's own ARN (from its context), when the environment does not name it. */
  functionArn?: string;
}): Broadcasts | undefined {
  const env = options.env ?? process.env;
  const functionArn = env.CAIRN_BROADCAST_FUNCTION_ARN || options.functionArn;
  if (!env.CAIRN_BROADCAST_QUEUE_URL || !functionArn) return undefined;
  const clock = handlerClock; // the virtual clock in the local stack
  const { client, runtime, log } = options;
  const profiles = new DynamoProfileStore({ client, clock, tableName: tableName(profilesTable, env) });
  const entryDeps = { executions: runtime.executions, store: runtime.store, clock, executionName, log };
  return createBroadcasts({
    store: new BroadcastDynamoStore(client, tableName(journeysTable, env)),
    membership: new DynamoSegmentStore({
      client,
      profilesTable: tableName(profilesTable, env),
      journeysTable: tableName(journeysTable, env),
    }),
    journeys: runtime.journeys,
    async timezones(profileIds) {
      const found = await Promise.all(profileIds.map((id) => getProfile(profiles, id)));
      return new Map(
        profileIds.map((id, i) => {
          const zone = found[i]?.traits.timezone;
          return [id, typeof zone === 'string' ? zone : undefined];
        }),
      );
    },
    async enter(journey, profileId, { broadcastId, runAt, slotId }) {
      // One entry key per run: a slot delivered again starts the same execution name (no second entry).
      const entryKey = `broadcast:${broadcastId}:${runAt}`;
      const state = await runtime.store.readJourneyState(profileId);
      const previous = state.entries.find((entry) => entry.journeyId === journey.id);
      const mark = `${runAt} ${slotId}`;
      const marked = previous?.runs?.[broadcastId];
      if (marked?.startsWith(`${runAt} `)) {
        // Entered in this run already: by another slot (a zone it moved to), or by this slot on an
        // earlier version (republished since; the name would differ, so StartExecution cannot tell).
        if (marked !== mark) return { entered: false, reason: 'entered_this_run' };
        if (previous!.lastExecution !== executionName(journey.id, journey.version, profileId, entryKey))
          return { entered: true };
      }
      const out = await enter(
        entryDeps,
        journey,
        profileId,
        state.entries,
        { event: 'Broadcast', messageId: entryKey, broadcastId, runAt, properties: { broadcastId, runAt } },
        entryKey,
        { scope: broadcastId, key: runAt, mark },
      );
      return out.refused ? { entered: false, reason: out.refused } : { entered: true };
    },
    scheduler: eventBridgeScheduler(
      countCalls(new SchedulerClient({ maxAttempts: 5 }), 'broadcast', 'Scheduler'),
      {
        groupName: env.CAIRN_SCHEDULE_GROUP || 'cairn',
        functionArn,
        roleArn: env.CAIRN_SCHEDULER_ROLE_ARN ?? '',
      },
      () => clock.now(),
    ),
    queue: sqsSlotQueue(
      countCalls(new SQSClient({ maxAttempts: 5 }), 'broadcast', 'SQS'),
      env.CAIRN_BROADCAST_QUEUE_URL,
      () => clock.now(),
    ),
    clock,
    ids: randomIds,
    log,
  });
}
