/**
 * Window timers. Each (profile, segment) whose outcome a window can change carries `dueAt`; the
 * sparse `segment-due` index lists them by time. On AWS a scheduled Lambda polls the index once a
 * minute (no timer costs anything while idle but that one poll); the local stack instead installs a
 * waker that schedules the poll on its virtual clock at each due time, so `POST /local/clock` moves
 * customers out of windows before it returns.
 */
import type { SegmentEngineDeps } from './engine.js';
import { reevaluateProfile } from './engine.js';

export type SegmentTimerWaker = (at: number) => void;

const installed = Symbol.for('cairn.segmentTimerWaker');
type WakerHolder = { [installed]?: SegmentTimerWaker };

/** The local stack installs its virtual-clock waker; on AWS nothing does (the schedule polls). */
export function installSegmentTimerWaker(waker: SegmentTimerWaker | undefined): void {
  (globalThis as WakerHolder)[installed] = waker;
}

/** Called whenever a timer is written: asks for a poll at `at` where someone listens. */
export function wakeSegmentTimers(at: number): void {
  (globalThis as WakerHolder)[installed]?.(at);
}

/**
 * Re-evaluates every (profile, segment) whose timer is due, page by page; returns how many
 * timers it handled. Each re-evaluation re-arms or clears the timer, so a timer is handled once.
 * A profile whose evaluation fails (a change it could not tell: its timer was armed again for
 * later) is logged and left for a later poll; the others go on.
 */
export async function runDueTimers(
  deps: SegmentEngineDeps,
  options: { maxRounds?: number } = {},
): Promise<number> {
  let handled = 0;
  const failed = new Set<string>();
  for (let round = 0; round < (options.maxRounds ?? 50); round++) {
    const now = new Date(deps.clock.now()).toISOString();
    const due = (await deps.store.dueTimers(now, 100)).filter((timer) => !failed.has(timer.profileId));
    if (due.length === 0) break;
    const byProfile = new Map<string, string[]>();
    for (const timer of due)
      byProfile.set(timer.profileId, [...(byProfile.get(timer.profileId) ?? []), timer.segmentId]);
    await Promise.all(
      [...byProfile].map(async ([profileId, segments]) => {
        try {
          await reevaluateProfile(deps, profileId, { segments });
        } catch (error) {
          failed.add(profileId);
          deps.log?.error('segment timer failed; retried later', { profileId, error: (error as Error).name });
        }
      }),
    );
    handled += due.length;
  }
  return handled;
}
