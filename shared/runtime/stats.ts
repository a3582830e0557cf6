import type { StepResult } from '../journeys/execution.js';
import { walkWithoutSteps } from '../journeys/graph.js';
import type { Journey } from '../journeys/schema.js';
import type { StepRequest } from '../journeys/step.js';
import type { StatDelta } from './types.js';

/**
 * The counter changes of a journey's nodes. A step counts its own node, and the nodes that never
 * call the step (waits for a duration, splits), from `input.last` and `walkWithoutSteps`: entering
 * them when the step before routes to them, leaving them when the next step runs. The start counts
 * the nodes entered before the first step.
 */

/** Outcomes during which the customer stays in the node (the execution waits there). */
const waitingOutcomes = new Set(['waiting', 'scheduled']);
/**
 * Whether the step before counted the nodes between it and this one. It did not when the customer
 * waited in it: a wait-until (`scheduled`), or a waitFor whose `$.last` the ASL fixes on resume
 * (`matched`) or timeout (`timedOut`). A branch that returns `matched` did count them.
 */
function stepBeforeCounted(journey: Journey, last: NonNullable<StepRequest['input']['last']>): boolean {
  if (last.outcome === 'scheduled') return false;
  const waitedForEvent = journey.nodes[last.nodeId]?.type === 'waitFor';
  return !(waitedForEvent && (last.outcome === 'matched' || last.outcome === 'timedOut'));
}

/** The counter changes for one step call, including the nodes passed without a step. */
export function stepDeltas(
  journey: Journey,
  request: Pick<StepRequest, 'nodeId' | 'action' | 'input'>,
  result: StepResult,
): StatDelta[] {
  const deltas: StatDelta[] = [];
  const profileId = request.input.profileId;
  const last = request.input.last;
  // Leaving the node the customer waited in before this step (a resumed waitFor is counted by the reactor).
  if (last?.outcome === 'scheduled') {
    deltas.push(
      { nodeId: last.nodeId, counter: 'waiting', by: -1 },
      { nodeId: last.nodeId, counter: 'completed' },
    );
  }
  if (last?.outcome === 'timedOut') {
    deltas.push(
      { nodeId: last.nodeId, counter: 'waiting', by: -1 },
      { nodeId: last.nodeId, counter: 'timedOut' },
      { nodeId: last.nodeId, counter: 'completed' },
    );
  }
  // Nodes passed without a step since the last one.
  const from = last ? (last.next ?? undefined) : journey.start;
  if (from !== undefined && from !== request.nodeId) {
    // The start (reactor) counted the nodes before the first step; the step before counted the others.
    const countedBefore = last === undefined || stepBeforeCounted(journey, last);
    for (const passed of walkWithoutSteps(journey, from, profileId).passed) {
      if (countedBefore) {
        if (passed.type === 'wait') {
          deltas.push(
            { nodeId: passed.nodeId, counter: 'waiting', by: -1 },
            { nodeId: passed.nodeId, counter: 'completed' },
          );
        }
        continue;
      }
      deltas.push(
        { nodeId: passed.nodeId, counter: 'entered' },
        { nodeId: passed.nodeId, counter: 'completed' },
      );
      if (passed.branchIndex !== undefined)
        deltas.push({ nodeId: passed.nodeId, counter: `branch:${passed.branchIndex}` });
    }
  }
  // This node.
  const nodeId = request.nodeId;
  if (request.action === 'fail') {
    deltas.push({ nodeId, counter: 'failed' }, { counter: 'failed' });
    return deltas;
  }
  deltas.push({ nodeId, counter: 'entered' });
  if (waitingOutcomes.has(result.outcome)) deltas.push({ nodeId, counter: 'waiting' });
  else deltas.push({ nodeId, counter: 'completed' });
  if (result.outcome === 'skipped') deltas.push({ nodeId, counter: 'skipped' });
  if (result.outcome === 'sent') deltas.push({ nodeId, counter: 'sent' });
  if (result.outcome === 'rejected') deltas.push({ nodeId, counter: 'failed' });
  if (result.outcome === 'matched') deltas.push({ nodeId, counter: `branch:${result.caseIndex ?? 0}` });
  if (result.outcome === 'default') deltas.push({ nodeId, counter: 'branch:default' });
  if (journey.nodes[nodeId]?.type === 'exit') deltas.push({ counter: 'finished' });
  // Nodes the customer goes into next without a step: entering them now (leaving them at the next step).
  if (result.next && !waitingOutcomes.has(result.outcome)) {
    deltas.push(...enteringDeltas(journey, result.next, profileId));
  }
  return deltas;
}

/**
 * Entering the nodes a customer goes into from `from` without a step (waits for a duration,
 * splits): a wait is entered and waited in, a split entered, passed and its branch counted.
 * Leaving a wait is counted by the next step. Used by the step and by the journey start.
 */
export function enteringDeltas(journey: Journey, from: string, profileId: string): StatDelta[] {
  const deltas: StatDelta[] = [];
  for (const passed of walkWithoutSteps(journey, from, profileId).passed) {
    deltas.push({ nodeId: passed.nodeId, counter: 'entered' });
    deltas.push({ nodeId: passed.nodeId, counter: passed.type === 'wait' ? 'waiting' : 'completed' });
    if (passed.branchIndex !== undefined)
      deltas.push({ nodeId: passed.nodeId, counter: `branch:${passed.branchIndex}` });
  }
  return deltas;
}
