/**
 * ISO-8601 durations as journeys use them: weeks, days, hours, minutes, seconds (`P1W`, `P2D`,
 * `PT2H30M`, `PT45S`). Years and months are refused: they have no fixed length, and a Wait state
 * needs a number of seconds.
 */

const pattern = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** The longest wait a Standard execution can hold: executions live at most one year. */
export const MAX_DURATION_SECONDS = 365 * 24 * 3600;

/** Seconds in an ISO-8601 duration, or a message saying what is wrong with it. */
export function parseDuration(text: string): { seconds: number } | { error: string } {
  const datePart = text.split('T')[0] ?? '';
  if (/^P.*\d[YM]/.test(datePart)) {
    return {
      error: `'${text}' uses years or months, which have no fixed length: use days or weeks (P30D, P4W)`,
    };
  }
  const parts = pattern.exec(text);
  if (!parts || text === 'P' || text.endsWith('T')) {
    return { error: `'${text}' is not an ISO-8601 duration such as PT2H, P1D or P1DT12H` };
  }
  const [, weeks, days, hours, minutes, seconds] = parts.map((part) =>
    part === undefined ? 0 : Number(part),
  );
  const total =
    (weeks ?? 0) * 604800 + (days ?? 0) * 86400 + (hours ?? 0) * 3600 + (minutes ?? 0) * 60 + (seconds ?? 0);
  if (total <= 0) return { error: `'${text}' is zero: a duration must be positive` };
  if (!Number.isInteger(total)) return { error: `'${text}' is not a whole number of seconds` };
  if (total > MAX_DURATION_SECONDS)
    return { error: `'${text}' is longer than one year, the longest a journey can run` };
  return { seconds: total };
}

/** Seconds in a duration already validated (the compiler runs after the validator). */
export function durationSeconds(text: string): number {
  const parsed = parseDuration(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.seconds;
}
