import assert from 'node:assert/strict';
import type { NodeStats } from '../../shared/runtime/queries.js';

/**
 * The stats invariant: for every node, entered = completed + waiting + failed + skipped + exited, and
 * a split or branch never counts more branch choices than customers who entered it.
 */
export function assertNodesAddUp(stats: { nodes: Record<string, NodeStats> }, label = ''): void {
  for (const [nodeId, node] of Object.entries(stats.nodes)) {
    const sum = node.completed + node.waiting + node.failed + node.skipped + node.exited;
    assert.equal(node.entered, sum, `${label} node ${nodeId}: entered ≠ the sum in ${JSON.stringify(node)}`);
    const chosen = Object.values(node.branches ?? {}).reduce((a, b) => a + b, 0);
    assert.ok(chosen <= node.entered, `${label} node ${nodeId}: ${chosen} branch choices > entered`);
  }
}
