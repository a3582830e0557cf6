import { getProfile } from './ingest.js';
import type { Profile } from './model.js';
import {
  type CounterIncrement,
  type ErasureCounts,
  type ProfileStore,
  ProfileWriteConflict,
} from './store.js';

/**
 * Erasure of a person (`DELETE /profiles/{id}`), across every table Cairn keeps:
 *   1. tombstones for the profile and every profile merged into it, and their profile items marked
 *      (`ProfileStore.markErased`: version + 1, `erasedAt`), so a journey step or an entry that
 *      finishes late is refused, and an ingest or a timer that read the profile fails its version
 *      condition, instead of writing under it again;
 *   2. journeys (`JourneyErasure`, shared/runtime/erasure.ts): every execution of those profiles is
 *      stopped, their message records (subject, profile id) deleted;
 *   3. dead letters whose body names one of the person's identifiers;
 *   4. the other modules' parts (`ProfileErasurePart`): segment memberships ended with their counts;
 *   5. the profiles' own items: events, presence, entry records, journey timeline, dedupe records,
 *      segment items, send log, identities, and the profile item last (until then, a retried
 *      erasure finds everything again), with the counters it is in (`profileCounters`: the
 *      lifecycle stage counts) taken down in the same transaction.
 * What stays outside Cairn's tables (Step Functions history, logs, SES) is in the README.
 */

export interface JourneyErasure {
  /** Stops every execution of the profiles and deletes the journey data kept outside their items. */
  eraseJourneys(profileIds: string[]): Promise<{ executionsStopped: number; messages: number }>;
}

export interface DeadLetterErasure {
  /** Deletes the dead letters (still kept) whose body names one of the identifiers; returns how many. */
  eraseNaming(identifiers: string[]): Promise<number>;
}

/**
 * What another module keeps about a profile outside the profile's own items, or what must be
 * corrected when they go (a count): segments' memberships, for instance. Runs after the tombstones
 * and before the profiles' items are deleted (so it can still read them); idempotent, as an erasure
 * may be retried.
 */
export interface ProfileErasurePart {
  /** The result's field for the count it returns (`segmentMemberships`). */
  name: string;
  /** Removes or corrects what names the profiles; returns how many items. */
  erase(profileIds: string[]): Promise<number>;
}

export interface ErasureDeps {
  journeys?: JourneyErasure;
  deadLetters?: DeadLetterErasure;
  parts?: ProfileErasurePart[];
  /**
   * Counters a profile is counted in, taken down when its item is deleted (in that transaction, so
   * exactly once): the lifecycle stage counts (shared/derived/lifecycle-counts.ts).
   */
  profileCounters?(profile: Profile): CounterIncrement[];
}

export interface ErasureResult extends ErasureCounts {
  profileId: string;
  /** Every profile id erased: the profile and those merged into it. */
  profileIds: string[];
  executionsStopped: number;
  messages: number;
  deadLetters: number;
  /** What each part erased, by its name. */
  [part: string]: unknown;
}

/** Erases the person the profile id belongs to (merged or not). Null when there is no such profile. */
export async function eraseProfile(
  store: ProfileStore,
  profileId: string,
  deps: ErasureDeps = {},
): Promise<ErasureResult | null> {
  // The mark is conditioned on the versions read: a merge committed meanwhile (a profile merged into
  // this one since) fails it, and the erasure reads again, the new merged profile included.
  let read: { profile: Profile; records: Profile[]; profileIds: string[] } | null = null;
  for (let attempt = 1; read === null; attempt++) {
    const profile = await getProfile(store, profileId);
    if (!profile) return null;
    const merged = await Promise.all(
      profile.mergedFrom.map((id) => store.readProfile(id, { consistent: true })),
    );
    const records = [profile, ...merged.filter((p): p is Profile => p !== null)];
    const profileIds = [...new Set([profile.profileId, ...profile.mergedFrom])];
    try {
      await store.markErased(profileIds, records);
      read = { profile, records, profileIds };
    } catch (error) {
      if (!(error instanceof ProfileWriteConflict) || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    }
  }
  const { profile, records, profileIds } = read;
  const journeys = deps.journeys
    ? await deps.journeys.eraseJourneys(profileIds)
    : { executionsStopped: 0, messages: 0 };
  const identifiers = new Set<string>(profileIds);
  for (const record of records) {
    for (const values of Object.values(record.identities)) for (const value of values) identifiers.add(value);
  }
  const deadLetters = deps.deadLetters ? await deps.deadLetters.eraseNaming([...identifiers]) : 0;
  const parts: Record<string, number> = {};
  for (const part of deps.parts ?? []) parts[part.name] = await part.erase(profileIds);
  const counts = await store.deleteProfiles(records, {
    ...(deps.profileCounters && { counters: deps.profileCounters }),
  });
  return { profileId: profile.profileId, profileIds, ...counts, ...journeys, deadLetters, ...parts };
}
