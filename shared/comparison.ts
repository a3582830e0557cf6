import * as z from 'zod';

/**
 * A numeric comparison, as segments (`count`, `score`) and derived traits (lead-score conditions)
 * write it: `{ ">=": 2 }`, `{ ">": 0, "<=": 10 }`; every operator given must hold.
 */
export const comparisonOperators = ['>=', '>', '=', '<', '<='] as const;
export type ComparisonOperator = (typeof comparisonOperators)[number];

export const comparison = z
  .strictObject({
    '>=': z.number().optional(),
    '>': z.number().optional(),
    '=': z.number().optional(),
    '<': z.number().optional(),
    '<=': z.number().optional(),
  })
  .refine((ops) => Object.values(ops).some((v) => v !== undefined), {
    message: `needs at least one of ${comparisonOperators.join(', ')}`,
  })
  .describe('Comparison: every operator given must hold, e.g. { ">=": 2 }.');
export type Comparison = z.infer<typeof comparison>;

/** Whether `value` passes every operator of `test`; a missing value passes none. */
export function compare(value: number | undefined, test: Comparison): boolean {
  if (value === undefined) return false;
  return (
    (test['>='] === undefined || value >= test['>=']) &&
    (test['>'] === undefined || value > test['>']) &&
    (test['='] === undefined || value === test['=']) &&
    (test['<'] === undefined || value < test['<']) &&
    (test['<='] === undefined || value <= test['<='])
  );
}
