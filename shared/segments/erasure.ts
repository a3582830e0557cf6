import type { ProfileErasurePart } from '../profiles/erasure.js';
import type { SegmentStore } from './store.js';

/**
 * Segments' part of an erasure (shared/profiles/erasure.ts): every membership of the erased profiles
 * ends as an exit does (the item deleted and the segment's count down by one, in one transaction,
 * once), so segment counts stay exact. Window timers and non-member items go with the profile's own
 * items; an evaluation that finishes after the erasure cannot enter the profile again (`enter` checks
 * the erasure tombstone). Cost per profile: 1 Query, + 1 TransactWriteItems per membership.
 */
export function segmentErasure(store: Pick<SegmentStore, 'readProfile' | 'exit'>): ProfileErasurePart {
  return {
    name: 'segmentMemberships',
    async erase(profileIds) {
      let ended = 0;
      for (const profileId of profileIds) {
        const { states } = await store.readProfile(profileId, null);
        for (const state of states.values()) {
          if (state.member && (await store.exit(state.segmentId, profileId))) ended++;
        }
      }
      return ended;
    },
  };
}
