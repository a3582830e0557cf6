import type { JourneyCatalog } from '../../shared/catalog/catalog.js';
import { type Issue, NotFoundError, ValidationError } from '../../shared/errors.js';
import type { Journey } from '../../shared/journeys/schema.js';
import { getProfile, type ProfileStore, timeline } from '../../shared/profiles/index.js';
import { getJourneyStats, journeyTimeline, listMessages } from '../../shared/runtime/queries.js';
import type { EventReactor } from '../../shared/runtime/reactor.js';
import type { RuntimeStore } from '../../shared/runtime/store.js';
import type { ProfilesApi, RuntimeApi } from './routes.js';

/**
 * Adapters from the routes to the runtime's and the profiles' functions: input checks the domain
 * functions leave to the caller, merged-profile id lists, and the combined timeline.
 */

type Who = { userId?: string; anonymousId?: string; profileId?: string };

/** `POST /journeys/{id}/enrollments` body: `{ userId | anonymousId | profileId, context?, idempotencyKey? }`. */
export function parseEnrollment(
  input: unknown,
): Who & { context?: Record<string, unknown>; idempotencyKey?: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError([
      { path: [], message: 'body must be an object with userId, anonymousId or profileId' },
    ]);
  }
  const body = input as Record<string, unknown>;
  const issues: Issue[] = [];
  const out: Who & { context?: Record<string, unknown>; idempotencyKey?: string } = {};
  for (const key of ['userId', 'anonymousId', 'profileId'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (key === 'userId' && typeof value === 'number' && Number.isFinite(value)) out.userId = String(value);
    else if (typeof value === 'string' && value.trim() !== '') out[key] = value;
    else issues.push({ path: [key], message: `${key} must be a non-empty string` });
  }
  if (issues.length === 0 && !out.userId && !out.anonymousId && !out.profileId) {
    issues.push({ path: ['userId'], message: 'one of userId, anonymousId, profileId is required' });
  }
  if (body.context !== undefined) {
    if (typeof body.context !== 'object' || body.context === null || Array.isArray(body.context)) {
      issues.push({ path: ['context'], message: 'context must be an object' });
    } else out.context = body.context as Record<string, unknown>;
  }
  if (body.idempotencyKey !== undefined) {
    if (typeof body.idempotencyKey !== 'string' || body.idempotencyKey === '') {
      issues.push({ path: ['idempotencyKey'], message: 'idempotencyKey must be a non-empty string' });
    } else out.idempotencyKey = body.idempotencyKey;
  }
  const known = new Set(['userId', 'anonymousId', 'profileId', 'context', 'idempotencyKey']);
  for (const key of Object.keys(body))
    if (!known.has(key)) issues.push({ path: [key], message: 'unknown field' });
  if (issues.length) throw new ValidationError(issues);
  return out;
}

export function runtimeApi(deps: {
  catalog: JourneyCatalog;
  reactor: EventReactor;
  store: RuntimeStore;
  profiles: ProfileStore;
}): RuntimeApi {
  return {
    async enroll(journeyId, input) {
      const who = parseEnrollment(input);
      return deps.reactor.enrollProfile(journeyId, who);
    },
    async stats(journeyId) {
      const { journey } = await deps.catalog.getJourney(journeyId);
      const definition = (journey.published?.definition ?? journey.draft) as unknown as Journey;
      return getJourneyStats(deps.store, journeyId, definition);
    },
    async messages({ profileId, journeyId }) {
      if (!profileId) throw new ValidationError([{ path: ['profileId'], message: 'profileId is required' }]);
      const profile = await getProfile(deps.profiles, profileId);
      if (!profile) throw new NotFoundError(`profile ${profileId} not found`);
      return listMessages(deps.store, { profileIds: [profile.profileId, ...profile.mergedFrom], journeyId });
    },
  };
}

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

export function profilesApiWithTimeline(base: ProfilesApi, timelineOf: ProfilesApi['timeline']): ProfilesApi {
  return { ...base, timeline: timelineOf };
}
