/**
 * Send-time optimisation (`sendAt: best` on a message node): send when this customer usually reads.
 *
 * How it decides, in the customer's own time zone (the `timezone` trait, else UTC):
 *   1. The hour of day (00-23, local) in which their opens and clicks fell most often, from their
 *      own message history (every channel; a click counts like an open). Ties: the hour that comes
 *      first from now.
 *   2. No opens or clicks yet: the node's `default` time of day (`HH:MM`), when it has one.
 *   3. Otherwise, or when that time is not within the node's bound (`within`, default P1D): now.
 * A message is sent at the start of the chosen hour (or at `default`), and right away when that
 * hour has already begun. The wait is a Wait state of the execution (nothing runs meanwhile); the
 * gateway's rules (caps, quiet hours, consent) apply when it is sent, not when it is scheduled.
 */
import { durationSeconds } from '../journeys/duration.js';
import { isTimeZone, localTime, zonedTimeToEpoch } from '../journeys/timezone.js';

export interface SendTimeRule {
  /** The longest the message may wait for its best time, ISO-8601 (P1D by default). */
  within: string;
  /** Local time of day used when the customer has no opens or clicks yet. */
  default?: string;
}

export interface SendTimeChoice {
  /** Epoch ms to send at (`now` when it should go at once). */
  at: number;
  /** What decided it. */
  basis: 'history' | 'default' | 'now';
  /** The local hour or time chosen (`19:00`), when one was. */
  time?: string;
}

const hourMs = 3_600_000;

/** The next instant (after `now`, or now when inside that hour) at local `hour:minute` in `zone`. */
function nextLocal(now: number, zone: string, hour: number, minute: number, wholeHour: boolean): number {
  const local = localTime(now, zone);
  for (let days = 0; days <= 2; days++) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
    const at = zonedTimeToEpoch(
      { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() },
      { hour, minute },
      zone,
    );
    // Already inside the chosen hour: send now rather than tomorrow.
    if (wholeHour && at <= now && now < at + hourMs) return now;
    if (at > now) return at;
  }
  return now;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** When to send, from the customer's engagement instants (epoch ms of opens and clicks). */
export function chooseSendTime(
  engagements: readonly number[],
  rule: SendTimeRule,
  context: { now: number; timeZone: unknown },
): SendTimeChoice {
  const zone =
    typeof context.timeZone === 'string' && isTimeZone(context.timeZone) ? context.timeZone : 'UTC';
  const { now } = context;
  const bound = now + durationSeconds(rule.within) * 1000;
  const counts = new Array<number>(24).fill(0);
  for (const at of engagements) counts[localTime(at, zone).hour]! += 1;
  const most = Math.max(...counts);
  if (most > 0) {
    const candidates = counts
      .map((count, hour) => ({ count, hour }))
      .filter((entry) => entry.count === most)
      .map((entry) => ({ hour: entry.hour, at: nextLocal(now, zone, entry.hour, 0, true) }))
      .sort((a, b) => a.at - b.at);
    const best = candidates[0]!;
    return best.at <= bound
      ? { at: best.at, basis: 'history', time: `${pad(best.hour)}:00` }
      : { at: now, basis: 'now' };
  }
  if (rule.default) {
    const [hour, minute] = rule.default.split(':').map(Number) as [number, number];
    const at = nextLocal(now, zone, hour, minute, false);
    if (at <= bound) return { at, basis: 'default', time: rule.default };
  }
  return { at: now, basis: 'now' };
}
