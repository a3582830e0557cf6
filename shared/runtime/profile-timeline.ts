import { NotFoundError, ValidationError } from '../errors.js';
import { getProfile, type ProfileStore, type TimelineEvent, timelinePageLimit } from '../profiles/index.js';
import { eventPrefix, timelineSortKey } from '../store/keys.js';
import type { TimelineEntry, TimelineStore } from './timeline-store.js';

/**
 * `GET /profiles/{id}/timeline`: a person's events (of the profile and every profile merged into it)
 * with their journey steps and messages, in time order, at most `limit` entries a page (default 100).
 * Entries are ordered by (time, key); the cursor is the last entry's, so a page never repeats or
 * skips one, whatever mix of events and steps it holds. Cost: the event Query per profile (at most
 * 2 × limit + 1 events), the timeline Query per profile.
 */

export type ProfileTimelineEntry =
  | ({ kind: 'event'; at: string } & TimelineEvent)
  | (TimelineEntry & { kind: TimelineEntry['kind'] });

export interface ProfileTimelinePage {
  profileId: string;
  /** Events, journey steps and messages in time order: at most `limit`. */
  entries: ProfileTimelineEntry[];
  /** The events among `entries`. */
  events: TimelineEvent[];
  nextCursor?: string;
}

interface Position {
  at: string;
  key: string;
}

const after = (a: Position, b: Position) => a.at > b.at || (a.at === b.at && a.key > b.key);
const byPosition = (a: Position, b: Position) => (after(a, b) ? 1 : after(b, a) ? -1 : 0);

function stepKey(entry: TimelineEntry): string {
  return timelineSortKey(entry);
}

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.at, position.key])).toString('base64url');
}

/** A cursor of this page, or of the events-only pages before (base64url of `E#<timestamp>#<messageId>`). */
function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (text.startsWith(eventPrefix)) return { at: text.split('#')[1] ?? '', key: text };
  try {
    const [at, key] = JSON.parse(text) as unknown[];
    if (typeof at === 'string' && typeof key === 'string') return { at, key };
  } catch {
    // answered below
  }
  throw new ValidationError([{ path: ['cursor'], message: 'cursor is not valid' }]);
}

export async function profileTimeline(
  profiles: ProfileStore,
  runtime: Pick<TimelineStore, 'listTimeline'> | undefined,
  profileId: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<ProfileTimelinePage> {
  const limit = timelinePageLimit(page.limit);
  const from = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const profile = await getProfile(profiles, profileId);
  if (!profile) throw new NotFoundError(`profile ${profileId} not found`);
  const ids = [profile.profileId, ...profile.mergedFrom];
  // Events at the cursor's own time may have been on the page before: read enough to fill this one.
  const [stored, steps] = await Promise.all([
    profiles.listEvents(ids, { limit: 2 * limit + 1, ...(from && { after: `${eventPrefix}${from.at}` }) }),
    runtime ? Promise.all(ids.map((id) => runtime.listTimeline(id))) : Promise.resolve([]),
  ]);
  const all = [
    ...stored.map((event) => ({
      position: { at: event.message.timestamp, key: event.key },
      entry: {
        kind: 'event' as const,
        at: event.message.timestamp,
        ...event.message,
        profileId: event.profileId,
      },
    })),
    ...steps.flat().map((step) => ({ position: { at: step.at, key: stepKey(step) }, entry: step })),
  ]
    .filter((item) => !from || after(item.position, from))
    .sort((a, b) => byPosition(a.position, b.position));
  const taken = all.slice(0, limit);
  const last = taken.at(-1);
  const entries = taken.map((item) => item.entry as ProfileTimelineEntry);
  return {
    profileId: profile.profileId,
    entries,
    events: entries
      .filter((entry): entry is Extract<ProfileTimelineEntry, { kind: 'event' }> => entry.kind === 'event')
      .map(({ kind: _kind, at: _at, ...event }) => event as TimelineEvent),
    ...(all.length > limit && last && { nextCursor: encodeCursor(last.position) }),
  };
}
