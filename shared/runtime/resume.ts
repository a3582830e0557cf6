import type { Clock } from '../clock.js';
import type { RuntimeStore } from './store.js';
import { presenceStepEntry } from './timeline-store.js';
import type { ExecutionService, PresenceRecord, RuntimeEvent } from './types.js';

/**
 * Resuming an execution waiting in a `waitFor` for this event: SendTaskSuccess with the stored
 * token, then the token cleared, counters and a timeline entry in one request.
 */

export interface ResumeDeps {
  executions: Pick<ExecutionService, 'sendTaskSuccess'>;
  store: Pick<RuntimeStore, 'clearWaiting' | 'writeStep'>;
  clock: Clock;
}

export async function resume(deps: ResumeDeps, p: PresenceRecord, event: RuntimeEvent): Promise<boolean> {
  const waiting = p.waiting!;
  // Ids only: the output stays in the execution's history (90 days), and the state machine does not
  // use it (the waitFor Task's result is fixed), so the awaited event's properties never go there.
  const output = { event: { event: event.event, messageId: event.messageId } };
  const accepted = await deps.executions.sendTaskSuccess(waiting.token, output);
  // Cleared after sending: if sending failed, a redelivered event still finds the token.
  if (!accepted) {
    await deps.store.clearWaiting(p.profileId, p.executionName, waiting.token);
    return false;
  }
  // One request: token cleared (if still this one), counters, timeline entry.
  await deps.store.writeStep({
    journeyId: p.journeyId,
    deltas: [
      { nodeId: waiting.nodeId, counter: 'waiting', by: -1 },
      { nodeId: waiting.nodeId, counter: 'resumed' },
      { nodeId: waiting.nodeId, counter: 'completed' },
    ],
    presence: {
      clearWaiting: { profileId: p.profileId, executionName: p.executionName, token: waiting.token },
    },
    timeline: presenceStepEntry(p, deps.clock.now(), {
      nodeId: waiting.nodeId,
      nodeType: 'waitFor',
      outcome: 'resumed',
      ...(event.event !== undefined && { detail: event.event }),
    }),
  });
  return true;
}
