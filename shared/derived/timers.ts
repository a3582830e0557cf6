/**
 * Time-driven changes of derived values: a stage boundary passing (dormant after 30 quiet days), a
 * windowed computed trait losing an event. Each profile carries the time its derived values next
 * change (`dueAt`, on the sparse keys-only `profile-due` index, written with the profile: nothing
 * extra per event). `refreshDueProfiles` re-derives the due profiles, saves them (with the lifecycle
 * counters, in one transaction) and publishes `Lifecycle Stage Changed` onto the bus.
 *
 * On AWS a scheduled Lambda calls it once a minute (free while idle but for that poll); locally a
 * waker schedules it on the virtual clock at each due time, so `POST /local/clock` moves customers
 * into `dormant` before it returns. Cost per refreshed profile: 1 Query (profile), 1 write (profile,
 * plus the counters when the stage changed) and 1 PutEvents when it changed.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ProfileDeriver } from '../profiles/derive.js';
import { getProfile } from '../profiles/ingest.js';
import { type ProfileStore, ProfileWriteConflict } from '../profiles/store.js';
import type { DerivedState } from './derive.js';
import { derivedMessage, type PublishMessages } from './notifier.js';

export interface DerivedTimerDeps {
  store: ProfileStore;
  deriver: ProfileDeriver;
  publish: PublishMessages;
  clock: Clock;
  log?: Logger;
}

/** Refreshes one profile at `now`. Returns whether it wrote. */
export async function refreshProfile(deps: DerivedTimerDeps, profileId: string): Promise<boolean> {
  const live = await getProfile(deps.store, profileId, true);
  // Marked by an erasure under way: nothing of the person is derived, published or written back.
  if (!live || live.erasedAt !== undefined) return false;
  const { presence: _presence, ...record } = live;
  const now = deps.clock.now();
  const { profile, counters } = await deps.deriver.derive({
    profile: record,
    before: record,
    merged: [],
    now,
  });
  const state = profile.derived as DerivedState | undefined;
  // The events go first, with ids fixed by the version read: a retry after a failed save republishes
  // the same ids, which ingest drops.
  const emit = (state?.emit ?? []).map((e) => ({ ...e, messageId: `${e.messageId}-v${record.version}` }));
  if (emit.length > 0) await deps.publish(emit.map((e) => derivedMessage(record, e)));
  try {
    await deps.store.saveProfile({ ...profile, version: record.version + 1 }, record.version, counters);
  } catch (error) {
    // An event got there first: its write re-derived the profile and re-armed the timer. Or an
    // erasure marked the profile since it was read (its version moved): nothing is written back.
    if (error instanceof ProfileWriteConflict) return false;
    throw error;
  }
  if (emit.length > 0)
    deps.log?.info('lifecycle stage changed by time', {
      profileId,
      stage: profile.stage,
      events: emit.length,
    });
  return true;
}

/** Refreshes every profile due by now, page by page. Returns how many it refreshed. */
export async function refreshDueProfiles(
  deps: DerivedTimerDeps,
  options: { pageSize?: number; maxRounds?: number; concurrency?: number } = {},
): Promise<number> {
  let refreshed = 0;
  const seen = new Set<string>();
  for (let round = 0; round < (options.maxRounds ?? 50); round++) {
    const now = new Date(deps.clock.now()).toISOString();
    const due = (await deps.store.dueProfiles(now, options.pageSize ?? 100)).filter(
      (d) => !seen.has(`${d.profileId}@${d.dueAt}`),
    );
    if (due.length === 0) break;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency ?? 10, due.length) }, async () => {
        while (next < due.length) {
          const { profileId, dueAt } = due[next++]!;
          seen.add(`${profileId}@${dueAt}`);
          if (await refreshProfile(deps, profileId)) refreshed += 1;
        }
      }),
    );
  }
  return refreshed;
}

export type DerivedTimerWaker = (at: number) => void;
const installed = Symbol.for('cairn.derivedTimerWaker');
type WakerHolder = { [installed]?: DerivedTimerWaker };

/** The local stack installs a virtual-clock waker; on AWS nothing does (the schedule polls). */
export function installDerivedTimerWaker(waker: DerivedTimerWaker | undefined): void {
  (globalThis as WakerHolder)[installed] = waker;
}

/** Asks for a refresh at `at` where someone listens (called when a write arms a timer). */
export function wakeDerivedTimers(at: number): void {
  (globalThis as WakerHolder)[installed]?.(at);
}
