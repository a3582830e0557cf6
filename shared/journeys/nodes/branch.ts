/**
 * `branch`: the first case whose `when` holds decides where the customer goes, else `default`.
 * A step evaluates the cases (traits need the profile), a Choice routes on the step's `next`.
 */
import * as z from 'zod';
import { scoreCondition, scoreHolds, stageCondition, stageHolds } from '../../derived/conditions.js';
import { matchesPattern } from '../../patterns/index.js';
import { failureStates, stepTask } from '../asl.js';
import type { StepResult } from '../execution.js';
import { eventPattern, nodeId } from '../fields.js';
import { linksOfEach, linkTo, type NodeModule, type StepContext } from './types.js';

export const branchConditionSchema = z
  .strictObject({
    traits: eventPattern.optional().describe('Pattern on the profile traits, e.g. { plan: ["pro"] }.'),
    properties: eventPattern.optional().describe('Pattern on the entry event properties.'),
    segment: z.string().min(1).optional().describe('Id of a segment the profile must be in.'),
    computed: eventPattern
      .optional()
      .describe('Pattern on the computed traits, e.g. { totalSpend: [{ numeric: [">", 100] }] }.'),
    stage: stageCondition.optional(),
    score: scoreCondition.optional(),
  })
  .superRefine((when, ctx) => {
    if (!when.traits && !when.properties && !when.segment && !when.computed && !when.stage && !when.score) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs at least one of traits, properties, segment, computed, stage or score',
        path: [],
      });
    }
  })
  .describe('All the given conditions must hold.');
export type BranchCondition = z.infer<typeof branchConditionSchema>;

export const branchNodeSchema = z
  .strictObject({
    type: z.literal('branch'),
    cases: z.array(z.strictObject({ when: branchConditionSchema, next: nodeId })).min(1),
    default: nodeId.describe('Where to go when no case holds.'),
  })
  .describe(
    'Route on traits, entry properties, segment membership, computed traits, stage or scores: the first matching case wins.',
  );
export type BranchNode = z.infer<typeof branchNodeSchema>;

export interface BranchDeps {
  /**
   * Segment membership when the profile was read without it (`StepProfile.memberOf`); with neither,
   * a case with `segment` fails the step.
   */
  isInSegment?(profileId: string, segmentId: string): Promise<boolean>;
}

export async function conditionHolds(
  when: BranchCondition,
  subject: {
    profileId: string;
    traits: Record<string, unknown>;
    properties: Record<string, unknown>;
    computed?: Record<string, unknown>;
    stage?: string;
    scores?: Record<string, unknown>;
    /** The segments the profile is in, read with it (no request per case). */
    memberOf?: readonly string[];
  },
  deps: BranchDeps,
): Promise<boolean> {
  if (when.traits && !matchesPattern(when.traits, subject.traits)) return false;
  if (when.properties && !matchesPattern(when.properties, subject.properties)) return false;
  if (when.computed && !matchesPattern(when.computed, subject.computed ?? {})) return false;
  if (when.stage && !stageHolds(when.stage, subject.stage)) return false;
  if (when.score && !scoreHolds(when.score, subject.scores)) return false;
  if (when.segment) {
    if (subject.memberOf) return subject.memberOf.includes(when.segment);
    if (!deps.isInSegment) throw new Error('segment conditions need segment support (isInSegment)');
    if (!(await deps.isInSegment(subject.profileId, when.segment))) return false;
  }
  return true;
}

export async function runBranch(step: StepContext<BranchNode>, deps: BranchDeps): Promise<StepResult> {
  const subject = {
    profileId: step.profile.profileId,
    traits: step.profile.traits,
    properties: step.state.entry.properties,
    ...derivedOf(step.profile),
    ...(step.profile.memberOf && { memberOf: step.profile.memberOf }),
  };
  for (const [caseIndex, branchCase] of step.node.cases.entries()) {
    if (await conditionHolds(branchCase.when, subject, deps)) {
      return { outcome: 'matched', next: branchCase.next, caseIndex };
    }
  }
  return { outcome: 'default', next: step.node.default };
}

/** Computed traits, stage and scores as of the profile's last write (shared/derived). */
export function derivedOf(profile: StepContext<unknown>['profile']) {
  return {
    ...(profile.computed !== undefined && { computed: profile.computed }),
    ...(profile.stage !== undefined && { stage: profile.stage }),
    ...(profile.scores !== undefined && { scores: profile.scores }),
  };
}

export function choiceStateName(nodeId: string): string {
  return `${nodeId}.choice`;
}

export const branchNode: NodeModule<BranchNode, BranchDeps> = {
  type: 'branch',
  schema: branchNodeSchema,
  links: (node) => [...linksOfEach(node.cases, 'cases'), ...linkTo(['default'], node.default)],
  pauses: false,
  callsStep: () => true,
  // Traits, derived values (computed, stage, scores), or the surviving profile id a segment is asked by.
  needsProfile: (node) =>
    node.cases.some(
      ({ when }) =>
        when.traits !== undefined ||
        when.segment !== undefined ||
        when.computed !== undefined ||
        when.stage !== undefined ||
        when.score !== undefined,
    ),
  readsEntry: (node) => node.cases.some(({ when }) => when.properties !== undefined),
  stats: {
    branchLabel(node, key) {
      if (key === 'default') return 'default';
      const branchCase = node.cases[Number(key)];
      return branchCase && `case ${key}: ${branchCase.next}`;
    },
  },
  check(node, context) {
    return node.cases.flatMap((branchCase, index) => {
      const segment = branchCase.when.segment;
      if (segment === undefined) return [];
      // Without the defined segments (no context), nothing to check against, as for templates.
      if (!context.segmentExists || context.segmentExists(segment)) return [];
      return [{ path: ['cases', index, 'when', 'segment'], message: `unknown segment '${segment}'` }];
    });
  },
  compile(id, node, { journeyId }) {
    const targets = [...new Set(node.cases.map((c) => c.next))].filter((target) => target !== node.default);
    const task = stepTask({
      journeyId,
      nodeId: id,
      nodeType: 'branch',
      next: targets.length > 0 ? choiceStateName(id) : node.default,
      result: { 'next.$': '$.Payload.next' },
    });
    const failure = failureStates({ journeyId, nodeId: id, nodeType: 'branch' });
    if (targets.length === 0) return { [id]: task, ...failure };
    return {
      [id]: task,
      [choiceStateName(id)]: {
        Type: 'Choice',
        Choices: targets.map((target) => ({ Variable: '$.last.next', StringEquals: target, Next: target })),
        Default: node.default,
      },
      ...failure,
    };
  },
  run: runBranch,
};
