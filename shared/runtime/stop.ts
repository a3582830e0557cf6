import type { Clock } from '../clock.js';
import type { Journey } from '../journeys/schema.js';
import type { Logger } from '../log.js';
import type { RuntimeStore } from './store.js';
import type { ExecutionService, JourneySource, PresenceRecord, RuntimeEvent, StatDelta } from './types.js';

/**
 * Stopping an execution whose goal or exit event arrived: StopExecution, then presence removed,
 * counters (conversion or exit, the waiting gauge of the node it was parked in) and a timeline entry
 * in one request.
 */

export interface StopDeps {
  journeys: Pick<JourneySource, 'getVersion'>;
  executions: ExecutionService;
  store: Pick<RuntimeStore, 'removePresence' | 'writeStep'>;
  clock: Clock;
  log: Logger;
}

/**
 * The wait node a stopped execution was parked in (a `wait for`, or a `wait until` after its step),
 * whose `waiting` gauge must go down: one GetExecutionHistory, only when stopping outside a waitFor.
 */
async function waitStateOf(deps: StopDeps, p: PresenceRecord, arn: string): Promise<string | undefined> {
  if (!deps.executions.currentState) return undefined;
  const state = await deps.executions.currentState(arn).catch(() => undefined);
  if (!state) return undefined;
  const [nodeId, helper] = state.split('.');
  if (helper === 'until') return nodeId;
  // The version this execution runs, not the one published now: nodes can change between versions.
  const definition = await deps.journeys.getVersion(p.journeyId, p.version).catch(() => undefined);
  const node = (definition as Journey | undefined)?.nodes?.[state];
  return node?.type === 'wait' && helper === undefined ? state : undefined;
}

export async function stopFor(
  deps: StopDeps,
  p: PresenceRecord,
  why: 'goal' | 'exit',
  event: RuntimeEvent,
): Promise<void> {
  const arn = p.executionArn;
  if (!arn) return;
  const stopped = await deps.executions.stop(
    arn,
    why === 'goal' ? `goal reached: ${p.goal?.event}` : `exit event`,
  );
  const remove = { remove: { profileId: p.profileId, executionName: p.executionName } };
  if (!stopped) {
    await deps.store.removePresence(p.profileId, p.executionName);
    return;
  }
  const deltas: StatDelta[] = [{ counter: why === 'goal' ? 'conversions' : 'exited' }];
  const waitingNode = p.waiting?.nodeId ?? (await waitStateOf(deps, p, arn));
  if (waitingNode) deltas.push({ nodeId: waitingNode, counter: 'waiting', by: -1 });
  // One request: presence removed, counters, timeline entry.
  await deps.store.writeStep({
    journeyId: p.journeyId,
    deltas,
    presence: remove,
    timeline: {
      profileId: p.profileId,
      at: new Date(deps.clock.now()).toISOString(),
      kind: 'journey-step',
      journeyId: p.journeyId,
      journeyVersion: p.version,
      executionName: p.executionName,
      nodeId: waitingNode ?? '',
      nodeType: why,
      outcome: why === 'goal' ? 'converted' : 'exited',
      detail: event.event,
    },
  });
  deps.log.info(why === 'goal' ? 'goal reached' : 'exit event', {
    execution: p.executionName,
    messageId: event.messageId,
  });
}
