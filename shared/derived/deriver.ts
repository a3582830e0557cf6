import type { ProfileDeriver } from '../profiles/derive.js';
import type { ProfileRecord } from '../profiles/model.js';
import { type DerivableProfile, type Deriving, deriveProfile, prepare, viewOf } from './derive.js';
import { lifecycleCounters } from './lifecycle-counts.js';
import type { DerivedDefinitions } from './schema.js';
import { wakeDerivedTimers } from './timers.js';

/** Prepared (compiled) definitions, rebuilt only when the snapshot object changes. */
export function preparedDefinitions(load: () => Promise<DerivedDefinitions>): () => Promise<Deriving> {
  let last: { definitions: DerivedDefinitions; deriving: Deriving } | undefined;
  return async () => {
    const definitions = await load();
    if (last?.definitions !== definitions) last = { definitions, deriving: prepare(definitions) };
    return last.deriving;
  };
}

/** The ProfileDeriver ingest uses: no request per event beyond the cached definitions. */
export function createDeriver(load: () => Promise<Deriving>): ProfileDeriver & {
  view(profile: ProfileRecord, now: number): Promise<ProfileRecord>;
} {
  return {
    async derive({ profile, before, merged, message, now }) {
      const deriving = await load();
      const next = deriveProfile(deriving, {
        profile: profile as ProfileRecord & DerivableProfile,
        merged: merged as DerivableProfile[],
        ...(message ? { message } : {}),
        now,
      });
      const counters = lifecycleCounters({
        profileId: next.profileId,
        before: before?.stage,
        after: next.stage!,
        mergedStages: merged.map((m) => m.stage),
        now,
      });
      if (next.dueAt !== undefined && next.dueAt !== profile.dueAt) wakeDerivedTimers(Date.parse(next.dueAt));
      return { profile: next, counters };
    },
    /** The profile with `computed`, `stage` and `scores` as they are at `now` (nothing written). */
    async view(profile, now) {
      const deriving = await load();
      return { ...profile, ...viewOf(deriving, profile as ProfileRecord & DerivableProfile, now) };
    },
  };
}
