/**
 * Compiles a validated journey to one Amazon States Language document (JSONPath), states named
 * after the nodes. The document is deterministic: the same journey gives the same bytes.
 */
import { stableHash } from '../ids.js';
import { type AslDefinition, type AslState, FAILED_STATE } from './asl.js';
import { type NodeType, nodeModule } from './nodes/index.js';
import type { Journey } from './schema.js';

export interface CompileOptions {
  /** Written in the Comment; the version a step runs for comes from the execution input. */
  version?: number;
}

export function compileJourney(journey: Journey, options: CompileOptions = {}): AslDefinition {
  const states: Record<string, AslState> = {};
  for (const id of nodeOrder(journey)) {
    const node = journey.nodes[id]!;
    Object.assign(states, nodeModule(node.type).compile(id, node, { journeyId: journey.id }));
  }
  states[FAILED_STATE] = {
    Type: 'Fail',
    Error: 'JourneyStepFailed',
    Cause: 'A journey step failed after its retries; the step recorded the error for this node.',
  };
  const version = options.version === undefined ? '' : ` v${options.version}`;
  return {
    Comment: `Cairn journey ${journey.id}${version}: ${journey.name}`,
    QueryLanguage: 'JSONPath',
    StartAt: journey.start,
    States: states,
  };
}

/** Nodes in the order a reader follows them: breadth first from start, then any left in document order. */
function nodeOrder(journey: Journey): string[] {
  const order = [journey.start];
  const seen = new Set(order);
  for (let i = 0; i < order.length; i++) {
    const node = journey.nodes[order[i]!];
    if (!node) continue;
    for (const link of nodeModule(node.type).links(node)) {
      if (!seen.has(link.target) && journey.nodes[link.target]) {
        seen.add(link.target);
        order.push(link.target);
      }
    }
  }
  return [...order, ...Object.keys(journey.nodes).filter((id) => !seen.has(id))].filter(
    (id) => journey.nodes[id],
  );
}

/** Execution names allow letters, digits, - and _ (≤ 80). The hash makes duplicate entries idempotent. */
export function executionName(
  journeyId: string,
  version: number,
  profileId: string,
  entryKey: string,
): string {
  const hash = stableHash(profileId, entryKey).slice(0, 22);
  const prefix = `${journeyId}-v${version}-`.slice(0, 80 - hash.length);
  return `${prefix}${hash}`;
}

/**
 * State transitions each node costs on its common path (what AWS bills): from the node's state,
 * through its helper states, until the next node's state or the end. Failure routes are not
 * common paths, nor a held message's Wait; a waitFor's timeout route is. Returns the maximum over a
 * node's paths.
 */
export function commonPathTransitions(asl: AslDefinition): Record<string, number> {
  const isNodeState = (name: string) => !name.includes('.');
  // Off the common path: failure routes, and a message held for later (message.ts `holdStateName`).
  const isFailureRoute = (name: string) =>
    name.endsWith('.failed') || name === FAILED_STATE || name.endsWith('.hold');
  const successors = (state: AslState): string[] => {
    const targets: string[] = [];
    if (typeof state.Next === 'string') targets.push(state.Next);
    if (typeof state.Default === 'string') targets.push(state.Default);
    for (const choice of (state.Choices as { Next: string }[] | undefined) ?? []) targets.push(choice.Next);
    for (const catcher of (state.Catch as { Next: string }[] | undefined) ?? []) targets.push(catcher.Next);
    return targets.filter((target) => !isFailureRoute(target));
  };
  const cost = (name: string, depth: number): number => {
    const state = asl.States[name];
    if (!state || depth > 16) return 0;
    const helpers = successors(state).filter((target) => !isNodeState(target));
    return 1 + Math.max(0, ...helpers.map((helper) => cost(helper, depth + 1)));
  };
  const result: Record<string, number> = {};
  for (const name of Object.keys(asl.States)) {
    if (isNodeState(name)) result[name] = cost(name, 0);
  }
  return result;
}

/** Node kinds as the benchmark reports them: node types, with `wait` split by its form. */
export type NodeKind = Exclude<NodeType, 'wait'> | 'wait.for' | 'wait.until';

/** `commonPathTransitions` of a journey, the maximum per node kind (for reports). */
export function transitionsByNodeKind(
  journey: Journey,
  asl: AslDefinition = compileJourney(journey),
): Partial<Record<NodeKind, number>> {
  const perNode = commonPathTransitions(asl);
  const result: Partial<Record<NodeKind, number>> = {};
  for (const [id, node] of Object.entries(journey.nodes)) {
    const kind: NodeKind =
      node.type === 'wait' ? (node.for !== undefined ? 'wait.for' : 'wait.until') : node.type;
    result[kind] = Math.max(result[kind] ?? 0, perNode[id] ?? 0);
  }
  return result;
}
