/**
 * An execution's trail: the nodes it went through, in order, with when it entered each. Built when
 * the execution ends, from its journey-step timeline entries (one Query on the profile's timeline
 * since the entry) and the journey graph: nodes that never call the step (waits for a duration,
 * splits) are filled in between the recorded steps. The route through a split is the one that leads
 * to the next recorded step; when both arms lead there (arms that meet again before any step, e.g.
 * two waits), the arm the execution took (`arms`, from the split hashes) decides.
 */
import { callsStep } from '../journeys/graph.js';
import { nodeModule } from '../journeys/nodes/index.js';
import type { Journey } from '../journeys/schema.js';
import type { TrailStep } from './counters.js';

/** The part of a timeline entry the trail needs. */
export interface TrailEntry {
  nodeId: string;
  /** Stop markers (`converted`, `exited`) are not steps. */
  outcome: string;
  /** ISO-8601. */
  at: string;
}

/** Outcomes of the entries a goal / exitOn stop writes: markers, not steps. */
// A held message's step is recorded again when it is sent (or skipped): the node counts once.
const stopOutcomes = new Set(['converted', 'exited', 'removed', 'erased', 'held']);

type Graph = Pick<Journey, 'start' | 'nodes'>;
/** The arm each split sent the execution down: split node id → the `next` of its branch. */
export type ArmsTaken = Readonly<Record<string, string>>;

function targets(journey: Graph, nodeId: string, arms?: ArmsTaken): string[] {
  const node = journey.nodes[nodeId];
  if (!node) return [];
  const all = nodeModule(node.type)
    .links(node)
    .map((link) => link.target);
  // The arm taken first; the others after it, in case it was computed from a merged-away profile id.
  const arm = node.type === 'split' ? arms?.[nodeId] : undefined;
  return arm !== undefined && all.includes(arm) ? [arm, ...all.filter((next) => next !== arm)] : all;
}

/**
 * The nodes without a step from `from` up to `target` (a step node: `target` last; a node without a
 * step: up to and including it); undefined when `target` is not reached that way.
 */
function routeTo(
  journey: Graph,
  from: string,
  target: string,
  arms: ArmsTaken | undefined,
  seen = new Set<string>(),
): string[] | undefined {
  if (from === target) return [from];
  const node = journey.nodes[from];
  if (!node || seen.has(from) || callsStep(node)) return undefined;
  seen.add(from);
  for (const next of targets(journey, from, arms)) {
    const rest = routeTo(journey, next, target, arms, seen);
    if (rest) return [from, ...rest];
  }
  return undefined;
}

/**
 * The trail from the start to where the execution is now. `entries` are the execution's timeline
 * entries in any order (stop markers and resume entries are skipped); `endNode`, when known, is the
 * node it ended in (a wait it was parked in when a goal stopped it), added with the nodes before it;
 * `arms`, when known, the arm each split took.
 */
export function trailOf(
  journey: Graph,
  input: { enteredAt: number; entries: readonly TrailEntry[]; endNode?: string; arms?: ArmsTaken },
): TrailStep[] {
  const remaining = input.entries
    .filter((entry) => !stopOutcomes.has(entry.outcome) && journey.nodes[entry.nodeId])
    .map((entry) => ({ nodeId: entry.nodeId, at: Date.parse(entry.at) }))
    .sort((a, b) => a.at - b.at);
  const trail: TrailStep[] = [];
  let candidates = [journey.start];
  let since = input.enteredAt;
  const routeFrom = (target: string) => {
    for (const candidate of candidates) {
      const route = routeTo(journey, candidate, target, input.arms);
      if (route) return route;
    }
    return undefined;
  };
  while (candidates.length > 0) {
    // The earliest recorded step reachable from here (steps of one instant may be stored in any order).
    let index = -1;
    let route: string[] | undefined;
    for (let i = 0; i < remaining.length && !route; i++) {
      route = routeFrom(remaining[i]!.nodeId);
      if (route) index = i;
    }
    if (!route) {
      if (input.endNode !== undefined) {
        const end = routeFrom(input.endNode);
        if (end) for (const nodeId of end) trail.push({ nodeId, at: since });
      }
      break;
    }
    const [next] = remaining.splice(index, 1);
    for (const nodeId of route.slice(0, -1)) trail.push({ nodeId, at: since });
    trail.push(next!);
    // A resumed waitFor records the same node again: one visit.
    while (remaining[0]?.nodeId === next!.nodeId) remaining.shift();
    since = next!.at;
    candidates = targets(journey, next!.nodeId, input.arms);
  }
  return trail;
}
