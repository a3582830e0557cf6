import type { Clock } from '../clock.js';
import type { NormalizedMessage } from '../events/normalize.js';
import { exponentialBackoff, retrying } from '../retry.js';
import type { ProfileDeriver } from './derive.js';
import { getProfile } from './ingest.js';
import { applyEvent, type ProfileRecord } from './model.js';
import {
  DuplicateMessageError,
  MessageIdReusedError,
  type ProfileStore,
  ProfileWriteConflict,
} from './store.js';

/**
 * A change of traits Cairn makes on its own behalf (a journey's `update` node, an unsubscribe).
 * It is committed like an ingested `identify`, so the same rules hold as for any event: dedupe on
 * `messageId` makes a retried change a no-op, optimistic concurrency on the profile version keeps
 * concurrent ingests safe, reads follow merges, and the timeline shows the change with `context`.
 */
export interface TraitChange {
  /** The traits to set, computed from the current profile; `undefined` when there is nothing to do. */
  traits(profile: ProfileRecord): Record<string, unknown> | undefined;
  /** The dedupe key: the same key twice commits once. */
  messageId(profile: ProfileRecord): string;
  /** Recorded on the synthetic event, e.g. `{ cairn: { journeyId, nodeId } }`. */
  context: Record<string, unknown>;
  /**
   * Called with the profile as written once the change is committed, and again by a retry that
   * finds it already committed (its first attempt may have failed before this ran): what the
   * write derived (a stage change, a threshold crossed) is published here, as ingest's hooks do.
   */
  committed?(profile: ProfileRecord): Promise<void>;
}

const attempts = 6;
/** As ingest's (shared/profiles/ingest.ts): both lose the same optimistic-concurrency race on the profile. */
const backoff = exponentialBackoff({ baseMs: 5, maxMs: 200, jitter: 'full' });

/**
 * Commits `change` to the profile (or the one it merged into). Returns whether anything was written.
 * With a `deriver`, computed traits, stage and scores are brought up to date in the same write, as
 * ingest does for an `identify`.
 */
export async function commitTraitChange(
  store: ProfileStore,
  clock: Clock,
  profileId: string,
  change: TraitChange,
  deriver?: ProfileDeriver,
): Promise<boolean> {
  try {
    return await retrying(
      (attempt) => attemptTraitChange(store, clock, profileId, change, deriver, attempt),
      {
        attempts,
        retryable: (error) => error instanceof ProfileWriteConflict,
        backoff,
      },
    );
  } catch (error) {
    if (!(error instanceof ProfileWriteConflict)) throw error;
    throw new ProfileWriteConflict(`profile ${profileId} kept changing: trait change not applied`);
  }
}

/** One read-modify-write of the change; throws ProfileWriteConflict when the profile moved on meanwhile. */
async function attemptTraitChange(
  store: ProfileStore,
  clock: Clock,
  profileId: string,
  change: TraitChange,
  deriver: ProfileDeriver | undefined,
  attempt: number,
): Promise<boolean> {
  const live = await getProfile(store, profileId, attempt > 1);
  // Marked by an erasure under way (its commit would fail the version): nothing to change.
  if (!live || live.erasedAt !== undefined) return false;
  const { presence: _presence, ...record } = live;
  const traits = change.traits(record);
  if (!traits) return false;
  const now = new Date(clock.now()).toISOString();
  const message: NormalizedMessage = {
    type: 'identify',
    messageId: change.messageId(record),
    ...(record.identities.userId[0] !== undefined && { userId: record.identities.userId[0] }),
    ...(record.identities.anonymousId[0] !== undefined && {
      anonymousId: record.identities.anonymousId[0],
    }),
    traits,
    properties: {},
    context: change.context,
    timestamp: now,
    receivedAt: now,
  };
  let next: ProfileRecord = { ...applyEvent(record, message, now), version: record.version + 1 };
  let counters: Awaited<ReturnType<ProfileDeriver['derive']>>['counters'] = [];
  if (deriver) {
    const derived = await deriver.derive({
      profile: next,
      before: record,
      merged: [],
      message,
      now: clock.now(),
    });
    next = derived.profile;
    counters = derived.counters;
  }
  try {
    await store.commit({
      message,
      profile: next,
      expectedVersion: record.version,
      identities: [],
      merged: [],
      movePresence: [],
      ...(counters.length > 0 && { counters }),
    });
    await change.committed?.(next);
    return true;
  } catch (error) {
    // Cairn makes these ids unique per change (execution and node): a retry computes its traits from
    // the profile as it is now (an increment already applied), so other content is still a retry.
    if (error instanceof DuplicateMessageError || error instanceof MessageIdReusedError) {
      if (change.committed) {
        const written = await getProfile(store, profileId, true);
        if (written) await change.committed(written);
      }
      return false;
    }
    throw error;
  }
}
