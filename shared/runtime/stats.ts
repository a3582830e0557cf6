import type { StepResult } from '../journeys/execution.js';
import { walkWithoutSteps } from '../journeys/graph.js';
import { holdStateName } from '../journeys/nodes/message.js';
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
const waitingOutcomes = new Set(['waiting', 'scheduled', 'held']);
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
  // A held message's Task runs again after its Wait: the customer entered the node already and
  // waited in it; now they leave the wait (and are sent, skipped, held again or failed).
  if (last?.outcome === 'held' && last.nodeId === request.nodeId) {
    deltas.push({ nodeId: request.nodeId, counter: 'waiting', by: -1 });
    if (request.action === 'fail') {
      deltas.push({ nodeId: request.nodeId, counter: 'failed' }, { counter: 'failed' });
      return deltas;
    }
    deltas.push(...outcomeDeltas(journey, request.nodeId, result, profileId));
    return deltas;
  }
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
    // The start (reactor) counted the nodes before the first step, up to the first wait; the step
    // before counted the same. The nodes after that wait were reached only now: counted now.
    const countedBefore = last === undefined || stepBeforeCounted(journey, last);
    const { entering, after } = splitAtFirstWait(walkWithoutSteps(journey, from, profileId).passed);
    for (const passed of countedBefore ? [] : entering) deltas.push(...passedDeltas(passed));
    const firstWait = countedBefore ? entering.at(-1) : undefined;
    if (firstWait?.type === 'wait') {
      deltas.push(
        { nodeId: firstWait.nodeId, counter: 'waiting', by: -1 },
        { nodeId: firstWait.nodeId, counter: 'completed' },
      );
    }
    for (const passed of after) deltas.push(...passedDeltas(passed));
  }
  // This node.
  const nodeId = request.nodeId;
  // Every customer who enters a node is in exactly one of completed, waiting, failed, skipped or
  // exited (a stop): `entered` is always their sum.
  deltas.push({ nodeId, counter: 'entered' });
  if (request.action === 'fail') {
    deltas.push({ nodeId, counter: 'failed' }, { counter: 'failed' });
    return deltas;
  }
  deltas.push(...outcomeDeltas(journey, nodeId, result, profileId));
  return deltas;
}

/** How the node's step ended for the customer, and the nodes entered after it without a step. */
function outcomeDeltas(journey: Journey, nodeId: string, result: StepResult, profileId: string): StatDelta[] {
  const deltas: StatDelta[] = [];
  if (waitingOutcomes.has(result.outcome)) deltas.push({ nodeId, counter: 'waiting' });
  else if (result.outcome === 'skipped') deltas.push({ nodeId, counter: 'skipped' });
  // A webhook answered 4xx: the customer goes on, the node counts a failure.
  else if (result.outcome === 'rejected') deltas.push({ nodeId, counter: 'failed' });
  else deltas.push({ nodeId, counter: 'completed' });
  if (result.outcome === 'sent') deltas.push({ nodeId, counter: 'sent' });
  if (result.outcome === 'sent' && result.parts) deltas.push({ nodeId, counter: 'parts', by: result.parts });
  // Messages: why they were skipped (`skippedBy`) or held (`heldBy`), by the gateway's reasons.
  if (journey.nodes[nodeId] && isMessageOutcome(result)) {
    deltas.push({ nodeId, counter: `${result.outcome}:${result.reason}` });
    if (result.outcome === 'held') deltas.push({ nodeId, counter: 'held' });
  }
  if (result.outcome === 'matched') deltas.push({ nodeId, counter: `branch:${result.caseIndex ?? 0}` });
  if (result.outcome === 'default') deltas.push({ nodeId, counter: 'branch:default' });
  if (journey.nodes[nodeId]?.type === 'exit') deltas.push({ counter: 'finished' });
  // Nodes the customer goes into next without a step: entering them now (leaving them at the next step).
  if (result.next && !waitingOutcomes.has(result.outcome)) {
    deltas.push(...enteringDeltas(journey, result.next, profileId));
  }
  return deltas;
}

function isMessageOutcome(
  result: StepResult,
): result is StepResult & { outcome: 'skipped' | 'held'; reason: string } {
  return (result.outcome === 'skipped' || result.outcome === 'held') && typeof result.reason === 'string';
}

type PassedNode = ReturnType<typeof walkWithoutSteps>['passed'][number];

/**
 * The nodes passed without a step, split after the first wait: the customer reaches those up to it
 * at once (`entering`), the others only when that wait is over (`after`), which no step hears of
 * until the next one runs.
 */
function splitAtFirstWait(passed: PassedNode[]): { entering: PassedNode[]; after: PassedNode[] } {
  const wait = passed.findIndex((node) => node.type === 'wait');
  return wait < 0
    ? { entering: passed, after: [] }
    : { entering: passed.slice(0, wait + 1), after: passed.slice(wait + 1) };
}

