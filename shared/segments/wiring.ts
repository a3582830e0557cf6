/**
 * How segments meet the rest of Cairn: the bus names of backfill pages, the journey trigger a
 * membership change becomes, and the change a stored event means for segments.
 */
import type { NormalizedMessage } from '../events/normalize.js';
import {
  type MembershipChange,
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
    type: 'track',
    event: change.change === 'entered' ? segmentEnteredEvent : segmentExitedEvent,
    messageId: `segment-${change.change}-${change.segmentId}-${change.profileId}-${change.at}`,
    properties: { segment: change.segmentId },
    timestamp: change.at,
  };
}

/** What a stored event can change for segments. */
export function changeOf(message: NormalizedMessage, merged: string[]): ProfileChange {
  if (merged.length > 0) return { everything: true };
  const traits = message.type === 'identify' ? Object.keys(message.traits ?? {}) : [];
  // An unsubscribe emits `Unsubscribed` after setting the `unsubscribed` trait.
  if (message.type === 'track' && message.event === 'Unsubscribed') traits.push('unsubscribed');
  return {
    activity: true,
    ...(message.type === 'track' && message.event !== undefined && { event: message.event }),
    ...(traits.length > 0 && { traits }),
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
      profile: { profileId: string };
      event: NormalizedMessage;
      result: { merged: string[] };
    }) {
      for (const merged of input.result.merged) await reevaluateProfile(engine, merged, { everything: true });
      await reevaluateProfile(engine, input.profile.profileId, changeOf(input.event, input.result.merged));
    },
  };
}
