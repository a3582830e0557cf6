/**
 * `wait`: `for` a duration (one Wait state, no Lambda), or `until` a time of day in the customer's
 * time zone (a step computes the instant, then a Wait state with TimestampPath).
 */
import * as z from 'zod';
import { failureStates, stepTask } from '../asl.js';
import { durationSeconds } from '../duration.js';
import type { StepResult } from '../execution.js';
import { duration, nodeId, propertyAt, propertyPath, timeOfDay, timeZone } from '../fields.js';
import { isTimeZone, localTime, zonedTimeToEpoch } from '../timezone.js';
import { linkTo, type NodeModule, type StepContext } from './types.js';

export const weekdayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export const waitUntilSchema = z
  .strictObject({
    time: timeOfDay.describe('Local time of day, HH:MM.'),
    weekdays: z
      .array(z.enum(weekdayNames))
      .min(1)
      .optional()
      .describe('Only on these days (the next one at `time`).'),
    timezone: z
      .union([z.literal('profile'), timeZone])
      .default('profile')
      .describe('`profile` (the `timezone` trait, UTC when missing or invalid) or an IANA zone.'),
    relativeTo: z
      .strictObject({
        property: propertyPath.describe('Entry event property holding a date-time, e.g. startsAt.'),
        days: z
          .number()
          .int()
          .min(-365)
          .max(365)
          .default(0)
          .describe('Days after (negative: before) that date.'),
      })
      .optional()
      .describe('Wait until `time` on the day `days` away from a date in the entry event.'),
  })
  .superRefine((until, ctx) => {
    if (until.weekdays && until.relativeTo) {
      ctx.addIssue({
        code: 'custom',
        message: 'use either weekdays or relativeTo, not both',
        path: ['weekdays'],
      });
    }
  });
export type WaitUntil = z.infer<typeof waitUntilSchema>;

export const waitNodeSchema = z
  .strictObject({
    type: z.literal('wait'),
    for: duration.optional().describe('How long to wait, ISO-8601 (PT2H, P1D).'),
    until: waitUntilSchema.optional(),
    next: nodeId,
  })
  .superRefine((node, ctx) => {
    if ((node.for === undefined) === (node.until === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs exactly one of `for` (a duration) or `until` (a time of day)',
        path: [],
      });
    }
  })
  .describe('Wait for a duration, or until a local time of day.');
export type WaitNode = z.infer<typeof waitNodeSchema>;

/** RFC 3339 in UTC without fractions: what a Wait state's TimestampPath accepts. */
export function formatTimestamp(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function addDays(date: { year: number; month: number; day: number }, days: number) {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/**
 * The instant a `wait.until` ends for a customer: the next `time` (on one of `weekdays`) after now,
 * or `time` on the day `relativeTo.days` from the entry's date (now when that is past or missing).
 */
export function computeUntil(
  until: WaitUntil,
  context: { now: number; profileTimeZone?: unknown; properties: Record<string, unknown> },
): { until: string; reason?: string } {
  const zone =
    until.timezone !== 'profile'
      ? until.timezone
      : typeof context.profileTimeZone === 'string' && isTimeZone(context.profileTimeZone)
        ? context.profileTimeZone
        : 'UTC';
  const [hour, minute] = until.time.split(':').map(Number) as [number, number];
  const at = { hour, minute };
  if (until.relativeTo) {
    const raw = propertyAt(context.properties, until.relativeTo.property);
    const base = typeof raw === 'string' || typeof raw === 'number' ? new Date(raw).getTime() : Number.NaN;
    if (Number.isNaN(base)) return { until: formatTimestamp(context.now), reason: 'no_date' };
    const day = addDays(localTime(base, zone), until.relativeTo.days);
    const instant = zonedTimeToEpoch(day, at, zone);
    return instant <= context.now
      ? { until: formatTimestamp(context.now), reason: 'past' }
      : { until: formatTimestamp(instant) };
  }
  const today = localTime(context.now, zone);
  for (let offset = 0; offset <= 8; offset++) {
    const day = addDays(today, offset);
    const instant = zonedTimeToEpoch(day, at, zone);
    const weekday = weekdayNames[new Date(Date.UTC(day.year, day.month - 1, day.day)).getUTCDay()]!;
    if (instant > context.now && (!until.weekdays || until.weekdays.includes(weekday))) {
      return { until: formatTimestamp(instant) };
    }
  }
  throw new Error('no matching day within 8 days'); // unreachable: weekdays is non-empty
}

export async function runWait(step: StepContext<WaitNode>): Promise<StepResult> {
  if (!step.node.until) throw new Error(`wait node ${step.nodeId} has no 'until': it never calls the step`);
  const result = computeUntil(step.node.until, {
    now: step.now,
    profileTimeZone: step.profile.traits.timezone,
    properties: step.state.entry.properties,
  });
  return { outcome: 'scheduled', next: step.node.next, ...result };
}

export function untilStateName(nodeId: string): string {
  return `${nodeId}.until`;
}

export const waitNode: NodeModule<WaitNode> = {
  type: 'wait',
  schema: waitNodeSchema,
  links: (node) => linkTo(['next'], node.next),
  pauses: true,
  // A wait for a duration is a Wait state; a wait until asks the step for the instant.
  callsStep: (node) => node.until !== undefined,
  // The profile's time zone.
  needsProfile: (node) => node.until !== undefined && (node.until.timezone ?? 'profile') === 'profile',
  readsEntry: (node) => node.until?.relativeTo !== undefined,
  compile(id, node, { journeyId }) {
    if (node.for !== undefined) {
      return { [id]: { Type: 'Wait', Seconds: durationSeconds(node.for), Next: node.next } };
    }
    return {
      [id]: stepTask({
        journeyId,
        nodeId: id,
        nodeType: 'wait',
        next: untilStateName(id),
        result: { next: node.next, 'until.$': '$.Payload.until' },
      }),
      [untilStateName(id)]: { Type: 'Wait', TimestampPath: '$.last.until', Next: node.next },
      ...failureStates({ journeyId, nodeId: id, nodeType: 'wait' }),
    };
  },
  run: runWait,
};