/** A node passed through (entered and left) without a step; a split's branch counted. */
function passedDeltas(passed: PassedNode): StatDelta[] {
  return [
    { nodeId: passed.nodeId, counter: 'entered' },
    { nodeId: passed.nodeId, counter: 'completed' },
    ...(passed.branchIndex === undefined
      ? []
      : [{ nodeId: passed.nodeId, counter: `branch:${passed.branchIndex}` } as StatDelta]),
  ];
}

/**
 * Entering the nodes a customer goes into from `from` without a step (waits for a duration,
 * splits), up to the first wait: splits before it are entered, passed and their branch counted, the
 * wait is entered and waited in. Leaving it, and the nodes after it, are counted by the next step
 * (or the stop). Used by the step and by the journey start.
 */
export function enteringDeltas(journey: Journey, from: string, profileId: string): StatDelta[] {
  const deltas: StatDelta[] = [];
  for (const passed of splitAtFirstWait(walkWithoutSteps(journey, from, profileId).passed).entering) {
    if (passed.type !== 'wait') {
      deltas.push(...passedDeltas(passed));
      continue;
    }
    deltas.push({ nodeId: passed.nodeId, counter: 'entered' }, { nodeId: passed.nodeId, counter: 'waiting' });
  }
  return deltas;
}

/**
 * The counter changes of stopping an execution (a goal, an exit event, a removal, an erasure) that
 * is parked outside a waitFor, from the states it entered since its last step (`trail`, oldest
 * first, node ids and helper states as the ASL names them; `lastStep` undefined = since the start):
 * what the next step would have counted for the nodes passed, and the node it is parked in exited.
 */
export function stopDeltas(
  journey: Journey,
  profileId: string,
  lastStep: string | undefined,
  trail: string[],
): StatDelta[] {
  const deltas: StatDelta[] = [];
  const parkedIn = trail.at(-1);
  const lastNode = lastStep === undefined ? undefined : journey.nodes[lastStep];
  let countedBefore = lastStep === undefined;
  if (lastStep !== undefined && lastNode) {
    if (parkedIn === holdStateName(lastStep)) {
      // A held message: its step counted it as waiting, in its own node.
      return [
        { nodeId: lastStep, counter: 'waiting', by: -1 },
        { nodeId: lastStep, counter: 'exited' },
      ];
    }
    if (trail[0] === `${lastStep}.until`) {
      // A wait until: its step counted it as waiting.
      if (parkedIn === trail[0]) {
        return [
          { nodeId: lastStep, counter: 'waiting', by: -1 },
          { nodeId: lastStep, counter: 'exited' },
        ];
      }
      deltas.push(
        { nodeId: lastStep, counter: 'waiting', by: -1 },
        { nodeId: lastStep, counter: 'completed' },
      );
    } else if (lastNode.type === 'waitFor') {
      // Resumed (the reactor counted it) or timed out (the next step would count it).
      if (trail[0] === `${lastStep}.timeout`) {
        deltas.push(
          { nodeId: lastStep, counter: 'waiting', by: -1 },
          { nodeId: lastStep, counter: 'timedOut' },
          { nodeId: lastStep, counter: 'completed' },
        );
      }
    } else {
      countedBefore = true;
    }
  }
  const nodes = trail.filter((name) => journey.nodes[name] !== undefined && !name.includes('.'));
  const parked = nodes.at(-1);
  if (parked === undefined || journey.nodes[parked]?.type !== 'wait' || parkedIn !== parked) return deltas;
  const from = nodes[0]!;
  const passed = walkWithoutSteps(journey, from, profileId).passed;
  const until = passed.findIndex((node) => node.nodeId === parked);
  if (until < 0) return deltas;
  const { entering, after } = splitAtFirstWait(passed.slice(0, until + 1));
  for (const node of countedBefore ? [] : entering) {
    deltas.push(
      ...(node.nodeId === parked
        ? [{ nodeId: parked, counter: 'entered' } as StatDelta]
        : passedDeltas(node)),
    );
  }
  const firstWait = countedBefore ? entering.at(-1) : undefined;
  if (firstWait?.type === 'wait') {
    deltas.push(
      { nodeId: firstWait.nodeId, counter: 'waiting', by: -1 },
      ...(firstWait.nodeId === parked
        ? []
        : [{ nodeId: firstWait.nodeId, counter: 'completed' } as StatDelta]),
    );
  }
  for (const node of after) {
    deltas.push(
      ...(node.nodeId === parked
        ? [{ nodeId: parked, counter: 'entered' } as StatDelta]
        : passedDeltas(node)),
    );
  }
  deltas.push({ nodeId: parked, counter: 'exited' });
  return deltas;
}
