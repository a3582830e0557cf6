/**
 * Time is injected everywhere so tests are deterministic and the local stack's virtual clock plugs
 * in without special cases.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for unit tests. */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2026-01-01T00:00:00.000Z')) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export function isoAt(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

const installed = Symbol.for('cairn.processClock');
type ClockHolder = { [installed]?: Clock };

/**
 * The clock handlers use: the system clock, unless something in the same process installed another
 * one. The embedded local stack installs its virtual clock (handlers run in its process), so waits,
 * goal windows and re-entry rules follow `POST /local/clock`. On AWS nothing installs one.
 */
export const processClock: Clock = {
  now: () => ((globalThis as ClockHolder)[installed] ?? systemClock).now(),
};

/** Makes `processClock` read `clock` (undefined: back to the system clock). */
export function installProcessClock(clock: Clock | undefined): void {
  (globalThis as ClockHolder)[installed] = clock;
}
