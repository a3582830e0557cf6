import type { JourneyEntryRules } from '../catalog/active.js';
import type { JourneySource } from './types.js';

/**
 * The published journeys every event is checked against, cached in memory. Whether the cache is
 * still right is asked of the catalog's change stamp (one GetItem of a tiny item), in every process
 * alike: a publish, pause or archive through the api Lambda reaches every ingest container at its
 * next check. The list itself (one Query of every journey head) is read again only when the stamp
 * moved, or after `maxAgeMs` in any case.
 */

export interface ActiveJourneyCacheOptions {
  /** How long the cache is used without asking the stamp; 0 (the default): on every event. */
  checkMs?: number;
  /** Read the list again after this long even when the stamp did not move; default 60 s. */
  maxAgeMs?: number;
  /** Milliseconds since the epoch (real time: cache ages, not journey time). */
  now?: () => number;
}

/**
 * The active journeys as a function to call per event. Without `catalogStamp` (test fakes) the list
 * is read again after `checkMs`.
 */
export function cachedActiveJourneys(
  journeys: Pick<JourneySource, 'listActiveJourneys' | 'catalogStamp'>,
  options: ActiveJourneyCacheOptions = {},
): () => Promise<JourneyEntryRules[]> {
  const checkMs = options.checkMs ?? 0;
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const now = options.now ?? Date.now;
  type Entry = { stamp?: number; loadedAt: number; journeys: Promise<JourneyEntryRules[]> };
  let cache: Entry | undefined;
  // Events that arrive while a check is in flight share it (one stamp read, at most one list read).
  let checking: { at: number; fresh: Promise<Entry>; settled: boolean } | undefined;

  const load = (stamp: number | undefined, at: number): Entry => {
    const entry: Entry = { stamp, loadedAt: at, journeys: journeys.listActiveJourneys() };
    entry.journeys.catch(() => {
      if (cache === entry) cache = undefined;
    });
    return entry;
  };

  const check = async (at: number): Promise<Entry> => {
    const stamp = journeys.catalogStamp ? await journeys.catalogStamp() : undefined;
    if (!cache || stamp === undefined || stamp !== cache.stamp || at - cache.loadedAt >= maxAgeMs) {
      cache = load(stamp, at);
    }
    return cache;
  };

  return async () => {
    const at = now();
    if (!checking || (checking.settled && at - checking.at >= checkMs)) {
      const current = { at, fresh: check(at), settled: false };
      checking = current;
      current.fresh.then(
        () => {
          current.settled = true;
        },
        () => {
          if (checking === current) checking = undefined;
        },
      );
    }
    return (await checking.fresh).journeys;
  };
}
