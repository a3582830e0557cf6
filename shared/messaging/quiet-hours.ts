/**
 * Quiet hours in the customer's own time zone. The window is a wall-clock interval, so it follows
 * daylight-saving changes: 21:00–08:00 stays 21:00–08:00 local on both sides of a change.
 */
import { isTimeZone, localTime, zonedTimeToEpoch } from '../journeys/timezone.js';
import type { Channel, QuietHours } from './policy.js';

export interface QuietHoursVerdict {
  /** The zone the window was read in (the customer's, else the policy's fallback). */
  timeZone: string;
  /** When the window ends (epoch ms); absent when `now` is outside it. */
  until?: number;
}

function minutesOf(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** Whether `now` falls in the quiet window for this customer, and when the window ends. */
export function quietHoursAt(
  quiet: QuietHours,
  channel: Channel,
  now: number,
  customerTimeZone: unknown,
): QuietHoursVerdict {
  const timeZone =
    typeof customerTimeZone === 'string' && isTimeZone(customerTimeZone)
      ? customerTimeZone
      : quiet.fallbackTimezone;
  if (quiet.channels && !quiet.channels.includes(channel)) return { timeZone };
  const local = localTime(now, timeZone);
  const minute = local.hour * 60 + local.minute;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return { timeZone };
  // The window ends today (local) when the end is later in the day than now, else tomorrow.
  const endsToday = minute < end;
  const day = new Date(Date.UTC(local.year, local.month - 1, local.day + (endsToday ? 0 : 1)));
  const [hour, min] = quiet.end.split(':').map(Number);
  const until = zonedTimeToEpoch(
    { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() },
    { hour: hour ?? 0, minute: min ?? 0 },
    timeZone,
  );
  return { timeZone, until };
}
