/**
 * The step Lambda's event (see README.md, "Step contract"): what `functions/step` parses with zod.
 * What an execution carries and what a step returns are in execution.ts.
 */
import * as z from 'zod';
import { executionStateSchema } from './execution.js';
import { type NodeType, nodeTypes } from './nodes/index.js';

/** The Lambda event of one step call. `action: "fail"` records that the node failed (after retries). */
export const stepRequestSchema = z.object({
  journeyId: z.string(),
  version: z.number().int(),
  nodeId: z.string(),
  nodeType: z.enum(nodeTypes as [NodeType, ...NodeType[]]),
  action: z.enum(['run', 'fail']),
  /** Execution ARN (`$$.Execution.Id`); its last segment is the execution name. */
  execution: z.string(),
  input: executionStateSchema.loose(),
  /** waitFor only: hand it to SendTaskSuccess when the awaited event arrives. */
  taskToken: z.string().optional(),
  /** action "fail" only: the error the node's Catch caught. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type StepRequest = z.infer<typeof stepRequestSchema>;
