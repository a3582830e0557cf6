import { armsFor, endOfExecution } from '../analytics/record.js';
import type { AnalyticsReader } from '../analytics/store.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { stopDeltas } from './stats.js';
import type { RuntimeStore } from './store.js';
import { presenceStepEntry } from './timeline-store.js';
import type { ExecutionService, JourneySource, PresenceRecord, StatDelta } from './types.js';

/**
 * Stopping an execution: its goal or exit event arrived, the customer was removed from the journey
 * (`DELETE /journeys/{id}/enrollments/{profileId}`), or erased. StopExecution, then presence removed,
 * counters (the journey's conversion / exit / removal, the node it was in: `exited`) and a timeline
 * entry in one request. An erasure writes the counters only: nothing may be written under the person.
 */

export interface StopDeps {
  journeys: Pick<JourneySource, 'getVersion'>;
  executions: ExecutionService;
  store: Pick<RuntimeStore, 'writeStep' | 'addStats'>;
  clock: Clock;
  log: Logger;
  /** Reads the execution's timeline for its analytics trail (shared/analytics); none: no trail counters. */
  analytics?: Pick<AnalyticsReader, 'executionEntries'>;
}

export type StopReason = 'goal' | 'exit' | 'removed' | 'erased';

const journeyCounter = { goal: 'conversions', exit: 'exited', removed: 'removed', erased: 'erased' } as const;
const outcome = { goal: 'converted', exit: 'exited', removed: 'removed', erased: 'erased' } as const;
const cause = {
  goal: 'goal reached',
  exit: 'exit event',
  removed: 'removed from the journey',
  erased: 'profile erased',
} as const;

/**
 * The node counters of a stop outside a waitFor: from the states entered since the last step (one
 * GetExecutionHistory), what the next step would have counted, and the node it was parked in
 * exited. The version this execution runs, not the one published now: nodes can change between versions.
 */
async function parkedDeltas(deps: StopDeps, p: PresenceRecord, arn: string): Promise<StatDelta[]> {
  if (!deps.executions.trail) return [];
  const trail = await deps.executions.trail(arn).catch(() => undefined);
  if (!trail || trail.states.length === 0) return [];
  const definition = await deps.journeys.getVersion(p.journeyId, p.version).catch(() => undefined);
  if (!definition?.nodes) return [];
  return stopDeltas(definition, p.profileId, trail.lastStep, trail.states);
}

/**
 * The analytics counters of the stopped execution's trail (path, times, arm of a conversion): one
 * Query of its timeline entries. Analytics never stops a stop: on a read error it counts nothing.
 */
async function endCounters(
  deps: StopDeps,
  p: PresenceRecord,
  why: 'goal' | 'exit' | 'removed',
  waitingNode: string | undefined,
): Promise<Record<string, number> | undefined> {
  if (!deps.analytics) return undefined;
  const definition = await deps.journeys.getVersion(p.journeyId, p.version).catch(() => undefined);
  if (!definition?.nodes) return undefined;
  return endOfExecution(deps.analytics, definition, {
    profileId: p.profileId,
    executionName: p.executionName,
    enteredAt: p.enteredAt,
    how: why === 'goal' ? 'goal' : 'exitOn',
    ...(waitingNode && { endNode: waitingNode }),
    arms: armsFor(definition, p.journeyId, p.profileId),
  }).catch((error) => {
    deps.log.warn('analytics trail not read', { error: (error as Error).name });
    return undefined;
  });
}

/** Stops one execution and records it; false when it was not running any more. */
export async function stopFor(
  deps: StopDeps,
  p: PresenceRecord,
  why: StopReason,
  detail?: { event?: string; messageId?: string },
): Promise<boolean> {
  const arn = p.executionArn;
  if (!arn) return false;
  const stopped = await deps.executions.stop(
    arn,
    why === 'goal' ? `${cause.goal}: ${p.goal?.event}` : cause[why],
  );
  const removal = { profileId: p.profileId, executionName: p.executionName, entryData: p.entryData === true };
  if (!stopped) {
    // It ended on its own: its presence (and entry data) may have been written again by a late retry
    // of its entry. One request either way (a transaction when both go).
    if (why !== 'erased')
      await deps.store.writeStep({ journeyId: p.journeyId, deltas: [], presence: { remove: removal } });
    return false;
  }
  const deltas: StatDelta[] = [{ counter: journeyCounter[why] }];
  const waitingNode = p.waiting?.nodeId;
  if (waitingNode) {
    deltas.push(
      { nodeId: waitingNode, counter: 'waiting', by: -1 },
      { nodeId: waitingNode, counter: 'exited' },
    );
  } else {
    deltas.push(...(await parkedDeltas(deps, p, arn)));
  }
  const parkedIn = waitingNode ?? deltas.find((delta) => delta.counter === 'exited' && delta.nodeId)?.nodeId;
  if (why === 'erased') {
    await deps.store.addStats(p.journeyId, deltas);
  } else {
    const end = await endCounters(deps, p, why, parkedIn);
    // One request: presence removed, counters, timeline entry, analytics.
    await deps.store.writeStep({
      ...(end && { analytics: { end } }),
      journeyId: p.journeyId,
      deltas,
      presence: { remove: removal },
      timeline: presenceStepEntry(p, deps.clock.now(), {
        nodeId: parkedIn ?? '',
        nodeType: why,
        outcome: outcome[why],
        ...(detail?.event && { detail: detail.event }),
      }),
    });
  }
  deps.log.info(`execution stopped: ${cause[why]}`, {
    execution: p.executionName,
    ...(detail?.messageId && { messageId: detail.messageId }),
  });
  return true;
}
