/**
 * The messaging policy: global rules every marketing message passes before it is sent, whatever
 * journey it comes from. Transactional messages bypass caps and quiet hours, never suppression.
 */
import * as z from 'zod';
import { idSchema } from '../ids.js';
import { durationSeconds } from '../journeys/duration.js';
import { duration, timeOfDay, timeZone } from '../journeys/fields.js';

export const channels = ['email', 'sms', 'push'] as const;
export type Channel = (typeof channels)[number];

export const messageCategories = ['marketing', 'transactional'] as const;
export type MessageCategory = (typeof messageCategories)[number];

export const frequencyCapSchema = z
  .strictObject({
    channel: z
      .enum(['any', ...channels])
      .describe('`any` counts messages of every channel together; otherwise one channel.'),
    max: z.number().int().min(1).max(100).describe('Most marketing messages sent within `per`.'),
    per: duration.describe('The sliding window, ISO-8601 (P1D, P7D, PT12H).'),
  })
  .describe('At most `max` marketing messages to one customer within any window of length `per`.');
export type FrequencyCap = z.infer<typeof frequencyCapSchema>;

export const quietHoursSchema = z
  .strictObject({
    start: timeOfDay.describe('Local time the quiet window starts, HH:MM.'),
    end: timeOfDay.describe('Local time it ends, HH:MM (before `start`: the window spans midnight).'),
    fallbackTimezone: timeZone
      .default('UTC')
      .describe('Used when the customer has no valid `timezone` trait.'),
    action: z
      .enum(['hold', 'skip'])
      .default('hold')
      .describe('`hold`: send when the window ends; `skip`: do not send.'),
    channels: z
      .array(z.enum(channels))
      .min(1)
      .optional()
      .describe('The channels quiet hours apply to (default: all).'),
  })
  .superRefine((quiet, ctx) => {
    if (quiet.start === quiet.end)
      ctx.addIssue({ code: 'custom', message: 'start and end are the same time', path: ['end'] });
  });
export type QuietHours = z.infer<typeof quietHoursSchema>;

export const topicSchema = z
  .strictObject({
    id: idSchema('topic'),
    name: z.string().min(1).max(100).describe('What the preference page shows.'),
    description: z.string().max(300).optional(),
  })
  .describe('A subscription topic message nodes can name (`topic`): customers unsubscribe from it alone.');
export type Topic = z.infer<typeof topicSchema>;

export const messagingPolicySchema = z
  .strictObject({
    frequencyCaps: z.array(frequencyCapSchema).max(10).default([]),
    quietHours: quietHoursSchema.optional(),
    topics: z.array(topicSchema).max(50).default([]),
  })
  .superRefine((policy, ctx) => {
    const seen = new Map<string, number>();
    policy.frequencyCaps.forEach((cap, index) => {
      const key = `${cap.channel}/${durationSeconds(cap.per)}`;
      const first = seen.get(key);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: `same channel and window as frequencyCaps[${first}]: keep one`,
          path: ['frequencyCaps', index],
        });
      else seen.set(key, index);
    });
    const topicIds = new Set<string>();
    policy.topics.forEach((topic, index) => {
      if (topicIds.has(topic.id))
        ctx.addIssue({
          code: 'custom',
          message: `topic '${topic.id}' is listed twice`,
          path: ['topics', index, 'id'],
        });
      topicIds.add(topic.id);
    });
  })
  .describe('Frequency caps and quiet hours applied to every marketing message.');
export type MessagingPolicy = z.infer<typeof messagingPolicySchema>;
/** A policy as written (defaults not yet filled): the API's body, the CDK construct's prop. */
export type MessagingPolicyInput = z.input<typeof messagingPolicySchema>;

/** No caps, no quiet hours: what applies until a policy is set. */
export const openPolicy: MessagingPolicy = { frequencyCaps: [], topics: [] };
