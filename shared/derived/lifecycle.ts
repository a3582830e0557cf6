/**
 * Lifecycle stages from a profile's activity: the first stage (in order) whose conditions hold.
 * Activity is the customer's own events; what Cairn itself writes (a journey's `update`, the
 * `Lifecycle Stage Changed` notification) never makes anyone active.
 */
import { durationSeconds } from '../journeys/duration.js';
import type { LifecycleDefinition } from './schema.js';

export interface Activity {
  /** Epoch ms of the customer's first and latest own event. */
  first: number;
  last: number;
}

export function stageAt(lifecycle: LifecycleDefinition, activity: Activity, now: number): string {
  for (const stage of lifecycle.stages) {
    const when = stage.when ?? {};
    const firstOk = when.firstSeen === undefined || now - activity.first < ms(when.firstSeen.within);
    const lastSeen = when.lastSeen;
    const withinOk = lastSeen?.within === undefined || now - activity.last < ms(lastSeen.within);
    const beforeOk = lastSeen?.before === undefined || now - activity.last >= ms(lastSeen.before);
    if (firstOk && withinOk && beforeOk) return stage.name;
  }
  // The schema makes the last stage unconditional; this is for a definition that bypassed it.
  return lifecycle.stages[lifecycle.stages.length - 1]?.name ?? 'active';
}

/** The next time after `now` at which the stage can change with no new event (a boundary passing). */
export function nextStageBoundary(
  lifecycle: LifecycleDefinition,
  activity: Activity,
  now: number,
): number | undefined {
  let next: number | undefined;
  const consider = (at: number) => {
    if (at > now && (next === undefined || at < next)) next = at;
  };
  for (const stage of lifecycle.stages) {
    const when = stage.when ?? {};
    if (when.firstSeen) consider(activity.first + ms(when.firstSeen.within));
    if (when.lastSeen?.within) consider(activity.last + ms(when.lastSeen.within));
    if (when.lastSeen?.before) consider(activity.last + ms(when.lastSeen.before));
  }
  return next;
}

function ms(duration: string): number {
  return durationSeconds(duration) * 1000;
}
