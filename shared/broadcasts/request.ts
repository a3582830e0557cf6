import { type Issue, ValidationError } from '../errors.js';
import { isTimeZone, parseCron, parseDuration, type Recurrence } from './schedule.js';

/** `POST /journeys/{id}/broadcasts`, checked (README "Broadcasts"). */
export interface BroadcastRequest {
  segment: string;
  /** Epoch ms; absent = now (or localTime). */
  at?: number;
  localTime?: { time: string; date: string };
  fallbackTimezone: string;
  recurrence?: Recurrence;
  ratePerSecond: number;
}

const known = new Set(['segment', 'at', 'localTime', 'fallbackTimezone', 'recurrence', 'ratePerSecond']);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Every problem of the body, each with its field path; throws a ValidationError listing them. */
export function parseBroadcastRequest(
  body: unknown,
  now: number,
  rate: { default: number; max: number },
): BroadcastRequest {
  const issues: Issue[] = [];
  const problem = (path: (string | number)[], message: string) => issues.push({ path, message });
  if (!isObject(body)) throw new ValidationError([{ path: [], message: 'body must be an object' }]);
  for (const key of Object.keys(body)) if (!known.has(key)) problem([key], `unknown field '${key}'`);
  const { segment, at, localTime, fallbackTimezone = 'UTC', recurrence, ratePerSecond = rate.default } = body;
  if (typeof segment !== 'string' || segment === '') problem(['segment'], 'is required: the segment id');
  let atMs: number | undefined;
  if (at !== undefined) {
    if (typeof at !== 'string' || !isoInstant.test(at) || Number.isNaN(Date.parse(at)))
      problem(['at'], 'must be an ISO-8601 instant with a zone, e.g. 2026-12-04T09:00:00Z');
    else {
      atMs = Date.parse(at);
      if (atMs < now - 60_000) problem(['at'], 'is in the past');
    }
  }
  let local: BroadcastRequest['localTime'];
  if (localTime !== undefined) {
    if (at !== undefined) problem(['localTime'], 'give either at or localTime, not both');
    if (!isObject(localTime)) problem(['localTime'], 'must be { time: "HH:MM", date: "YYYY-MM-DD" }');
    else {
      const { time, date } = localTime;
      const timeOk = typeof time === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(time);
      const dateOk =
        typeof date === 'string' &&
        /^\d{4}-\d{2}-\d{2}$/.test(date) &&
        !Number.isNaN(Date.parse(`${date}T00:00:00Z`));
      if (!timeOk) problem(['localTime', 'time'], 'must be HH:MM (24-hour)');
      if (!dateOk) problem(['localTime', 'date'], 'must be a date YYYY-MM-DD');
      if (timeOk && dateOk) {
        // Past everywhere: even at UTC-12, the last place on Earth to reach that wall time.
        if (Date.parse(`${date}T${time}:00Z`) + 12 * 3600_000 < now)
          problem(['localTime'], 'is in the past in every time zone');
        local = { time: time as string, date: date as string };
      }
    }
  }
  if (typeof fallbackTimezone !== 'string' || !isTimeZone(fallbackTimezone))
    problem(['fallbackTimezone'], 'must be an IANA time zone, e.g. Europe/Paris');
  let parsedRecurrence: Recurrence | undefined;
  if (recurrence !== undefined) {
    if (!isObject(recurrence))
      problem(['recurrence'], 'must be { every: <ISO-8601 duration> } or { cron: "<5 fields>" }');
    else {
      const { every, cron, until, ...rest } = recurrence;
      for (const key of Object.keys(rest)) problem(['recurrence', key], `unknown field '${key}'`);
      if ((every === undefined) === (cron === undefined))
        problem(['recurrence'], 'give exactly one of every, cron');
      if (every !== undefined) {
        const parsed = typeof every === 'string' ? parseDuration(every) : { error: 'must be a string' };
        if ('error' in parsed)
          problem(['recurrence', 'every'], `must be an ISO-8601 duration: ${parsed.error}`);
        else if (parsed.seconds < 3600) problem(['recurrence', 'every'], 'must be at least PT1H');
      }
      if (cron !== undefined) {
        try {
          if (typeof cron !== 'string') throw new Error('must be a string');
          parseCron(cron);
        } catch (error) {
          problem(['recurrence', 'cron'], `is not a valid cron expression: ${(error as Error).message}`);
        }
      }
      if (
        until !== undefined &&
        (typeof until !== 'string' || !isoInstant.test(until) || Date.parse(until) < now)
      )
        problem(['recurrence', 'until'], 'must be a future ISO-8601 instant with a zone');
      if (issues.length === 0)
        parsedRecurrence = (
          every !== undefined
            ? { every, ...(until !== undefined && { until }) }
            : { cron, ...(until !== undefined && { until }) }
        ) as Recurrence;
    }
  }
  if (
    typeof ratePerSecond !== 'number' ||
    !Number.isInteger(ratePerSecond) ||
    ratePerSecond < 1 ||
    ratePerSecond > rate.max
  )
    problem(['ratePerSecond'], `must be an integer from 1 to ${rate.max}`);
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    segment: segment as string,
    ...(atMs !== undefined && { at: atMs }),
    ...(local && { localTime: local }),
    fallbackTimezone: fallbackTimezone as string,
    ...(parsedRecurrence && { recurrence: parsedRecurrence }),
    ratePerSecond: ratePerSecond as number,
  };
}
