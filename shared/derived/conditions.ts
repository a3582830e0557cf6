/**
 * Conditions on derived values, one definition for journeys' `branch.when` (and segments' leaves):
 *   stage: [active, new]                              the profile's lifecycle stage is one of these
 *   score: { lead: { engagement: { ">=": 20 } } }     axes of a lead score (fit, engagement, total)
 *   score: { churnRisk: { ">=": 0.7 } }               the churn risk
 *   computed: { totalSpend: [{ numeric: [">", 100] }] }  EventBridge pattern on the computed traits
 * All comparisons given must hold; a score or value the profile does not have never matches.
 */
import * as z from 'zod';
import { type Comparison, compare, comparison } from '../comparison.js';
import { derivedId } from './schema.js';

const axes = z
  .object({ fit: comparison.optional(), engagement: comparison.optional(), total: comparison.optional() })
  .strict();

export const stageCondition = z
  .array(derivedId)
  .min(1)
  .describe('Lifecycle stages, e.g. [active, new]: the profile is in one of them.');

export const scoreCondition = z
  .record(derivedId, z.union([comparison, axes]))
  .refine((scores) => Object.keys(scores).length > 0, { message: 'names at least one score' })
  .superRefine((scores, ctx) => {
    for (const [id, condition] of Object.entries(scores)) {
      const isAxes = ['fit', 'engagement', 'total'].some((axis) => axis in condition);
      if (id === 'churnRisk' && isAxes)
        ctx.addIssue({
          code: 'custom',
          path: [id],
          message: 'churnRisk is a number: compare it, e.g. { ">=": 0.7 }',
        });
      if (id !== 'churnRisk' && !isAxes)
        ctx.addIssue({
          code: 'custom',
          path: [id],
          message: 'a lead score has axes: { fit | engagement | total: { ">=": n } }',
        });
    }
  })
  .describe(
    'Score comparisons: { <scoreId>: { fit | engagement | total: { ">=": n } } } or { churnRisk: { ">=": 0.7 } }.',
  );
export type ScoreCondition = z.infer<typeof scoreCondition>;

export function stageHolds(stages: readonly string[], stage: string | undefined): boolean {
  return stage !== undefined && stages.includes(stage);
}

export function scoreHolds(condition: ScoreCondition, scores: Record<string, unknown> | undefined): boolean {
  for (const [id, wanted] of Object.entries(condition)) {
    const value = scores?.[id];
    if (id === 'churnRisk') {
      if (typeof value !== 'number' || !compare(value, wanted as Comparison)) return false;
      continue;
    }
    if (typeof value !== 'object' || value === null) return false;
    for (const axis of ['fit', 'engagement', 'total'] as const) {
      const c = (wanted as Record<string, Comparison | undefined>)[axis];
      const v = (value as Record<string, unknown>)[axis];
      if (c !== undefined && (typeof v !== 'number' || !compare(v, c))) return false;
    }
  }
  return true;
}
