/**
 * The local stand-ins for the two AWS services a broadcast runs through, on the virtual clock:
 * EventBridge Scheduler (one-time schedules → the runner's `fire`) and the SQS slot queue (delayed
 * delivery → `startSlot`, redelivered after a visibility timeout when it throws, to a dead-letter list
 * after `maxReceives`). Advancing the clock fires them in time order and waits for the work they start.
 */
import type { Firing, FiringScheduler, Slot, SlotQueue } from '../../shared/broadcasts/ports.js';
import type { Logger } from '../../shared/log.js';

/** What these need of the local clock (stepfunctions/clock.ts VirtualClock). */
export interface ClockTimers {
  now(): number;
  schedule(at: number, fire: () => void): { cancel(): void };
  track<T>(work: Promise<T>): Promise<T>;
}

const firingKey = (f: Pick<Firing, 'broadcastId' | 'runKey' | 'zone'>) =>
  `${f.broadcastId}\n${f.runKey}\n${f.zone}`;

export function clockScheduler(
  clock: ClockTimers,
  fire: (firing: Firing) => Promise<void>,
  log?: Logger,
): FiringScheduler & { pending(): number } {
  const wakes = new Map<string, { cancel(): void }>();
  return {
    async schedule(firing) {
      const key = firingKey(firing);
      wakes.get(key)?.cancel();
      wakes.set(
        key,
        clock.schedule(Math.max(firing.at, clock.now()), () => {
          wakes.delete(key);
          clock
            .track(fire(firing))
            .catch((error: Error) => log?.error('broadcast firing failed', { errorName: error.name }));
        }),
      );
    },
    async cancel(firing) {
      const key = firingKey(firing);
      wakes.get(key)?.cancel();
      wakes.delete(key);
    },
    pending: () => wakes.size,
  };
}

export function clockQueue(
  clock: ClockTimers,
  deliver: (slot: Slot) => Promise<unknown>,
  options: { maxReceives?: number; visibilityMs?: number; log?: Logger } = {},
): SlotQueue & { deadLetters: Slot[]; deliveries: number } {
  const maxReceives = options.maxReceives ?? 5;
  const visibilityMs = options.visibilityMs ?? 180_000;
  const queue = {
    deadLetters: [] as Slot[],
    deliveries: 0,
    async send(slots: Slot[]) {
      for (const slot of slots) receive(slot, 1, Math.max(slot.notBefore, clock.now()));
    },
  };
  function receive(slot: Slot, attempt: number, at: number): void {
    clock.schedule(at, () => {
      queue.deliveries++;
      clock.track(deliver(slot)).catch((error: Error) => {
        options.log?.warn('slot failed; redelivered after the visibility timeout', {
          slotId: slot.slotId,
          attempt,
          errorName: error.name,
        });
        if (attempt >= maxReceives) queue.deadLetters.push(slot);
        else receive(slot, attempt + 1, clock.now() + visibilityMs);
      });
    });
  }
  return queue;
}
