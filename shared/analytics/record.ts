/**
 * What the runtime adds to analytics, computed next to its own writes: the transition record of a
 * step, and when an execution ends (exit, failure, goal, exitOn) the counters of its trail. Only the
 * end reads anything (one Query of the execution's timeline entries); every write rides in the
 * step's existing request.
 */
import type { ExecutionState } from '../journeys/execution.js';
import { splitBranchIndex, splitHash } from '../journeys/nodes/split.js';
import type { Journey } from '../journeys/schema.js';
import { armConversions, type EndKind, endCounters } from './counters.js';
import type { AnalyticsReader, AnalyticsWrite, TransitionRecord } from './store.js';
import { type ArmsTaken, trailOf } from './trail.js';

/** The arm each split sent the execution down (split id → the branch's `next`), from the hashes the split states stored. */
export function armsOf(journey: Pick<Journey, 'nodes'>, splits: ExecutionState['splits']): ArmsTaken {
  const arms: Record<string, string> = {};
  for (const [splitId, { hash }] of Object.entries(splits ?? {})) {
    const node = journey.nodes[splitId];
    if (node?.type !== 'split') continue;
    const branch = node.branches[splitBranchIndex(node, hash)];
    if (branch) arms[splitId] = branch.next;
  }
  return arms;
}

/**
 * The arms a customer takes at every split of the journey: the split states hash the execution's
 * profile id (shared/journeys/nodes/split.ts), so a stop, which has no execution input, computes them.
 */
export function armsFor(journey: Pick<Journey, 'nodes'>, journeyId: string, profileId: string): ArmsTaken {
  const splits: NonNullable<ExecutionState['splits']> = {};
  for (const [nodeId, node] of Object.entries(journey.nodes)) {
    if (node.type === 'split') splits[nodeId] = { hash: splitHash(profileId, journeyId, nodeId) };
  }
  return armsOf(journey, splits);
}

/** Split arms taken so far (`<split>:<next>` joined by `,`), from the hashes the split states stored. */
export function armsTaken(
  journey: Pick<Journey, 'nodes'>,
  splits: ExecutionState['splits'],
): string | undefined {
  const arms = Object.entries(armsOf(journey, splits)).map(([splitId, next]) => `${splitId}:${next}`);
  return arms.length > 0 ? arms.sort().join(',') : undefined;
}

/** The counters an ending execution adds, from its timeline entries (one Query). */
export async function endOfExecution(
  reader: Pick<AnalyticsReader, 'executionEntries'>,
  journey: Pick<Journey, 'start' | 'nodes'>,
  input: {
    profileId: string;
    executionName: string;
    /** Epoch ms the execution entered. */
    enteredAt: number;
    how: EndKind;
    /** The node it ends in when that node wrote no entry of its own (a wait it was parked in). */
    endNode?: string;
    /** The ending step's own entry, not stored yet when this runs. */
    current?: { nodeId: string; outcome: string; at: number };
    /** The arm each split took (decides between arms that meet again before any step). */
    arms?: ArmsTaken;
  },
): Promise<Record<string, number>> {
  const entries = await reader.executionEntries(
    input.profileId,
    input.executionName,
    new Date(input.enteredAt).toISOString(),
  );
  const all = input.current
    ? [...entries, { ...input.current, nodeType: '', at: new Date(input.current.at).toISOString() }]
    : entries;
  const trail = trailOf(journey, {
    enteredAt: input.enteredAt,
    entries: all,
    ...(input.endNode && { endNode: input.endNode }),
    ...(input.arms && { arms: input.arms }),
  });
  return {
    ...endCounters(trail, input.how),
    ...(input.how === 'goal' ? armConversions(trail, journey) : {}),
  };
}

/** The analytics part of a step's write: its transition record, and the end counters at an exit or failure. */
export async function stepAnalytics(
  reader: Pick<AnalyticsReader, 'executionEntries'> | undefined,
  journey: Journey,
  step: {
    journeyId: string;
    version: number;
    executionName: string;
    nodeId: string;
    outcome: string;
    state: ExecutionState;
    /** The profile the step's timeline entries are stored under. */
    profileId: string;
    ending?: 'exit' | 'failed';
    now: number;
  },
): Promise<AnalyticsWrite> {
  const arm = armsTaken(journey, step.state.splits);
  const transition: TransitionRecord = {
    journeyId: step.journeyId,
    version: step.version,
    executionName: step.executionName,
    ...(step.state.last?.nodeId && { from: step.state.last.nodeId }),
    to: step.nodeId,
    outcome: step.outcome,
    ...(arm && { arm }),
    at: step.now,
  };
  if (!step.ending || !reader) return { transition };
  const enteredAt = step.state.enteredAt ? Date.parse(step.state.enteredAt) : 0;
  const end = await endOfExecution(reader, journey, {
    profileId: step.profileId,
    executionName: step.executionName,
    enteredAt,
    how: step.ending,
    current: { nodeId: step.nodeId, outcome: step.outcome, at: step.now },
    arms: armsOf(journey, step.state.splits),
  });
  return { transition, end };
}
