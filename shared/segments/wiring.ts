/**
 * How segments meet the rest of Cairn: the bus names of backfill pages, the journey trigger a
 * membership change becomes, and the change a stored event means for segments.
 */
import type { NormalizedMessage } from '../events/normalize.js';
import type { Profile } from '../profiles/model.js';
import type { ProfileAccess } from '../runtime/node-deps.js';
import {
  type MembershipChange,
  type MembershipNotifier,
  type ProfileChange,
  reevaluateProfile,
  type SegmentEngineDeps,
} from './engine.js';

/** Backfill pages travel on the Cairn bus (rule `cairn-segments` → queue → segments function). */
export const segmentsSource = 'cairn.segments';
export const backfillDetailType = 'Segment Backfill Page';

/** The event names a journey trigger `{ segment, on }` matches (properties.segment = the id). */
export const segmentEnteredEvent = 'Segment Entered';
export const segmentExitedEvent = 'Segment Exited';

/**
 * A membership change as the journeys runtime sees it: a track event, never stored, whose
 * messageId is stable per entry (so a retried start is idempotent).
 */
export function membershipEvent(change: MembershipChange) {
  return {
    type: 'track' as const,
    event: change.change === 'entered' ? segmentEnteredEvent : segmentExitedEvent,
    messageId: `segment-${change.change}-${change.segmentId}-${change.profileId}-${change.at}`,
    properties: { segment: change.segmentId },
    timestamp: change.at,
  };
}

/**
 * What a stored event can change for segments. A redelivered event (`duplicate`) may have merged
 * profiles the first time and failed before segments were evaluated; the redelivery no longer knows
 * that, so it re-evaluates everything (redeliveries are rare).
 */
export function changeOf(message: NormalizedMessage, merged: string[], duplicate = false): ProfileChange {
  if (merged.length > 0 || duplicate) return { everything: true };
  const traits = message.type === 'identify' ? Object.keys(message.traits ?? {}) : [];
  // An unsubscribe emits `Unsubscribed` after setting the `unsubscribed` trait.
  if (message.type === 'track' && message.event === 'Unsubscribed') traits.push('unsubscribed');
  return {
    activity: true,
    ...(message.type === 'track' && message.event !== undefined && { event: message.event }),
    ...(traits.length > 0 && { traits }),
  };
}

/** Who hears of membership changes: the journeys runtime's reactor (`trigger: { segment }`). */
export interface MembershipListener {
  onEvent(input: MembershipInput): Promise<unknown>;
  /**
   * Whether `onEvent` would start, resume or stop anything for this input; true when it cannot
   * tell without reading (no journey items given). Costs no request beyond the cached journeys.
   */
  wouldAct?(input: MembershipInput): Promise<boolean>;
}

type KnownProfile = Pick<Profile, 'profileId'> & Partial<Pick<Profile, 'presence'>>;

type MembershipInput = {
  /** The profile with its journey items when the caller read them (the journeys runtime's RuntimeProfile). */
  profile: KnownProfile;
  event: ReturnType<typeof membershipEvent>;
  membership: { segmentId: string; change: MembershipChange['change'] };
};

/**
 * Hands each membership change to the journeys reactor as a `Segment Entered` / `Segment Exited`
 * event marked as Cairn's own (`membership`), which starts the journeys triggered by that segment.
 * `known` is the profile as the caller read it with its journey items (ingest): the reactor then
 * reads nothing for a change that starts, resumes and stops nothing, and such a change is written
 * without a pending mark (engine.ts, MembershipNotifier).
 */
export function membershipTrigger(reactor: MembershipListener, known?: KnownProfile): MembershipNotifier {
  const input = (change: MembershipChange): MembershipInput => {
    const presence = known?.profileId === change.profileId ? known.presence : undefined;
    return {
      profile: { profileId: change.profileId, ...(presence && { presence }) },
      event: membershipEvent(change),
      membership: { segmentId: change.segmentId, change: change.change },
    };
  };
  return {
    listens: async (change) => (reactor.wouldAct ? reactor.wouldAct(input(change)) : true),
    notify: async (change) => {
      await reactor.onEvent(input(change));
    },
  };
}

/**
 * Profile access whose trait changes (a journey's `update` node) re-evaluate the segments reading
 * those traits (and the derived values, which a trait can move: a fit score), like an `identify`.
 * A retried step re-evaluates too: its first attempt may have written and failed before this.
 */
export function reevaluatingTraitChanges<A extends Pick<ProfileAccess, 'updateTraits'>>(
  access: A,
  engine: SegmentEngineDeps,
): A {
  return {
    ...access,
    async updateTraits(profileId, change, origin) {
      await access.updateTraits(profileId, change, origin);
      const traits = [...Object.keys(change.set), ...Object.keys(change.increment)];
      await reevaluateProfile(engine, profileId, { traits, activity: true });
    },
  };
}

/**
 * Ingest's segments hook (after the event is stored, like the journeys reactor): profiles merged
 * away leave their segments, and the surviving profile is re-evaluated for what the event can
 * change. Idempotent: a redelivered event finds the memberships already written and writes nothing.
 */
export function segmentsReactor(engine: SegmentEngineDeps) {
  return {
    async onEvent(input: {
      profile: { profileId: string; mergedFrom?: string[] } | null;
      event: NormalizedMessage;
      result: { merged: string[]; duplicate?: boolean };
    }) {
      if (!input.profile) return;
      const { duplicate = false } = input.result;
      // A redelivery does not know what it merged: every profile ever merged in is checked again.
      const merged = duplicate ? (input.profile.mergedFrom ?? []) : input.result.merged;
      for (const id of merged) await reevaluateProfile(engine, id, { everything: true });
      await reevaluateProfile(engine, input.profile.profileId, changeOf(input.event, merged, duplicate));
    },
  };
}
