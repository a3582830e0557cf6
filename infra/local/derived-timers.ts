/**
 * The local stand-in for the lifecycle schedule (functions/lifecycle): instead of polling every
 * minute, a refresh is scheduled on the virtual clock at each due time a write arms, so
 * `POST /local/clock { advance }` moves stages (and windows) before it returns.
 */

import { createLifecycleDeps } from '../../functions/lifecycle/deps.js';
import { installDerivedTimerWaker, refreshDueProfiles } from '../../shared/derived/index.js';
import type { Logger } from '../../shared/log.js';
import type { VirtualClock } from './stepfunctions/clock.js';

export function startDerivedTimers(clock: VirtualClock, log: Logger): () => void {
  let deps: ReturnType<typeof createLifecycleDeps> | undefined;
  const scheduled = new Set<number>();
  const run = async () => {
    deps ??= createLifecycleDeps();
    try {
      await refreshDueProfiles(deps);
    } catch (error) {
      log.error('lifecycle refresh failed', { error: (error as Error).name });
    }
  };
  installDerivedTimerWaker((at) => {
    const second = Math.ceil(at / 1000) * 1000;
    if (scheduled.has(second)) return;
    scheduled.add(second);
    clock.schedule(second, () => {
      scheduled.delete(second);
      void clock.track(run());
    });
  });
  // Timers armed by an earlier run of a persistent stack: one refresh at start catches up.
  clock.schedule(clock.now(), () => void clock.track(run()));
  return () => installDerivedTimerWaker(undefined);
}
