/**
 * Pre-aggregated analytics counters: what the report reads instead of scanning executions.
 *
 * Two kinds of counter items per journey and UTC day (layout in shared/analytics/README.md):
 * - step counters: the same attributes as the all-time stats shards (`node|<id>|entered`, …,
 *   `journey|conversions`), added per day by the same request that adds them to the stats;
 * - end-of-execution counters, added when an execution ends (exit, goal, exitOn, failure), from its
 *   trail: `path|<a>b>c>|count|conversions`, `edge|<from>|<to>`, `arm|<split>|<next>|conversions`,
 *   `tn|<node>|<bucket>` and `tms|<node>|<bucket>` (count and ms sum of the times to the next node,
 *   statistics.ts `timeBucketOf`), `end|<node>|<how>`.
 *
 * Node ids are letters, digits, `_` and `-` (shared/journeys/fields.ts), so `|` and `>` separate safely.
 */
import type { Journey } from '../journeys/schema.js';
import { timeBucketOf } from './statistics.js';

/** How an execution ended: at an exit node, by its goal, by an exitOn event, or failed. */
export type EndKind = 'exit' | 'goal' | 'exitOn' | 'failed';

/** One node of an execution's trail, with when it was entered (epoch ms). */
export interface TrailStep {
  nodeId: string;
  at: number;
}

export const pathSeparator = '>';

export function pathKey(nodes: readonly string[]): string {
  return nodes.join(pathSeparator);
}

/**
 * The counters an execution adds when it ends, from its trail (nodes in the order entered; the last
 * one is where it ended) and how it ended.
 */
export function endCounters(trail: readonly TrailStep[], how: EndKind): Record<string, number> {
  const counters: Record<string, number> = {};
  const add = (key: string, by = 1) => {
    counters[key] = (counters[key] ?? 0) + by;
  };
  if (trail.length === 0) return counters;
  const path = pathKey(trail.map((step) => step.nodeId));
  add(`path|${path}|count`);
  if (how === 'goal') add(`path|${path}|conversions`);
  for (let i = 0; i < trail.length - 1; i++) {
    const from = trail[i]!;
    const to = trail[i + 1]!;
    add(`edge|${from.nodeId}|${to.nodeId}`);
    const ms = Math.max(0, to.at - from.at);
    const bucket = timeBucketOf(ms / 1000);
    add(`tn|${from.nodeId}|${bucket}`);
    add(`tms|${from.nodeId}|${bucket}`, ms);
  }
  const last = trail.at(-1)!;
  add(`end|${last.nodeId}|${how}`);
  return counters;
}

/** `arm|<split>|<next>|conversions` for every split on the trail (the arm is the node after it). */
export function armConversions(
  trail: readonly TrailStep[],
  journey: Pick<Journey, 'nodes'>,
): Record<string, number> {
  const counters: Record<string, number> = {};
  for (let i = 0; i < trail.length - 1; i++) {
    const node = journey.nodes[trail[i]!.nodeId];
    if (node?.type !== 'split') continue;
    const key = `arm|${trail[i]!.nodeId}|${trail[i + 1]!.nodeId}|conversions`;
    counters[key] = (counters[key] ?? 0) + 1;
  }
  return counters;
}

/** Adds counter maps (summing the items of a date range). */
export function sumCounters(items: Iterable<Record<string, unknown>>): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const item of items) {
    for (const [key, value] of Object.entries(item)) {
      if (typeof value === 'number' && key.includes('|')) totals[key] = (totals[key] ?? 0) + value;
    }
  }
  return totals;
}

/** UTC day of an instant, `yyyy-mm-dd`. */
export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
