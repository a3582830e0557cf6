import { durationSeconds, parseDuration } from '../journeys/duration.js';
import { isTimeZone, localTime, zonedTimeToEpoch } from '../journeys/timezone.js';

/**
 * When a broadcast's runs happen. A run is named by its `runKey`: the UTC instant (`at` plans) or
 * the local wall time `YYYY-MM-DDTHH:MM` (`localTime` plans, where the run happens once per time
 * zone, at that wall time in the zone). Recurrence: `every` (an ISO-8601 duration added to the
 * previous run, in local time for local plans) or `cron` (5 fields, evaluated in the zone), up to `until`.
 */
export type Recurrence = { every: string; until?: string } | { cron: string; until?: string };

export interface PlanTiming {
  /** UTC instant of the (first) run, for plans that are not local-time. */
  at?: number;
  localTime?: { time: string; date: string };
  recurrence?: Recurrence;
}

/** A firing: one run (runKey) in one zone ('*' for plans that are not local-time) at an instant. */
export interface Firing {
  runKey: string;
  zone: string;
  at: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The first firing of a plan in a zone (`*` for UTC plans). */
export function firstFiring(timing: PlanTiming, zone: string): Firing {
  if (timing.localTime) {
    const [year, month, day] = timing.localTime.date.split('-').map(Number) as [number, number, number];
    const [hour, minute] = timing.localTime.time.split(':').map(Number) as [number, number];
    const at = zonedTimeToEpoch({ year, month, day }, { hour, minute }, zone);
    return { runKey: `${timing.localTime.date}T${timing.localTime.time}`, zone, at };
  }
  const at = timing.at!;
  return { runKey: new Date(at).toISOString(), zone, at };
}

/** The firing after `previous` in the same zone, or undefined when the plan does not recur (or ended). */
export function nextFiring(timing: PlanTiming, previous: Firing): Firing | undefined {
  const recurrence = timing.recurrence;
  if (!recurrence) return undefined;
  const zone = previous.zone === '*' ? 'UTC' : previous.zone;
  let at: number;
  if ('every' in recurrence) {
    if (previous.zone === '*') at = previous.at + durationSeconds(recurrence.every) * 1000;
    else {
      // Same wall time after the period, so 09:00 stays 09:00 across daylight-saving changes.
      const local = localTime(previous.at, zone);
      const shifted = new Date(
        Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute) +
          durationSeconds(recurrence.every) * 1000,
      );
      at = zonedTimeToEpoch(
        { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() },
        { hour: shifted.getUTCHours(), minute: shifted.getUTCMinutes() },
        zone,
      );
    }
  } else {
    at = nextCronTime(parseCron(recurrence.cron), previous.at, zone);
  }
  if (recurrence.until && at > Date.parse(recurrence.until)) return undefined;
  const local = localTime(at, zone);
  const runKey =
    previous.zone === '*'
      ? new Date(at).toISOString()
      : `${local.year}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}`;
  return { runKey, zone: previous.zone, at };
}

/** A parsed 5-field cron: the allowed values of minute, hour, day of month, month, day of week. */
export interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  /** Both day fields restricted: either may match (classic cron). */
  eitherDay: boolean;
}

const names: Record<string, number> = {
  SUN: 0,
  MON: 1,
  TUE: 2,
  WED: 3,
  THU: 4,
  FRI: 5,
  SAT: 6,
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};
const fields = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

/** Parses `m h dom mon dow` (numbers, names, `*`, `a-b`, `/step`, lists); throws with the field at fault. */
export function parseCron(text: string): Cron {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error('must have 5 fields: minute hour day-of-month month day-of-week');
  const sets = parts.map((part, index) => {
    const field = fields[index]!;
    const values = new Set<number>();
    for (const item of part.split(',')) {
      const [range, stepText] = item.split('/') as [string, string | undefined];
      const step = stepText === undefined ? 1 : Number(stepText);
      if (!Number.isInteger(step) || step < 1) throw new Error(`${field.name}: bad step in "${item}"`);
      let low: number = field.min;
      let high: number = field.max;
      if (range !== '*') {
        const [a, b] = range
          .split('-')
          .map((v) => names[v.toUpperCase()] ?? (/^\d+$/.test(v) ? Number(v) : Number.NaN));
        low = a!;
        high = b ?? (stepText === undefined ? a! : field.max);
      }
      if (
        !Number.isInteger(low) ||
        !Number.isInteger(high) ||
        low < field.min ||
        high > field.max ||
        low > high
      )
        throw new Error(`${field.name}: "${item}" is not in ${field.min}-${field.max}`);
      for (let v = low; v <= high; v += step) values.add(index === 4 && v === 7 ? 0 : v);
    }
    return values;
  });
  return {
    minute: sets[0]!,
    hour: sets[1]!,
    dayOfMonth: sets[2]!,
    month: sets[3]!,
    dayOfWeek: sets[4]!,
    eitherDay: parts[2] !== '*' && parts[4] !== '*',
  };
}

/** The first minute strictly after `after` whose wall time in `zone` matches the cron. */
export function nextCronTime(cron: Cron, after: number, zone: string): number {
  let t = Math.floor(after / 60_000) * 60_000 + 60_000;
  // A year of minutes at most; cron fields that can never match (Feb 30) fail here.
  for (let i = 0; i < 366 * 24 * 60; i++, t += 60_000) {
    const l = localTime(t, zone);
    if (!cron.month.has(l.month)) {
      t += (24 * 60 - 1) * 60_000 - (l.hour * 60 + l.minute) * 60_000;
      i += 24 * 60 - 1;
      continue;
    }
    const dom = cron.dayOfMonth.has(l.day);
    const dow = cron.dayOfWeek.has(l.weekday);
    const dayOk = cron.eitherDay ? dom || dow : dom && dow;
    if (!dayOk || !cron.hour.has(l.hour)) continue;
    if (cron.minute.has(l.minute)) return t;
  }
  throw new Error('cron never matches within a year');
}

export { isTimeZone, parseDuration };
