import type { Clock } from '../clock.js';
import type { JourneySource } from '../runtime/types.js';
import type { ActiveJourney, JourneyCatalog } from './catalog.js';

export interface CachedJourneySourceOptions {
  clock: Clock;
  /** How long a listing is reused, in ms. Default 5 s: a publish or pause reaches ingest within it. */
  ttlMs?: number;
}

/**
 * The runtime's view of the catalog (shared/runtime's `JourneySource`), cached per container: ingest
 * asks for the active journeys on every event, and this turns that into one DynamoDB Query per
 * `ttlMs`. Concurrent callers during a refresh share one request.
 */
export function cachedJourneySource(
  catalog: Pick<JourneyCatalog, 'listActiveJourneys'>,
  options: CachedJourneySourceOptions,
): JourneySource & { listActiveJourneys(): Promise<ActiveJourney[]>; invalidate(): void } {
  const ttlMs = options.ttlMs ?? 5_000;
  let cached: { at: number; journeys: Promise<ActiveJourney[]> } | undefined;
  const list = (): Promise<ActiveJourney[]> => {
    const now = options.clock.now();
    if (!cached || now - cached.at >= ttlMs || now < cached.at) {
      const journeys = catalog.listActiveJourneys();
      const entry = { at: now, journeys };
      cached = entry;
      journeys.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.journeys;
  };
  return {
    listActiveJourneys: list,
    async getJourney(journeyId) {
      return (await list()).find((journey) => journey.id === journeyId);
    },
    invalidate() {
      cached = undefined;
    },
  };
}
