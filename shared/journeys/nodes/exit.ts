/**
 * `exit`: the customer leaves the journey. A last step call lets the runtime count the completion
 * and clear the customer's presence; then the execution ends.
 */
import * as z from 'zod';
import { stepStates } from '../asl.js';
import type { StepResult } from '../execution.js';
import type { NodeModule } from './types.js';

export const exitNodeSchema = z.strictObject({ type: z.literal('exit') }).describe('Leave the journey.');
export type ExitNode = z.infer<typeof exitNodeSchema>;

export async function runExit(): Promise<StepResult> {
  return { outcome: 'completed', next: null };
}

export const exitNode: NodeModule<ExitNode> = {
  type: 'exit',
  schema: exitNodeSchema,
  links: () => [],
  pauses: false,
  callsStep: () => true,
  needsProfile: () => false,
  readsEntry: () => false,
  compile: (id, _node, { journeyId }) => stepStates({ journeyId, nodeId: id, nodeType: 'exit' }),
  run: runExit,
};
