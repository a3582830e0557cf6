import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../shared/clock.js';
import { integerFromEnv } from '../../shared/config.js';
import { eventBridgePublisher } from '../../shared/http/ingestion.js';
import type { Logger } from '../../shared/log.js';
import { busName } from '../../shared/routing.js';
import { DynamoSegmentStore } from '../../shared/segments/dynamodb.js';
import type { MembershipNotifier, SegmentEngineDeps } from '../../shared/segments/engine.js';
import {
  type BackfillPager,
  cachedSegments,
  type SegmentServiceDeps,
} from '../../shared/segments/service.js';
import { backfillDetailType, segmentsSource } from '../../shared/segments/wiring.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger, handlerClock } from '../config.js';
import { countCalls } from '../runtime/runtime.js';

/**
 * Segments wired from the environment, once per Lambda container (ingest, step, api, segments):
 *   CAIRN_PROFILES_TABLE, CAIRN_JOURNEYS_TABLE
 *   CAIRN_BUS_NAME              where backfill pages travel (default `cairn`)
 *   CAIRN_SEGMENT_CACHE_MS      how long the defined segments are cached, default 5000
 *   CAIRN_SEGMENT_BACKFILL_DELAY_MS  how long a new backfill waits before it scans, default the cache
 *                               time + 1000 (every container knows the segment by then); the local
 *                               stack sets 0: its one process clears its cache on a save
 */
export interface SegmentsWiring {
  store: DynamoSegmentStore;
  service: SegmentServiceDeps;
  engine(notifier?: MembershipNotifier): SegmentEngineDeps;
}

export function createSegments(
  options: {
    env?: NodeJS.ProcessEnv;
    client?: DynamoDBDocumentClient;
    clock?: Clock;
    log?: Logger;
    /** Counts this wiring's DynamoDB requests under `runtimeCalls[role]` (benchmarks, cost tests). */
    role?: string;
  } = {},
): SegmentsWiring {
  const env = options.env ?? process.env;
  const client =
    options.client ??
    (options.role ? countCalls(createDocumentClient(), options.role, 'DynamoDB') : createDocumentClient());
  const clock = options.clock ?? handlerClock;
  const log = options.log ?? edgeLogger({ component: 'segments' });
  const store = new DynamoSegmentStore({
    client,
    profilesTable: tableName(profilesTable, env),
    journeysTable: tableName(journeysTable, env),
  });
  let bus: ReturnType<typeof eventBridgePublisher> | undefined;
  const pager: BackfillPager = {
    async send(job) {
      bus ??= eventBridgePublisher(new EventBridgeClient({ maxAttempts: 5 }), env.CAIRN_BUS_NAME || busName);
      const out = await bus.putEvents([
        { Source: segmentsSource, DetailType: backfillDetailType, Detail: JSON.stringify(job) },
      ]);
      if (out.failed.length > 0)
        throw new Error(`backfill page not sent: ${out.failed[0]?.code ?? 'failed'}`);
    },
  };
  const cacheMs = integerFromEnv(env, 'CAIRN_SEGMENT_CACHE_MS', 5000);
  const segments = cachedSegments(store, cacheMs);
  const backfillDelayMs = integerFromEnv(env, 'CAIRN_SEGMENT_BACKFILL_DELAY_MS', cacheMs + 1000);
  return {
    store,
    service: { store, clock, pager, log, backfillDelayMs },
    engine: (notifier) => ({ store, clock, segments, log, ...(notifier && { notifier }) }),
  };
}
