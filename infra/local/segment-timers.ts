import { installSegmentTimerWaker } from '../../shared/segments/timers.js';
import { invokeFunction } from './functions.js';
import type { VirtualClock } from './stepfunctions/clock.js';

/**
 * Segment window timers on the virtual clock: where AWS polls the due index once a minute, the local
 * stack wakes the segments function exactly when a timer is due (and `POST /local/clock` waits for
 * it, since the work is tracked). One wake-up per distinct second.
 */
export function startLocalSegmentTimers(clock: VirtualClock): () => void {
  const armed = new Map<number, { cancel(): void }>();
  installSegmentTimerWaker((at) => {
    const second = Math.ceil(at / 1000) * 1000;
    if (armed.has(second)) return;
    const wake = clock.schedule(second, () => {
      armed.delete(second);
      void clock.track(invokeFunction('cairn-segments', { kind: 'timers' }).catch(() => undefined));
    });
    armed.set(second, wake);
  });
  // Timers stored by a previous run (persistent data): one poll now picks up what is due and re-arms the rest.
  void clock.track(invokeFunction('cairn-segments', { kind: 'timers' }).catch(() => undefined));
  return () => {
    installSegmentTimerWaker(undefined);
    for (const wake of armed.values()) wake.cancel();
    armed.clear();
  };
}
