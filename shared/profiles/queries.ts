import { ValidationError } from '../errors.js';
import type { NormalizedMessage } from '../events/normalize.js';
import { type Identifier, identifierKey, normalizeEmail, normalizePhone } from '../identity/index.js';
import { eventPrefix } from '../store/keys.js';
import { checkLookupValue, getProfile } from './ingest.js';
import type { Profile } from './model.js';
import type { ProfileStore } from './store.js';

export { getProfile };

/** One identifier to look a profile up by (`GET /profiles?userId=`). Email and phone are normalised. */
export interface ProfileLookup {
  userId?: string;
  anonymousId?: string;
  email?: string;
  phone?: string;
}

/** The live profile owning the identifier, or null. Throws ValidationError unless exactly one is given. */
export async function findProfile(store: ProfileStore, lookup: ProfileLookup): Promise<Profile | null> {
  const given = (['userId', 'anonymousId', 'email', 'phone'] as const).filter(
    (type) => lookup[type] !== undefined,
  );
  if (given.length !== 1) {
    throw new ValidationError([
      { path: [], message: 'give exactly one of userId, anonymousId, email, phone' },
    ]);
  }
  const type = given[0]!;
  const raw = lookup[type]!;
  checkLookupValue(type, raw);
  const value = type === 'email' ? normalizeEmail(raw) : type === 'phone' ? normalizePhone(raw) : raw;
  if (value === undefined || value === '') {
    throw new ValidationError([{ path: [type], message: `${type} is not a valid ${type}` }]);
  }
  const identifier: Identifier = { type, value };
  const owner = (await store.lookupIdentities([identifier], { consistent: true })).get(
    identifierKey(identifier),
  );
  return owner === undefined ? null : getProfile(store, owner);
}

export interface TimelineEvent extends NormalizedMessage {
  /** The profile the event was recorded under (differs from the requested one for merged histories). */
  profileId: string;
}

export interface TimelinePage {
  profileId: string;
  events: TimelineEvent[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export const maxTimelinePage = 500;

/** The page size a timeline request asks for (default 100), checked: an integer from 1 to maxTimelinePage. */
export function timelinePageLimit(limit = 100): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > maxTimelinePage) {
    throw new ValidationError([
      { path: ['limit'], message: `limit must be an integer from 1 to ${maxTimelinePage}` },
    ]);
  }
  return limit;
}

/**
 * Events of the profile and of every profile merged into it, oldest first, `limit` per page (default
 * 100). Null when the profile does not exist.
 */
export async function timeline(
  store: ProfileStore,
  profileId: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<TimelinePage | null> {
  const limit = timelinePageLimit(page.limit);
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const profile = await getProfile(store, profileId);
  if (!profile) return null;
  const stored = await store.listEvents([profile.profileId, ...profile.mergedFrom], {
    limit: limit + 1,
    ...(after === undefined ? {} : { after }),
  });
  const events = stored
    .slice(0, limit)
    .map(({ profileId: owner, message }) => ({ ...message, profileId: owner }));
  const last = stored[limit - 1];
  return {
    profileId: profile.profileId,
    events,
    ...(stored.length > limit && last ? { nextCursor: Buffer.from(last.key).toString('base64url') } : {}),
  };
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key.startsWith(eventPrefix))
    throw new ValidationError([{ path: ['cursor'], message: 'cursor is not valid' }]);
  return key;
}
