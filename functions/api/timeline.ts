import { NotFoundError } from '../../shared/errors.js';
import { getProfile, type ProfileStore, timeline } from '../../shared/profiles/index.js';
import { journeyTimeline } from '../../shared/runtime/queries.js';
import type { RuntimeStore } from '../../shared/runtime/store.js';

/** The time part of a timeline cursor (base64url of the event's sort key `E#<timestamp>#<messageId>`). */
function cursorTime(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return key.split('#')[1];
}

/**
 * A profile's timeline: its events (paged, oldest first) and, within the same time window, its
 * journey steps and messages. `entries` is everything in time order, each with a `kind`
 * (`event`, `journey-step`, `message`); `events` is the events alone.
 */
export async function combinedTimeline(
  profiles: ProfileStore,
  runtime: Pick<RuntimeStore, 'listTimeline'> | undefined,
  profileId: string,
  page: { limit?: number; cursor?: string },
) {
  const events = await timeline(profiles, profileId, page);
  if (!events) throw new NotFoundError(`profile ${profileId} not found`);
  const profile = await getProfile(profiles, events.profileId);
  const steps =
    runtime && profile ? await journeyTimeline(runtime, [profile.profileId, ...profile.mergedFrom]) : [];
  const from = cursorTime(page.cursor);
  const to = events.nextCursor ? events.events.at(-1)?.timestamp : undefined;
  const inWindow = steps.filter((step) => (!from || step.at > from) && (!to || step.at <= to));
  const entries = [
    ...events.events.map((event) => ({ kind: 'event' as const, at: event.timestamp, ...event })),
    ...inWindow.map((step) => ({ ...step, kind: step.kind })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { profileId: events.profileId, entries, events: events.events, nextCursor: events.nextCursor };
}
