import type { AnalyticsReader } from '../analytics/store.js';
import type { JourneyEntryRules } from '../catalog/active.js';
import type { Clock } from '../clock.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { IdGenerator } from '../ids.js';
import { awaitedEventMatches } from '../journeys/nodes/waitFor.js';
import { createLogger, type Logger } from '../log.js';
import { InvalidPatternError, matchesPattern } from '../patterns/index.js';
import { cachedActiveJourneys } from './active-journeys.js';
import { enter, recordRefusal } from './entry.js';
import { splitJourneyState } from './presence-store.js';
import { resume } from './resume.js';
import { stopFor } from './stop.js';
import type { RuntimeStore } from './store.js';
import type {
  ExecutionService,
  JourneySource,
  ProfileJourneyState,
  RuntimeEvent,
  RuntimeProfile,
} from './types.js';

/**
 * What happens when an event arrives (docs/architecture.md, "One event"): stop executions whose goal or exit event this is,
 * resume executions waiting for it, start journeys it triggers. An event nobody waits on and that
 * triggers nothing costs no request: the presence items come with the profile read, and the active
 * journeys are cached in memory.
 */

export interface ReactorInput {
  profile: RuntimeProfile;
  event: RuntimeEvent;
  /**
   * The profile's journey items, when the caller has them in another form than `profile.presence`.
   * With neither, the reactor reads them (one Query).
   */
  journeyState?: ProfileJourneyState;
  /**
   * Set when the event is a segment membership change made by Cairn (shared/segments), never by a
   * sender: only then do journeys with `trigger: { segment }` start.
   */
  membership?: { segmentId: string; change: 'entered' | 'exited' };
}

export interface ReactorResult {
  started: string[];
  resumed: string[];
  stopped: string[];
}

/**
 * What the journeys runtime does with an event (and the enrollment API). Ingest calls it through
 * its own hook, the profiles' `EventReactor` (shared/profiles/reactor.ts), with segments and derived
 * events beside it.
 */
export interface JourneyReactor {
  onEvent(input: ReactorInput): Promise<ReactorResult>;
  /**
   * Whether `onEvent` could start, resume or stop anything for `input`, from the journey items it
   * carries and the cached active journeys (no other request); true when the items are not given.
   * Segments ask it before writing a membership change (shared/segments/engine.ts).
   */
  wouldAct(input: ReactorInput): Promise<boolean>;
  /** `POST /journeys/{id}/enrollments`: enters one customer, subject to status and re-entry. */
  enrollProfile(
    journeyId: string,
    who: {
      userId?: string;
      anonymousId?: string;
      profileId?: string;
      context?: Record<string, unknown>;
      idempotencyKey?: string;
    },
  ): Promise<{ executionName: string; executionArn: string; started: boolean }>;
  /**
   * `DELETE /journeys/{id}/enrollments/{profileId}`: stops the profile's executions of the journey
   * (counted `removed`, and `exited` on the node each was in). 404 when it is in none.
   */
  removeProfile(
    journeyId: string,
    profileId: string,
  ): Promise<{ journeyId: string; profileId: string; removed: string[] }>;
}

export interface JourneyReactorDeps {
  journeys: JourneySource;
  executions: ExecutionService;
  store: RuntimeStore;
  clock: Clock;
  ids: IdGenerator;
  /** Deterministic execution name: `<journey>-v<version>-<hash(profile, entry)>` (shared/journeys). */
  executionName: (journeyId: string, version: number, profileId: string, entryKey: string) => string;
  /** Finds a profile for enrollment; undefined when unknown. */
  findProfile: (who: {
    userId?: string;
    anonymousId?: string;
    profileId?: string;
  }) => Promise<RuntimeProfile | undefined>;
  /** Reads a stopped execution's timeline for its analytics trail (shared/analytics). */
  analytics?: Pick<AnalyticsReader, 'executionEntries'>;
  log?: Logger;
  /**
   * How long the active journeys are used before the catalog stamp is asked again (without a stamp:
   * before the list is read again); default 0, every event (functions/runtime reads CAIRN_JOURNEY_CACHE_MS).
   */
  cacheTtlMs?: number;
}

function matches(pattern: Record<string, unknown> | undefined, event: unknown): boolean {
  if (!pattern || Object.keys(pattern).length === 0) return true;
  try {
    return matchesPattern(pattern, event);
  } catch (error) {
    // Published patterns are validated; one that is not must never block every event: it matches nothing.
    if (!(error instanceof InvalidPatternError)) throw error;
    return false;
  }
}

/** Whether the event (or the membership change it stands for) enters the customer into the journey. */
function triggers(journey: JourneyEntryRules, event: RuntimeEvent, membership: ReactorInput['membership']) {
  const trigger = journey.trigger;
  if (!trigger) return false;
  if ('segment' in trigger)
    return (
      membership !== undefined &&
      membership.segmentId === trigger.segment &&
      membership.change === (trigger.on === 'exit' ? 'exited' : 'entered')
    );
  return trigger.event === event.event && matches(trigger.where, event);
}

function isEvent(event: RuntimeEvent, name: string): boolean {
  return event.type === 'track' && event.event === name;
}

