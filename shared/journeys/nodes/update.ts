/** `update`: set and/or increment profile traits. */
import * as z from 'zod';
import { stepStates } from '../asl.js';
import type { StepResult } from '../execution.js';
import { nodeId } from '../fields.js';
import { linkTo, type NodeModule, type StepContext } from './types.js';

const traitName = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$-]{0,127}$/, { message: 'must be a trait name' });

export const updateNodeSchema = z
  .strictObject({
    type: z.literal('update'),
    set: z.record(traitName, z.unknown()).optional().describe('Traits to set (null removes the value).'),
    increment: z
      .record(traitName, z.number())
      .optional()
      .describe('Numeric traits to add to (missing counts as 0).'),
    next: nodeId,
  })
  .superRefine((node, ctx) => {
    if (!node.set && !node.increment) {
      ctx.addIssue({ code: 'custom', message: 'needs `set` or `increment`', path: [] });
    }
    for (const key of Object.keys(node.increment ?? {})) {
      if (node.set && key in node.set) {
        ctx.addIssue({
          code: 'custom',
          message: `'${key}' is both set and incremented`,
          path: ['increment', key],
        });
      }
    }
  })
  .describe('Set or increment profile traits.');
export type UpdateNode = z.infer<typeof updateNodeSchema>;

export interface UpdateDeps {
  /** Applies the change atomically to the profile (and records a trait change on its timeline). */
  updateTraits(
    profileId: string,
    change: { set: Record<string, unknown>; increment: Record<string, number> },
  ): Promise<void>;
}

export async function runUpdate(step: StepContext<UpdateNode>, deps: UpdateDeps): Promise<StepResult> {
  await deps.updateTraits(step.profile.profileId, {
    set: step.node.set ?? {},
    increment: step.node.increment ?? {},
  });
  return { outcome: 'updated', next: step.node.next };
}

export const updateNode: NodeModule<UpdateNode, UpdateDeps> = {
  type: 'update',
  schema: updateNodeSchema,
  links: (node) => linkTo(['next'], node.next),
  pauses: false,
  callsStep: () => true,
  needsProfile: () => false,
  readsEntry: () => false,
  compile: (id, node, { journeyId }) =>
    stepStates({ journeyId, nodeId: id, nodeType: 'update', next: node.next, result: { next: node.next } }),
  run: runUpdate,
};
