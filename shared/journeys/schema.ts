/**
 * The journey definition (README.md, "Journeys"): one zod schema used by the validator, the compiler, the
 * API and the JSON Schema editors get (statemachines/journey.schema.json).
 */
import * as z from 'zod';
import { idSchema } from '../ids.js';
import { editorJsonSchema } from '../json-schema.js';
import { segmentId } from '../segments/schema.js';
import { duration, eventName, eventPattern, nodeId } from './fields.js';
import { journeyNodeSchema } from './nodes/index.js';

export const journeyId = idSchema('journey');

/** Keeps the compiled definition well under the 1 MB Step Functions limit (~3 KB per node). */
export const MAX_NODES = 200;

const eventCondition = z.strictObject({
  event: eventName,
  where: eventPattern.optional(),
});

/** `trigger: { segment: repeat-buyers-fr }` (entry) or `{ segment: …, on: exit }`. */
export const segmentTriggerSchema = z
  .strictObject({
    segment: segmentId.describe('Id of the segment whose entries (or exits) enter the customer.'),
    on: z
      .enum(['entry', 'exit'])
      .default('entry')
      .describe('entry (default): when the customer enters the segment; exit: when they leave it.'),
  })
  .describe('A change of segment membership enters the customer.');
export type SegmentTrigger = z.infer<typeof segmentTriggerSchema>;

/** The journey's trigger: an event, or a segment entry/exit. */
export const triggerSchema = z.union([
  eventCondition.describe('A tracked event matching this enters the customer.'),
  segmentTriggerSchema,
]);
export type JourneyTrigger = z.infer<typeof triggerSchema>;

/** The segment a trigger listens to, if it is a segment trigger. */
export function segmentTriggerOf(trigger: JourneyTrigger | undefined): SegmentTrigger | undefined {
  return trigger && 'segment' in trigger ? trigger : undefined;
}

export const journeySchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editors: path or URL of journey.schema.json.'),
    id: journeyId,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    trigger: triggerSchema.describe(
      'What enters the customer: a tracked event ({ event, where? }) or a segment ({ segment, on? }).',
    ),
    reentry: z
      .union([z.enum(['never', 'always']), z.strictObject({ after: duration })])
      .default('never')
      .describe(
        'Whether a customer may enter again: never, always, or { after: duration since they last entered }.',
      ),
    goal: z
      .strictObject({ event: eventName, within: duration, where: eventPattern.optional() })
      .optional()
      .describe('Reaching it within the window after entry exits the journey and counts a conversion.'),
    exitOn: z.array(eventCondition).default([]).describe('Events that make the customer leave the journey.'),
    start: nodeId.describe('The first node.'),
    nodes: z
      .record(nodeId, journeyNodeSchema)
      .refine((nodes) => Object.keys(nodes).length <= MAX_NODES, {
        message: `at most ${MAX_NODES} nodes (a state machine definition is limited to 1 MB)`,
      })
      .describe('The nodes, by id.'),
  })
  .describe('A Cairn customer journey.');

export type Journey = z.infer<typeof journeySchema>;
/** A journey as written (defaults not applied yet). */
export type JourneyDocument = z.input<typeof journeySchema>;

/** JSON Schema for editors (statemachines/journey.schema.json). */
export function journeyJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(journeySchema, 'Cairn journey');
}