export function createJourneyReactor(deps: JourneyReactorDeps): JourneyReactor {
  const log = deps.log ?? createLogger({ component: 'reactor' });
  const activeJourneys = cachedActiveJourneys(deps.journeys, { checkMs: deps.cacheTtlMs ?? 0 });
  const entryDeps = { ...deps, log };

  /**
   * The profile's presence and entry items. The profile store reads them with the profile and moves
   * them to the surviving profile on an identity merge, so merged profiles need no lookup here.
   */
  async function journeyStateOf(input: ReactorInput): Promise<ProfileJourneyState> {
    if (input.journeyState) return input.journeyState;
    if (Array.isArray(input.profile.presence)) return splitJourneyState(input.profile.presence);
    return deps.store.readJourneyState(input.profile.profileId);
  }

  return {
    async wouldAct(input) {
      const { event } = input;
      if (!input.journeyState && !Array.isArray(input.profile.presence)) return true;
      const state = await journeyStateOf(input);
      const named = (candidate: { event: string } | undefined) => candidate?.event === event.event;
      if (state.presence.some((p) => named(p.goal) || named(p.waiting) || p.exitOn?.some(named))) return true;
      if (event.type !== 'track' || !event.event) return false;
      const journeys = await activeJourneys();
      return journeys.some(
        (journey) => journey.status === 'active' && triggers(journey, event, input.membership),
      );
    },

    async onEvent(input) {
      const { profile, event } = input;
      const result: ReactorResult = { started: [], resumed: [], stopped: [] };
      const now = deps.clock.now();
      const journeysPromise = event.type === 'track' ? activeJourneys() : Promise.resolve([]);
      const state = await journeyStateOf(input);

      // (c) goal and exit events stop executions; (b) awaited events resume them.
      const stopped = new Set<string>();
      for (const p of state.presence) {
        if (p.triggerMessageId === event.messageId) continue;
        const goal = p.goal;
        const reachedGoal =
          goal &&
          isEvent(event, goal.event) &&
          (goal.until === undefined || now <= goal.until) &&
          matches(goal.where, event);
        const exits =
          !reachedGoal && p.exitOn?.some((exit) => isEvent(event, exit.event) && matches(exit.where, event));
        if (reachedGoal || exits) {
          await stopFor(entryDeps, p, reachedGoal ? 'goal' : 'exit', {
            ...(event.event && { event: event.event }),
            messageId: event.messageId,
          });
          stopped.add(p.executionName);
          result.stopped.push(p.executionName);
        }
      }
      for (const p of state.presence) {
        const waiting = p.waiting;
        if (!waiting || stopped.has(p.executionName) || !isEvent(event, waiting.event)) continue;
        if (waiting.expiresAt !== undefined && waiting.expiresAt < now) continue;
        const awaited = {
          event: waiting.event,
          match: waiting.match ?? {},
          ...(waiting.where && { where: waiting.where }),
        };
        if (!awaitedEventMatches(awaited, event)) continue;
        if (await resume(deps, p, event)) result.resumed.push(p.executionName);
      }

      // (a) journeys this event triggers.
      if (event.type !== 'track' || !event.event) return result;
      const journeys = await journeysPromise;
      for (const journey of journeys) {
        if (journey.status !== 'active' || !triggers(journey, event, input.membership)) continue;
        const trigger = {
          event: event.event,
          messageId: event.messageId,
          properties: event.properties ?? {},
          ...(event.timestamp && { timestamp: event.timestamp }),
        };
        const out = await enter(
          entryDeps,
          journey,
          profile.profileId,
          state.entries,
          trigger,
          event.messageId,
        );
        if (out.started) result.started.push(out.executionName);
        if (out.refused) {
          await recordRefusal(deps.store, {
            journey,
            profileId: profile.profileId,
            executionName: out.executionName,
            at: event.timestamp ?? new Date(now).toISOString(),
            event: event.event,
          });
        }
      }
      return result;
    },

    async removeProfile(journeyId, profileId) {
      const profile = await deps.findProfile({ profileId });
      if (!profile) throw new NotFoundError(`profile ${profileId} not found`);
      const state = await deps.store.readJourneyState(profile.profileId);
      const inJourney = state.presence.filter((p) => p.journeyId === journeyId);
      if (inJourney.length === 0)
        throw new NotFoundError(`profile ${profileId} is not in journey ${journeyId}`);
      const removed: string[] = [];
      for (const p of inJourney) {
        if (await stopFor(entryDeps, p, 'removed')) removed.push(p.executionName);
      }
      return { journeyId, profileId: profile.profileId, removed };
    },

    async enrollProfile(journeyId, who) {
      const journey = await deps.journeys.getJourney(journeyId);
      if (!journey || journey.status === 'archived')
        throw new NotFoundError(`journey ${journeyId} is not published`);
      if (journey.status !== 'active')
        throw new ConflictError(`journey ${journeyId} is paused: it takes no new entries`);
      const profile = await deps.findProfile(who);
      if (!profile) throw new NotFoundError('no profile with that id');
      const state = await deps.store.readJourneyState(profile.profileId);
      const messageId = `enroll-${who.idempotencyKey ?? deps.ids.next()}`;
      const out = await enter(
        entryDeps,
        journey,
        profile.profileId,
        state.entries,
        { event: 'Enrolled', messageId, properties: who.context ?? {} },
        messageId,
      );
      if (out.refused) {
        // Counted and on the timeline like a refused trigger event: each refused request once, a
        // retry with the same idempotency key (same execution name, another time) not again.
        await recordRefusal(deps.store, {
          journey,
          profileId: profile.profileId,
          executionName: out.executionName,
          at: new Date(deps.clock.now()).toISOString(),
          event: 'Enrolled',
          oncePerExecution: who.idempotencyKey !== undefined,
        });
        throw new ConflictError(
          `profile already entered journey ${journeyId} and its re-entry rule forbids another entry`,
        );
      }
      return { executionName: out.executionName, executionArn: out.executionArn, started: out.started };
    },
  };
}
