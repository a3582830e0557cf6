/**
 * `split`: weighted, stable per customer. A Pass state hashes profileId/journeyId/nodeId with
 * States.Hash (SHA-256, hex) into `$.splits[<node>].hash`, a Choice compares the hash's leading 32
 * bits with the cumulative weights. No Lambda; the same customer always lands in the same branch.
 * A `holdout` branch sends nothing: message steps see it through `isHeldOut`.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { nodeId } from '../fields.js';
import { linksOfEach, type NodeModule } from './types.js';

export const splitNodeSchema = z
  .strictObject({
    type: z.literal('split'),
    branches: z
      .array(
        z.strictObject({
          weight: z.number().min(0).max(100).describe('Percent of customers, the weights add up to 100.'),
          next: nodeId,
          holdout: z.boolean().optional().describe('Control group: message nodes after it send nothing.'),
          name: z.string().max(64).optional().describe('Label in stats.'),
        }),
      )
      .min(1),
  })
  .superRefine((node, ctx) => {
    const total = node.branches.reduce((sum, branch) => sum + branch.weight, 0);
    if (Math.abs(total - 100) > 1e-9) {
      ctx.addIssue({
        code: 'custom',
        message: `weights add up to ${Number(total.toFixed(6))}, they must add up to 100`,
        path: ['branches'],
      });
    }
  })
  .describe('Send each customer down one branch, by weight, always the same one for the same customer.');
export type SplitNode = z.infer<typeof splitNodeSchema>;

/** Digits of the hash the Choice compares: 8 hex digits = 32 bits, a resolution of 1 in 4 billion. */
const PREFIX_DIGITS = 8;

/** The string the split's Pass state hashes; keep in step with `compile`. */
export function splitHashInput(profileId: string, journeyId: string, nodeId: string): string {
  return `${profileId}/${journeyId}/${nodeId}`;
}

/** What `States.Hash(…, 'SHA-256')` yields in the split's Pass state: lowercase hex. */
export function splitHash(profileId: string, journeyId: string, nodeId: string): string {
  return createHash('sha256')
    .update(splitHashInput(profileId, journeyId, nodeId))
    .digest('hex');
}

/** Upper bounds (exclusive, 8 hex digits) of every branch but the last with weight; the last one is the Choice default. */
export function splitThresholds(node: SplitNode): { index: number; below: string | null }[] {
  const weighted = node.branches.map((branch, index) => ({ ...branch, index })).filter((b) => b.weight > 0);
  let cumulative = 0;
  return weighted.map((branch, position) => {
    cumulative += branch.weight;
    if (position === weighted.length - 1) return { index: branch.index, below: null };
    const bound = Math.min(Math.round((cumulative / 100) * 2 ** 32), 2 ** 32 - 1);
    return { index: branch.index, below: bound.toString(16).padStart(PREFIX_DIGITS, '0') };
  });
}

/**
 * The branch a hash falls in, exactly as the compiled Choice decides: the first threshold the hash
 * is lexicographically below (for equal-length lowercase hex that is numeric order on the prefix).
 */
export function splitBranchIndex(node: SplitNode, hash: string): number {
  const thresholds = splitThresholds(node);
  for (const threshold of thresholds) {
    if (threshold.below === null || hash < threshold.below) return threshold.index;
  }
  return thresholds.at(-1)?.index ?? 0;
}

export function splitChoiceStateName(nodeId: string): string {
  return `${nodeId}.choice`;
}

export const splitNode: NodeModule<SplitNode> = {
  type: 'split',
  schema: splitNodeSchema,
  links: (node) => linksOfEach(node.branches, 'branches'),
  pauses: false,
  // A Pass state hashes the profile id; the branch is counted by the next step.
  callsStep: () => false,
  needsProfile: () => false,
  stats: {
    branchLabel(node, key) {
      const branch = node.branches[Number(key)];
      return branch && (branch.name ?? branch.next);
    },
  },
  compile(id, node, { journeyId }) {
    const thresholds = splitThresholds(node);
    const last = thresholds.at(-1)!;
    const hashPath = `$.splits['${id}'].hash`;
    return {
      [id]: {
        Type: 'Pass',
        Parameters: {
          'hash.$': `States.Hash(States.Format('{}/${journeyId}/${id}', $.profileId), 'SHA-256')`,
        },
        ResultPath: `$.splits['${id}']`,
        Next: thresholds.length > 1 ? splitChoiceStateName(id) : node.branches[last.index]!.next,
      },
      ...(thresholds.length > 1
        ? {
            [splitChoiceStateName(id)]: {
              Type: 'Choice',
              Choices: thresholds
                .filter((t) => t.below !== null)
                .map((t) => ({
                  Variable: hashPath,
                  StringLessThan: t.below,
                  Next: node.branches[t.index]!.next,
                })),
              Default: node.branches[last.index]!.next,
            },
          }
        : {}),
    };
  },
};
