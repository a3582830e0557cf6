/**
 * Field schemas shared by the journey and its node types. Checks that zod can make at the field
 * (duration syntax, time zones, pattern validity) live here, so every problem carries its exact path.
 */
import * as z from 'zod';
import { ownValue } from '../dictionary.js';
import { validatePattern } from '../patterns/index.js';
import { parseDuration } from './duration.js';
import { isTimeZone } from './timezone.js';

/** Node ids become state names: letters, digits, `_` and `-`; never a `.` (helper states use it). */
export const nodeIdPattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export const nodeId = z
  .string()
  .regex(nodeIdPattern, {
    message: 'must start with a letter and contain only letters, digits, _ and - (at most 64 characters)',
  })
  .describe('Id of a node in `nodes`.');

export const duration = z
  .string()
  .superRefine((text, ctx) => {
    const parsed = parseDuration(text);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  })
  .describe('ISO-8601 duration in weeks, days, hours, minutes, seconds: PT2H, P1D, P1DT12H, P2W.')
  .meta({ pattern: '^P(\\d+W)?(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$' });

/** A local time of day, `HH:MM` (wait until, quiet hours, a send-time default). */
export const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time of day HH:MM, 00:00 to 23:59' });

export const timeZone = z
  .string()
  .superRefine((name, ctx) => {
    if (!isTimeZone(name))
      ctx.addIssue({ code: 'custom', message: `'${name}' is not an IANA time zone such as Europe/Paris` });
  })
  .describe('IANA time zone, e.g. Europe/Paris, America/New_York, UTC.');

/** An EventBridge event pattern, validated by the one matcher the bus, triggers and nodes share. */
export const eventPattern = z
  .record(z.string(), z.unknown())
  .superRefine((pattern, ctx) => {
    for (const issue of validatePattern(pattern)) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
  })
  .describe('EventBridge event pattern, e.g. { properties: { price: [{ numeric: [">", 0] }] } }.');

export const eventName = z.string().min(1, { message: 'must name an event' }).max(200);

/** A property of the trigger event, as a dot path under `properties` (`cartId`, `order.id`). */
export const propertyPath = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, {
  message: 'must be a property name or dot path such as cartId or order.id',
});

/** The value at a dotted property path (`cart.id`) inside `properties`, or undefined. */
export function propertyAt(properties: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>(
    (value, key) =>
      // Own keys only: `constructor` is a property name like any other, not Object's.
      value && typeof value === 'object' ? ownValue(value as Record<string, unknown>, key) : undefined,
    properties,
  );
}
