/**
 * The journey as a graph: the structural rules (every reference known, every node reachable, a
 * way out from everywhere, no loop without a wait) and the walk the runtime uses to record nodes
 * that never call the step Lambda (a `wait` for a duration, a `split`).
 */
import type { Issue } from '../errors.js';
import type { ExecutionState } from './execution.js';
import type { JourneyNode } from './nodes/index.js';
import { isNodeType, nodeModule } from './nodes/index.js';
import { splitBranchIndex, splitHash } from './nodes/split.js';
import type { Journey } from './schema.js';

interface RawGraph {
  start: unknown;
  nodes: Map<string, { type: string | undefined; edges: string[]; pauses: boolean }>;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Every structural problem, on input that may not have passed the schema (problems are reported together). */
export function graphIssues(input: unknown): Issue[] {
  const journey = asRecord(input);
  const rawNodes = asRecord(journey?.nodes);
  if (!journey || !rawNodes) return [];
  const issues: Issue[] = [];
  const graph: RawGraph = { start: journey.start, nodes: new Map() };
  for (const [id, value] of Object.entries(rawNodes)) {
    const node = asRecord(value);
    const type = node && isNodeType(node.type) ? node.type : undefined;
    const links = node && type ? nodeModule(type).links(node) : [];
    const edges: string[] = [];
    for (const link of links) {
      if (Object.hasOwn(rawNodes, link.target)) edges.push(link.target);
      else issues.push({ path: ['nodes', id, ...link.path], message: `unknown node '${link.target}'` });
    }
    graph.nodes.set(id, { type, edges, pauses: type ? nodeModule(type).pauses : false });
  }
  if (typeof graph.start === 'string' && !graph.nodes.has(graph.start)) {
    issues.push({ path: ['start'], message: `unknown node '${graph.start}'` });
  }

  if (typeof graph.start === 'string' && graph.nodes.has(graph.start)) {
    const reached = reachable([graph.start], (id) => graph.nodes.get(id)?.edges ?? []);
    for (const id of graph.nodes.keys()) {
      if (!reached.has(id))
        issues.push({ path: ['nodes', id], message: `is not reachable from start '${graph.start}'` });
    }
  }

  const incoming = new Map<string, string[]>();
  for (const [id, node] of graph.nodes) {
    for (const target of node.edges) incoming.set(target, [...(incoming.get(target) ?? []), id]);
  }
  const exits = [...graph.nodes].filter(([, node]) => node.type === 'exit').map(([id]) => id);
  const canExit = reachable(exits, (id) => incoming.get(id) ?? []);
  for (const [id, node] of graph.nodes) {
    if (node.type && !canExit.has(id)) {
      issues.push({ path: ['nodes', id], message: 'has no way out: no path from it leads to an exit node' });
    }
  }

  // A cycle is a busy loop unless a wait or waitFor is on it: look for cycles among the other nodes.
  for (const component of stronglyConnected(graph)) {
    const first = component[0]!;
    const selfLoop = component.length === 1 && graph.nodes.get(first)!.edges.includes(first);
    if (component.length > 1 || selfLoop) {
      issues.push({
        path: ['nodes', first],
        message: `is on a cycle without a wait (${[...component, first].join(' → ')}): add a wait or waitFor to it`,
      });
    }
  }
  return issues;
}

function reachable(from: string[], next: (id: string) => string[]): Set<string> {
  const seen = new Set(from);
  const queue = [...from];
  while (queue.length > 0) {
    for (const target of next(queue.shift()!)) {
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return seen;
}

/** Tarjan's strongly connected components over the nodes that do not pause, in document order. */
function stronglyConnected(graph: RawGraph): string[][] {
  const active = [...graph.nodes].filter(([, node]) => !node.pauses).map(([id]) => id);
  const inGraph = new Set(active);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (id: string) => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    for (const target of graph.nodes.get(id)!.edges) {
      if (!inGraph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(id, Math.min(low.get(id)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(id, Math.min(low.get(id)!, index.get(target)!));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.unshift(member);
      } while (member !== id);
      components.push(component.sort((a, b) => active.indexOf(a) - active.indexOf(b)));
    }
  };
  for (const id of active) if (!index.has(id)) visit(id);
  return components;
}

/** Whether a node calls the step Lambda when a customer enters it (its module says: all but `wait for` and `split`). */
export function callsStep(node: JourneyNode): boolean {
  return nodeModule(node.type).callsStep(node);
}

export interface PassedNode {
  nodeId: string;
  type: 'wait' | 'split';
  /** split: index of the branch taken. */
  branchIndex?: number;
}

/**
 * From `nodeId`, the nodes the customer goes through without a step call (waits for a duration,
 * splits, with the branch each split picks for this profile) and the first node that calls the
 * step (`reaches`). The runtime uses it to record transitions through nodes it never hears from:
 * when a step returns `next`, walk from `next`; when the next step is called, walk from `input.last.next`.
 */
export function walkWithoutSteps(
  journey: Journey,
  nodeId: string,
  profileId: string,
): { passed: PassedNode[]; reaches: string | null } {
  const passed: PassedNode[] = [];
  const seen = new Set<string>();
  let current: string | undefined = nodeId;
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    const node: JourneyNode | undefined = journey.nodes[current];
    if (!node) return { passed, reaches: null };
    if (callsStep(node)) return { passed, reaches: current };
    if (node.type === 'wait') {
      passed.push({ nodeId: current, type: 'wait' });
      current = node.next;
    } else if (node.type === 'split') {
      const hash = splitHash(profileId, journey.id, current);
      const branchIndex = splitBranchIndex(node, hash);
      passed.push({ nodeId: current, type: 'split', branchIndex });
      current = node.branches[branchIndex]?.next;
    }
  }
  return { passed, reaches: null };
}

/** Whether the customer took a split's holdout branch on the way here: message nodes then send nothing. */
export function isHeldOut(journey: Journey, state: Pick<ExecutionState, 'splits'>): boolean {
  for (const [splitId, { hash }] of Object.entries(state.splits ?? {})) {
    const node = journey.nodes[splitId];
    if (node?.type === 'split' && node.branches[splitBranchIndex(node, hash)]?.holdout) return true;
  }
  return false;
}
