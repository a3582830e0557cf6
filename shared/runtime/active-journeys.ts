import type { JourneyEntryRules } from '../catalog/active.js';
import type { JourneySource } from './types.js';

/**
 * The published journeys every event is checked against, cached in memory so an event that
 * triggers nothing costs no request.
 */

/** Bumped by invalidateActiveJourneys(): every reactor in the process reloads on its next event. */
let generation = 0;

/** For the catalog: call after publish/pause/resume/archive so same-process reactors see it at once. */
export function invalidateActiveJourneys(): void {
  generation++;
}

/** The active journeys, read again after `ttlMs` or after `invalidateActiveJourneys()`. */
export function cachedActiveJourneys(
  journeys: Pick<JourneySource, 'listActiveJourneys'>,
  ttlMs: number,
): () => Promise<JourneyEntryRules[]> {
  let cache: { at: number; generation: number; journeys: Promise<JourneyEntryRules[]> } | undefined;
  return () => {
    const now = Date.now();
    if (!cache || cache.generation !== generation || now - cache.at >= ttlMs) {
      const list = journeys.listActiveJourneys();
      cache = { at: now, generation, journeys: list };
      list.catch(() => {
        if (cache?.journeys === list) cache = undefined;
      });
    }
    return cache.journeys;
  };
}
