/**
 * Publishes what a write derived (a lifecycle stage change, a lead-score threshold crossed) onto the
 * bus as the customer's track events, so journeys trigger on them like on any event. It runs after
 * ingest's write (as an EventReactor) and for redeliveries too: the events' messageIds are fixed by
 * the write that caused them, so a second publication is dropped by ingest's dedupe. Cost: one
 * PutEvents for an event that changed a stage or crossed a threshold, none otherwise.
 */
import type { NormalizedMessage } from '../events/normalize.js';
import type { EventReactor } from '../profiles/reactor.js';
import type { DerivedEmit, DerivedState } from './derive.js';

export type PublishMessages = (messages: NormalizedMessage[]) => Promise<void>;

export function derivedEventsReactor(publish: PublishMessages): EventReactor {
  return {
    async onEvent({ profile, event }) {
      await publishDerived(publish, profile, event.messageId);
    },
  };
}

/**
 * Publishes what the write of message `cause` derived for `profile`, if that write is the profile's
 * last (a later write has published its own). Ingest's hook and an `update` node's change use it.
 */
export async function publishDerived(
  publish: PublishMessages,
  profile: { profileId: string; identities: { userId: string[]; anonymousId: string[] }; derived?: unknown },
  cause: string,
): Promise<void> {
  const state = profile.derived as DerivedState | undefined;
  if (!state?.emit?.length || state.emitBy !== cause) return;
  await publish(state.emit.map((emit) => derivedMessage(profile, emit)));
}

/** The track message of a derived event, for the profile's first userId / anonymousId. */
export function derivedMessage(
  profile: { profileId: string; identities: { userId: string[]; anonymousId: string[] } },
  emit: DerivedEmit,
): NormalizedMessage {
  const userId = profile.identities.userId[0];
  const anonymousId = profile.identities.anonymousId[0];
  return {
    type: 'track',
    messageId: emit.messageId,
    ...(userId !== undefined && { userId }),
    ...(anonymousId !== undefined && { anonymousId }),
    event: emit.event,
    properties: emit.properties,
    traits: {},
    context: { cairn: { derived: true, profileId: profile.profileId } },
    timestamp: emit.timestamp,
    receivedAt: emit.timestamp,
  };
}

/** Runs reactors one after the other (journeys first, then derived events). */
export function sequenceReactors(...reactors: EventReactor[]): EventReactor {
  return {
    async onEvent(input) {
      for (const reactor of reactors) await reactor.onEvent(input);
    },
  };
}
