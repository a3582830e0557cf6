/**
 * Definitions of what Cairn derives from a customer's events: computed traits, lead scores, the
 * lifecycle stages and the churn-risk model. One zod schema per kind, used by the API, the
 * `statemachines/` validator and the JSON Schema export.
 */
import * as z from 'zod';
import { comparison } from '../comparison.js';
import { duration, eventName, eventPattern } from '../journeys/fields.js';

/** Ids become profile keys and item keys: letters, digits, `_` and `-`, starting with a letter. */
export const derivedId = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
  message: 'must start with a letter and contain only letters, digits, _ and - (at most 64 characters)',
});

/** A dotted path into the event (`properties.total`, `context.page.path`). */
export const eventPath = z.string().regex(/^(properties|context|traits)(\.[A-Za-z0-9_$-]+)+$/, {
  message: 'must be a dot path into the event under properties, context or traits, e.g. properties.total',
});

export const aggregates = ['count', 'sum', 'latest', 'mostFrequent'] as const;
export type Aggregate = (typeof aggregates)[number];

export const traitDefinitionSchema = z
  .object({
    id: derivedId.describe('The key under `profile.computed`.'),
    name: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    event: eventName.describe('The track event it reads, e.g. "Order Completed".'),
    where: eventPattern.optional().describe('Only events matching this EventBridge pattern count.'),
    aggregate: z
      .enum(aggregates)
      .describe(
        'count: events; sum: of `property`; latest: the newest event time, or its `property`; mostFrequent: the most frequent value of `property`.',
      ),
    property: eventPath.optional(),
    within: duration
      .optional()
      .describe('Only events of this last period count (windows move with time, not only with events).'),
  })
  .strict()
  .superRefine((trait, ctx) => {
    if ((trait.aggregate === 'sum' || trait.aggregate === 'mostFrequent') && trait.property === undefined) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: `${trait.aggregate} needs a property` });
    }
    if (trait.aggregate === 'count' && trait.property !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: 'count takes no property' });
    }
  })
  .describe('A computed trait: a value derived from the customer’s events, kept current as they arrive.');
export type TraitDefinition = z.infer<typeof traitDefinitionSchema>;

export const scoreDefinitionSchema = z
  .object({
    id: derivedId
      .refine((id) => id !== 'churnRisk', { message: 'churnRisk is the built-in churn model' })
      .describe('The key under `profile.scores`.'),
    name: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    fit: z
      .array(
        z
          .object({
            points: z.number().min(-1000).max(1000),
            when: eventPattern.describe(
              'EventBridge pattern over { traits, computed, email: { domain, freeMail } }.',
            ),
          })
          .strict(),
      )
      .max(100)
      .default([])
      .describe('Points for what is known about the customer; every matching rule adds its points.'),
    engagement: z
      .object({
        rules: z
          .array(
            z
              .object({
                event: eventName,
                where: eventPattern.optional(),
                points: z.number().min(-1000).max(1000),
              })
              .strict(),
          )
          .max(100),
        cap: z
          .object({ points: z.number().positive(), per: duration })
          .strict()
          .optional()
          .describe('At most this many points are earned per period (the period starts at the first event).'),
        decay: z
          .object({ rate: z.number().gt(0).lt(1), every: duration })
          .strict()
          .optional()
          .describe(
            'Continuous decay: the score loses `rate` of itself every `every` (0.1 / P1W = −10% a week).',
          ),
      })
      .strict()
      .default({ rules: [] }),
    thresholds: z
      .array(
        z
          .object({
            name: derivedId,
            when: z
              .object({
                fit: comparison.optional(),
                engagement: comparison.optional(),
                total: comparison.optional(),
              })
              .strict(),
          })
          .strict(),
      )
      .max(20)
      .default([])
      .describe('Crossing one (false → true) emits `Lead Score Threshold Crossed` onto the bus.'),
  })
  .strict()
  .describe('A two-axis lead score: fit (who they are) and engagement (what they do).');
export type ScoreDefinition = z.infer<typeof scoreDefinitionSchema>;

export const lifecycleSchema = z
  .object({
    stages: z
      .array(
        z
          .object({
            name: derivedId,
            when: z
              .object({
                firstSeen: z.object({ within: duration }).strict().optional(),
                lastSeen: z
                  .object({ within: duration.optional(), before: duration.optional() })
                  .strict()
                  .optional(),
              })
              .strict()
              .optional()
              .describe('All given conditions must hold; no `when` matches every profile.'),
          })
          .strict(),
      )
      .min(1)
      .max(20)
      .superRefine((stages, ctx) => {
        const names = new Set<string>();
        stages.forEach((stage, i) => {
          if (names.has(stage.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `stage ${stage.name} is listed twice`,
            });
          names.add(stage.name);
        });
        const last = stages[stages.length - 1];
        if (last?.when !== undefined && Object.keys(last.when).length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: [stages.length - 1, 'when'],
            message: 'the last stage must have no `when`, so every profile has exactly one stage',
          });
        }
      })
      .describe('Checked in order; a profile is in the first stage whose `when` holds.'),
  })
  .strict();
export type LifecycleDefinition = z.infer<typeof lifecycleSchema>;

export const defaultLifecycle: LifecycleDefinition = {
  stages: [
    { name: 'new', when: { firstSeen: { within: 'P7D' } } },
    { name: 'active', when: { lastSeen: { within: 'P30D' } } },
    { name: 'dormant', when: { lastSeen: { within: 'P90D' } } },
    { name: 'churned' },
  ],
};

export const churnModelSchema = z
  .object({
    model: z
      .enum(['bg-nbd', 'mbg-nbd'])
      .default('bg-nbd')
      .describe(
        'bg-nbd (Fader, Hardie & Lee 2005) or mbg-nbd (Batislam et al. 2007: one-time buyers can drop out).',
      ),
    /** BG/NBD parameters; the defaults are the CDNOW fit of Fader, Hardie & Lee (2005), in weeks. */
    parameters: z
      .object({
        r: z.number().positive(),
        alpha: z.number().positive(),
        a: z.number().positive(),
        b: z.number().positive(),
      })
      .strict()
      .default({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }),
    unit: duration.default('P1W').describe('The time unit the parameters were fitted in.'),
    event: eventName
      .optional()
      .describe('The transaction event (e.g. "Order Completed"); default: any track event of the customer.'),
  })
  .strict();
export type ChurnModel = z.infer<typeof churnModelSchema>;
export const defaultChurnModel: ChurnModel = churnModelSchema.parse({});

/** Everything the deriver needs, as one snapshot. */
export interface DerivedDefinitions {
  traits: TraitDefinition[];
  scores: ScoreDefinition[];
  lifecycle: LifecycleDefinition;
  churn: ChurnModel;
}

export const emptyDefinitions: DerivedDefinitions = {
  traits: [],
  scores: [],
  lifecycle: defaultLifecycle,
  churn: defaultChurnModel,
};
