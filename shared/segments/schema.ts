/**
 * The segment definition (issue #12): one zod schema used by the API, `statemachines/segments/`,
 * the validator and the JSON Schema editors get (statemachines/segment.schema.json).
 *
 * `where` is ONE condition: a leaf (`traits`, `computed`, `performed`, `lastSeen`, `firstSeen`,
 * `stage`, `score`, `segment`) or a combination (`all`, `any`, `not`), nested freely. A condition
 * object holds exactly one of these keys.
 */
import * as z from 'zod';
import { type Comparison, comparison } from '../comparison.js';
import { idSchema } from '../ids.js';
import { duration, eventName, eventPattern } from '../journeys/fields.js';
import { editorJsonSchema } from '../json-schema.js';

/** Segment ids name items and journey triggers (shared/ids.ts). */
export const segmentId = idSchema('segment');

const performed = z
  .strictObject({
    event: eventName.describe('Name of the tracked event.'),
    where: eventPattern
      .optional()
      .describe('EventBridge pattern on the event, e.g. { properties: { total: [{ numeric: [">", 0] }] } }.'),
    count: comparison.optional().describe('How many such events; default { ">=": 1 }.'),
    within: duration.optional().describe('Only events in this window before now; absent = all history kept.'),
  })
  .describe('The customer performed an event (how many times, in which window).');

const seen = z
  .strictObject({
    within: duration.optional().describe('Seen within this long before now.'),
    before: duration.optional().describe('Seen longer ago than this.'),
  })
  .refine((s) => (s.within === undefined) !== (s.before === undefined), {
    message: 'needs exactly one of within or before',
  });

const scoreName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { message: 'must be a score name such as lead or churnRisk' });

/** `{ churnRisk: { ">=": 0.7 } }` or per axis `{ lead: { engagement: { ">=": 20 } } }`. */
const score = z
  .record(scoreName, z.union([comparison, z.record(scoreName, comparison)]))
  .refine((s) => Object.keys(s).length > 0, { message: 'names at least one score' })
  .describe(
    'Scores on the profile (profile.scores): { churnRisk: { ">=": 0.7 } } or { lead: { engagement: { ">=": 20 } } }.',
  );

export type Condition =
  | { traits: Record<string, unknown> }
  | { computed: Record<string, unknown> }
  | { performed: z.infer<typeof performed> }
  | { lastSeen: z.infer<typeof seen> }
  | { firstSeen: z.infer<typeof seen> }
  | { stage: string[] }
  | { score: Record<string, Comparison | Record<string, Comparison>> }
  | { segment: string }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const conditionKinds = [
  'traits',
  'computed',
  'performed',
  'lastSeen',
  'firstSeen',
  'stage',
  'score',
  'segment',
  'all',
  'any',
  'not',
] as const;
export type ConditionKind = (typeof conditionKinds)[number];

/** Maximum nesting of all/any/not: keeps evaluation and the item small. */
export const MAX_DEPTH = 8;

// A condition: one object with optional keys, refined to "exactly one key". A union of single-key
// objects would report "does not match any form" instead of the precise problem and its path.
export const condition: z.ZodType<Condition> = z
  .strictObject({
    traits: eventPattern.optional().describe('EventBridge pattern on the traits, as branch.when uses.'),
    computed: eventPattern
      .optional()
      .describe('EventBridge pattern on the computed traits (profile.computed).'),
    performed: performed.optional(),
    lastSeen: seen.optional().describe('Last event { within: P7D } or { before: P30D } ago.'),
    firstSeen: seen.optional().describe('First event { within: P7D } or { before: P30D } ago.'),
    stage: z.array(z.string().min(1)).min(1).optional().describe('Lifecycle stage is one of these.'),
    score: score.optional(),
    segment: segmentId.optional().describe('Member of this other segment (cycles are refused).'),
    get all() {
      return z.array(condition).min(1).optional().describe('Every condition holds.');
    },
    get any() {
      return z.array(condition).min(1).optional().describe('At least one condition holds.');
    },
    get not() {
      return condition.optional().describe('The condition does not hold.');
    },
  })
  .superRefine((value, ctx) => {
    const kinds = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? `needs one of ${conditionKinds.join(', ')}`
            : `holds one condition, not ${kinds.length} (${kinds.join(', ')}): combine them with all or any`,
      });
    }
  }) as unknown as z.ZodType<Condition>;

export const segmentSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editors: path or URL of segment.schema.json.'),
    id: segmentId,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    where: condition,
  })
  .describe('A Cairn segment: who is in it is kept current as events arrive.');

export type Segment = z.infer<typeof segmentSchema>;

/** JSON Schema for editors (statemachines/segment.schema.json). */
export function segmentJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(segmentSchema, 'Cairn segment');
}
