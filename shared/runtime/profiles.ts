import type { Clock } from '../clock.js';
import type { NormalizedMessage } from '../events/normalize.js';
import {
  applyEvent,
  DuplicateMessageError,
  getProfile,
  type ProfileRecord,
  type ProfileStore,
  ProfileWriteConflict,
} from '../profiles/index.js';
import type { ProfileAccess } from './step.js';

/**
 * The step's view of profiles, over the profile store (shared/profiles). Reads follow merges to the
 * surviving profile. An `update` node's change is committed like an ingested `identify` whose
 * messageId is derived from (execution, node): the profile store's dedupe makes a retried step a
 * no-op, its optimistic concurrency keeps concurrent ingests safe, and the profile's timeline shows
 * the change with `context.cairn` naming the journey and node.
 */
export function profileAccess(options: { store: ProfileStore; clock: Clock }): ProfileAccess {
  const { store, clock } = options;
  return {
    async getProfile(profileId) {
      const profile = await getProfile(store, profileId);
      if (!profile) return undefined;
      return {
        profileId: profile.profileId,
        traits: profile.traits,
        identities: profile.identities,
      } as never;
    },

    async updateTraits(profileId, change, origin) {
      for (let attempt = 0; attempt < 6; attempt++) {
        const live = await getProfile(store, profileId);
        if (!live) return;
        const { presence: _presence, ...record } = live;
        const traits: Record<string, unknown> = { ...change.set };
        for (const [trait, by] of Object.entries(change.increment)) {
          const current = Number(record.traits[trait]);
          traits[trait] = (Number.isFinite(current) ? current : 0) + by;
        }
        const now = new Date(clock.now()).toISOString();
        const message: NormalizedMessage = {
          type: 'identify',
          messageId: origin.messageId,
          ...(record.identities.userId[0] !== undefined && { userId: record.identities.userId[0] }),
          ...(record.identities.anonymousId[0] !== undefined && {
            anonymousId: record.identities.anonymousId[0],
          }),
          traits,
          properties: {},
          context: {
            cairn: { journeyId: origin.journeyId, nodeId: origin.nodeId, execution: origin.executionName },
          },
          timestamp: now,
          receivedAt: now,
        };
        const next: ProfileRecord = { ...applyEvent(record, message, now), version: record.version + 1 };
        try {
          await store.commit({
            message,
            profile: next,
            expectedVersion: record.version,
            identities: [],
            merged: [],
            movePresence: [],
          });
          return;
        } catch (error) {
          if (error instanceof DuplicateMessageError) return;
          if (!(error instanceof ProfileWriteConflict)) throw error;
        }
      }
      throw new ProfileWriteConflict(`profile ${profileId} kept changing: trait update not applied`);
    },
  };
}
