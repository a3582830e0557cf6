/**
 * Computed traits as O(1) state per event. A trait without a window keeps one running value; a
 * windowed trait keeps counters per time bucket (a day for windows of two days or more, an hour for
 * shorter ones, a minute under two hours), so an event updates one bucket and the value at any time
 * is a sum over at most `window / bucket` buckets. Buckets older than the window are dropped when the
 * state is next touched, so the state stays bounded without re-reading the event history.
 *
 * Precision: an event counts while any part of its bucket is inside the window, so it leaves the
 * window between `within` and `within + bucket` after it happened (at most a day late for P90D).
 */

import { dictionary, hasOwn, ownValue, setOwn } from '../dictionary.js';
import { durationSeconds } from '../journeys/duration.js';
import { propertyAt } from '../journeys/fields.js';
import type { TraitDefinition } from './schema.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** Distinct values a `mostFrequent` trait tracks (per bucket when windowed): the item must stay small. */
export const maxDistinctValues = 50;

/** The stored state of one computed trait. `b` maps bucket index (time / bucket size) to its counter. */
export type TraitState =
  | { n: number } // count, sum (no window)
  | { b: Record<string, number> } // count, sum (windowed)
  | { t: number; v?: unknown } // latest: its event time and value
  | { c: Record<string, number> } // mostFrequent (no window)
  | { bc: Record<string, Record<string, number>> }; // mostFrequent (windowed)

export function bucketMs(trait: TraitDefinition): number {
  if (trait.within === undefined) return 0;
  const window = durationSeconds(trait.within) * 1000;
  return window >= 2 * day ? day : window >= 2 * hour ? hour : minute;
}

function windowMs(trait: TraitDefinition): number {
  return trait.within === undefined ? Number.POSITIVE_INFINITY : durationSeconds(trait.within) * 1000;
}

/** Whether a bucket (by index) still holds events inside the window at `now`. */
function bucketLive(index: number, size: number, window: number, now: number): boolean {
  return (index + 1) * size > now - window;
}

/** The value an event contributes: a number for sum, a key for mostFrequent, any JSON for latest. */
function contribution(
  trait: TraitDefinition,
  event: { properties: unknown; context?: unknown; traits?: unknown },
) {
  if (trait.property === undefined) return undefined;
  return propertyAt(event, trait.property);
}

/**
 * The state after one matching event at `at` (epoch ms), seen at `now`. Pure: returns a new state.
 * Events older than the window are ignored (a late delivery of an old event changes nothing).
 */
export function addEvent(
  trait: TraitDefinition,
  state: TraitState | undefined,
  event: { properties: unknown; context?: unknown; traits?: unknown },
  at: number,
  now: number,
): TraitState | undefined {
  const window = windowMs(trait);
  if (at <= now - window) return state;
  const value = contribution(trait, event);
  const size = bucketMs(trait);
  const index = size > 0 ? String(Math.floor(at / size)) : '';
  switch (trait.aggregate) {
    case 'count':
    case 'sum': {
      const amount = trait.aggregate === 'count' ? 1 : toNumber(value);
      if (amount === undefined) return state;
      if (size === 0) return { n: round(((state as { n?: number })?.n ?? 0) + amount) };
      const buckets = prune({ ...((state as { b?: Record<string, number> })?.b ?? {}) }, size, window, now);
      buckets[index] = round((buckets[index] ?? 0) + amount);
      return { b: buckets };
    }
    case 'latest': {
      const previous = state as { t?: number } | undefined;
      if (previous?.t !== undefined && previous.t > at) return state;
      if (trait.property !== undefined && value === undefined) return state;
      return trait.property === undefined ? { t: at } : { t: at, v: value };
    }
    case 'mostFrequent': {
      const key = toKey(value);
      if (key === undefined) return state;
      if (size === 0) {
        const counts = { ...((state as { c?: Record<string, number> })?.c ?? {}) };
        countValue(counts, key, 1);
        return { c: counts };
      }
      const buckets = prune(
        { ...((state as { bc?: Record<string, Record<string, number>> })?.bc ?? {}) },
        size,
        window,
        now,
      );
      const counts = { ...(buckets[index] ?? {}) };
      countValue(counts, key, 1);
      buckets[index] = counts;
      return { bc: buckets };
    }
  }
}

