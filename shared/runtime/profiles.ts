import type { Clock } from '../clock.js';
import { type PublishMessages, publishDerived } from '../derived/notifier.js';
import type { ProfileDeriver } from '../profiles/derive.js';
import { commitTraitChange, getProfile, type ProfileStore } from '../profiles/index.js';
import type { ProfileAccess } from './node-deps.js';

/**
 * The step's view of profiles, over the profile store (shared/profiles). Reads follow merges to the
 * surviving profile. An `update` node's change is committed like an ingested `identify` whose
 * messageId is derived from (execution, node): the profile store's dedupe makes a retried step a
 * no-op, its optimistic concurrency keeps concurrent ingests safe, and the profile's timeline shows
 * the change with `context.cairn` naming the journey and node.
 */
export function profileAccess(options: {
  store: ProfileStore;
  clock: Clock;
  /** Keeps computed traits, stage and scores current with the change (shared/derived), as ingest does. */
  deriver?: ProfileDeriver;
  /**
   * Where a stage change or a threshold crossed by the change goes (the bus, as from ingest), so
   * journeys triggered by `Lifecycle Stage Changed` / `Lead Score Threshold Crossed` start.
   */
  publish?: PublishMessages;
}): ProfileAccess {
  const { store, clock, deriver, publish } = options;
  return {
    async getProfile(profileId) {
      const profile = await getProfile(store, profileId);
      if (!profile) return undefined;
      return {
        profileId: profile.profileId,
        traits: profile.traits,
        identities: profile.identities,
        ...(profile.computed !== undefined && { computed: profile.computed }),
        ...(profile.stage !== undefined && { stage: profile.stage }),
        ...(profile.scores !== undefined && { scores: profile.scores }),
        ...(profile.memberOf && { memberOf: profile.memberOf }),
        // Push devices (context.device): where a push node sends.
        ...(profile.devices?.length && { devices: profile.devices }),
      };
    },

    async updateTraits(profileId, change, origin) {
      await commitTraitChange(
        store,
        clock,
        profileId,
        {
          traits: (record) => {
            const traits: Record<string, unknown> = { ...change.set };
            for (const [trait, by] of Object.entries(change.increment)) {
              const current = Number(record.traits[trait]);
              traits[trait] = (Number.isFinite(current) ? current : 0) + by;
            }
            return traits;
          },
          messageId: () => origin.messageId,
          context: {
            cairn: { journeyId: origin.journeyId, nodeId: origin.nodeId, execution: origin.executionName },
          },
          // The derived events' ids come from this change's messageId: a retried step republishes
          // the same ids, which ingest drops.
          ...(publish && { committed: (profile) => publishDerived(publish, profile, origin.messageId) }),
        },
        deriver,
      );
    },
  };
}