/** The trait's value at `now` (null when nothing counts). */
export function traitValue(trait: TraitDefinition, state: TraitState | undefined, now: number): unknown {
  const window = windowMs(trait);
  const size = bucketMs(trait);
  switch (trait.aggregate) {
    case 'count':
    case 'sum': {
      if (state === undefined) return 0;
      if ('n' in state) return state.n;
      if (!('b' in state)) return 0;
      let total = 0;
      for (const [index, amount] of Object.entries(state.b))
        if (bucketLive(Number(index), size, window, now)) total += amount;
      return round(total);
    }
    case 'latest': {
      if (state === undefined || !('t' in state)) return null;
      if (state.t <= now - window) return null;
      return trait.property === undefined ? new Date(state.t).toISOString() : (state.v ?? null);
    }
    case 'mostFrequent': {
      if (state === undefined) return null;
      const totals: Record<string, number> = dictionary();
      if ('c' in state) Object.assign(totals, state.c);
      else if ('bc' in state) {
        for (const [index, counts] of Object.entries(state.bc)) {
          if (!bucketLive(Number(index), size, window, now)) continue;
          for (const [key, count] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + count;
        }
      }
      // Most frequent; ties go to the value first seen by sort order, so the answer is stable.
      let best: string | null = null;
      for (const [key, count] of Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : 1)))
        if (best === null || count > totals[best]!) best = key;
      return best;
    }
  }
}

/** When the value will next change with no new event: the next bucket or latest time leaving the window. */
export function traitNextChange(
  trait: TraitDefinition,
  state: TraitState | undefined,
  now: number,
): number | undefined {
  if (trait.within === undefined || state === undefined) return undefined;
  const window = windowMs(trait);
  const size = bucketMs(trait);
  if ('t' in state) return state.t + window > now ? state.t + window : undefined;
  const indexes = 'b' in state ? Object.keys(state.b) : 'bc' in state ? Object.keys(state.bc) : [];
  let next: number | undefined;
  for (const index of indexes) {
    const leaves = (Number(index) + 1) * size + window;
    if (leaves > now && (next === undefined || leaves < next)) next = leaves;
  }
  return next;
}

/** Two states of the same trait added up (a profile merge). */
export function mergeTraitState(
  trait: TraitDefinition,
  a: TraitState | undefined,
  b: TraitState | undefined,
): TraitState | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if ('n' in a && 'n' in b) return { n: round(a.n + b.n) };
  if ('b' in a && 'b' in b) {
    const buckets = { ...a.b };
    for (const [index, amount] of Object.entries(b.b)) buckets[index] = round((buckets[index] ?? 0) + amount);
    return { b: buckets };
  }
  if ('t' in a && 't' in b) return a.t >= b.t ? a : b;
  if ('c' in a && 'c' in b) return { c: addCounts(a.c, b.c) };
  if ('bc' in a && 'bc' in b) {
    const buckets = { ...a.bc };
    for (const [index, counts] of Object.entries(b.bc))
      buckets[index] = addCounts(buckets[index] ?? {}, counts);
    return { bc: buckets };
  }
  // The definition changed shape between the two: keep the state that fits it now.
  return trait.within === undefined ? a : b;
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [key, count] of Object.entries(b)) countValue(out, key, count);
  return out;
}

/** Counts a value (any string: `constructor` and `__proto__` are values like others). */
function countValue(counts: Record<string, number>, key: string, by: number): void {
  if (!hasOwn(counts, key) && Object.keys(counts).length >= maxDistinctValues) return;
  setOwn(counts, key, (ownValue(counts, key) ?? 0) + by);
}

function prune<T>(buckets: Record<string, T>, size: number, window: number, now: number): Record<string, T> {
  for (const index of Object.keys(buckets))
    if (!bucketLive(Number(index), size, window, now)) delete buckets[index];
  return buckets;
}

function toNumber(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function toKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value.slice(0, 200);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Sums of decimal amounts (prices) without binary noise: 0.1 + 0.2 = 0.3. */
function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
