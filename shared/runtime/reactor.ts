import type { Clock } from '../clock.js';
import { integerFromEnv } from '../config.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { IdGenerator } from '../ids.js';
import { durationSeconds } from '../journeys/duration.js';
import { awaitedEventMatches } from '../journeys/nodes/waitFor.js';
import type { Journey } from '../journeys/schema.js';
import type { ExecutionInput } from '../journeys/step.js';
import { createLogger, type Logger } from '../log.js';
import { InvalidPatternError, matchesPattern } from '../patterns/index.js';
import { enteringDeltas } from './step.js';
import { type RuntimeStore, splitJourneyState } from './store.js';
import type {
  EntryRecord,
  ExecutionService,
  JourneyEntryRules,
  JourneySource,
  PresenceRecord,
  ProfileJourneyState,
  RuntimeEvent,
  RuntimeProfile,
  StatDelta,
} from './types.js';

/**
 * What happens when an event arrives (DESIGN.md §2): stop executions whose goal or exit event this is,
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
}

export interface ReactorResult {
  started: string[];
  resumed: string[];
  stopped: string[];
}

export interface EventReactor {
  onEvent(input: ReactorInput): Promise<ReactorResult>;
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
}

export interface EventReactorDeps {
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
  log?: Logger;
  /** How long the active-journey list is cached; default env CAIRN_JOURNEY_CACHE_MS or 5000. */
  cacheTtlMs?: number;
}

/** Bumped by invalidateActiveJourneys(): every reactor in the process reloads on its next event. */
let generation = 0;

/** For the catalog: call after publish/pause/resume/archive so same-process reactors see it at once. */
export function invalidateActiveJourneys(): void {
  generation++;
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

function isEvent(event: RuntimeEvent, name: string): boolean {
  return event.type === 'track' && event.event === name;
}

/** Whether the re-entry rule lets the profile in, and the entry condition for the store. */
function entryRule(
  journey: JourneyEntryRules,
  entry: EntryRecord | undefined,
  now: number,
): { allowed: boolean; notEnteredSince: number | null | undefined } {
  const rule = journey.reentry;
  if (rule === 'always') return { allowed: true, notEnteredSince: undefined };
  if (rule === 'never') return { allowed: !entry, notEnteredSince: null };
  const since = now - durationSeconds(rule.after) * 1000;
  return { allowed: !entry || entry.lastEnteredAt <= since, notEnteredSince: since };
}

/**
 * Counters for the nodes a new execution goes into before its first step (a leading wait or split):
 * no step hears about them being entered, so the start counts them.
 */
function entryDeltas(journey: JourneyEntryRules, profileId: string): StatDelta[] {
  const definition = journey.definition as Journey | undefined;
  if (!definition?.nodes || !definition.start) return [];
  return enteringDeltas(definition, definition.start, profileId);
}

export function createEventReactor(deps: EventReactorDeps): EventReactor {
  const log = deps.log ?? createLogger({ component: 'reactor' });
  const ttl = deps.cacheTtlMs ?? integerFromEnv(process.env, 'CAIRN_JOURNEY_CACHE_MS', 5000);
  let cache: { at: number; generation: number; journeys: Promise<JourneyEntryRules[]> } | undefined;

  function activeJourneys(): Promise<JourneyEntryRules[]> {
    const now = Date.now();
    if (!cache || cache.generation !== generation || now - cache.at >= ttl) {
      const journeys = deps.journeys.listActiveJourneys();
      cache = { at: now, generation, journeys };
      journeys.catch(() => {
        if (cache?.journeys === journeys) cache = undefined;
      });
    }
    return cache.journeys;
  }

  async function enter(
    journey: JourneyEntryRules,
    profileId: string,
    entries: EntryRecord[],
    trigger: ExecutionInput['entry'],
    entryKey: string,
  ): Promise<{ executionName: string; executionArn: string; started: boolean; refused?: string }> {
    const now = deps.clock.now();
    const executionName = deps.executionName(journey.id, journey.version, profileId, entryKey);
    const executionArn = deps.executions.executionArn(journey.stateMachineArn, executionName);
    const previous = entries.find((entry) => entry.journeyId === journey.id);
    const rule = entryRule(journey, previous, now);
    if (!rule.allowed && previous?.lastExecution !== executionName) {
      return { executionName, executionArn, started: false, refused: 'reentry' };
    }
    const presence: PresenceRecord = {
      profileId,
      executionName,
      executionArn,
      journeyId: journey.id,
      version: journey.version,
      enteredAt: now,
      triggerMessageId: trigger.messageId ?? entryKey,
      ...(journey.goal && {
        goal: {
          event: journey.goal.event,
          ...(journey.goal.where && { where: journey.goal.where }),
          ...(journey.goal.within && { until: now + durationSeconds(journey.goal.within) * 1000 }),
        },
      }),
      ...(journey.exitOn?.length && { exitOn: journey.exitOn }),
    };
    if (!(await deps.store.recordEntry({ presence, notEnteredSince: rule.notEnteredSince }))) {
      return { executionName, executionArn, started: false, refused: 'reentry' };
    }
    const input: ExecutionInput = {
      profileId,
      journeyId: journey.id,
      version: journey.version,
      entry: trigger,
      enteredAt: new Date(now).toISOString(),
    };
    const out = await deps.executions.start({
      stateMachineArn: journey.stateMachineArn,
      name: executionName,
      input,
    });
    if (out.started) {
      await deps.store.addStats(journey.id, [{ counter: 'started' }, ...entryDeltas(journey, profileId)]);
      log.info('journey started', {
        journeyId: journey.id,
        version: journey.version,
        execution: executionName,
        profileId,
      });
    }
    return { executionName, executionArn: out.executionArn, started: out.started };
  }

  /**
   * The profile's presence and entry items. The profile store reads them with the profile and moves
   * them to the surviving profile on an identity merge, so merged profiles need no lookup here.
   */
  async function journeyStateOf(input: ReactorInput): Promise<ProfileJourneyState> {
    if (input.journeyState) return input.journeyState;
    if (Array.isArray(input.profile.presence)) return splitJourneyState(input.profile.presence);
    return deps.store.readJourneyState(input.profile.profileId);
  }

  /**
   * The wait node a stopped execution was parked in (a `wait for`, or a `wait until` after its step),
   * whose `waiting` gauge must go down: one GetExecutionHistory, only when stopping outside a waitFor.
   */
  async function waitStateOf(p: PresenceRecord, arn: string): Promise<string | undefined> {
    if (!deps.executions.currentState) return undefined;
    const state = await deps.executions.currentState(arn).catch(() => undefined);
    if (!state) return undefined;
    const [nodeId, helper] = state.split('.');
    if (helper === 'until') return nodeId;
    // The version this execution runs, not the one published now: nodes can change between versions.
    const definition = await deps.journeys.getVersion(p.journeyId, p.version).catch(() => undefined);
    const node = (definition as Journey | undefined)?.nodes?.[state];
    return node?.type === 'wait' && helper === undefined ? state : undefined;
  }

  async function stopFor(p: PresenceRecord, why: 'goal' | 'exit', event: RuntimeEvent): Promise<void> {
    const arn = p.executionArn;
    if (!arn) return;
    const stopped = await deps.executions.stop(
      arn,
      why === 'goal' ? `goal reached: ${p.goal?.event}` : `exit event`,
    );
    const remove = { remove: { profileId: p.profileId, executionName: p.executionName } };
    if (!stopped) {
      await deps.store.removePresence(p.profileId, p.executionName);
      return;
    }
    const deltas: StatDelta[] = [{ counter: why === 'goal' ? 'conversions' : 'exited' }];
    const waitingNode = p.waiting?.nodeId ?? (await waitStateOf(p, arn));
    if (waitingNode) deltas.push({ nodeId: waitingNode, counter: 'waiting', by: -1 });
    // One request: presence removed, counters, timeline entry.
    await deps.store.writeStep({
      journeyId: p.journeyId,
      deltas,
      presence: remove,
      timeline: {
        profileId: p.profileId,
        at: new Date(deps.clock.now()).toISOString(),
        kind: 'journey-step',
        journeyId: p.journeyId,
        journeyVersion: p.version,
        executionName: p.executionName,
        nodeId: waitingNode ?? '',
        nodeType: why,
        outcome: why === 'goal' ? 'converted' : 'exited',
        detail: event.event,
      },
    });
    log.info(why === 'goal' ? 'goal reached' : 'exit event', {
      execution: p.executionName,
      messageId: event.messageId,
    });
  }

  async function resume(p: PresenceRecord, event: RuntimeEvent): Promise<boolean> {
    const waiting = p.waiting!;
    const output = {
      event: {
        event: event.event,
        messageId: event.messageId,
        properties: event.properties ?? {},
        timestamp: event.timestamp,
      },
    };
    const accepted = await deps.executions.sendTaskSuccess(waiting.token, output);
    // Cleared after sending: if sending failed, a redelivered event still finds the token.
    if (!accepted) {
      await deps.store.clearWaiting(p.profileId, p.executionName, waiting.token);
      return false;
    }
    // One request: token cleared (if still this one), counters, timeline entry.
    await deps.store.writeStep({
      journeyId: p.journeyId,
      deltas: [
        { nodeId: waiting.nodeId, counter: 'waiting', by: -1 },
        { nodeId: waiting.nodeId, counter: 'resumed' },
        { nodeId: waiting.nodeId, counter: 'completed' },
      ],
      presence: {
        clearWaiting: { profileId: p.profileId, executionName: p.executionName, token: waiting.token },
      },
      timeline: {
        profileId: p.profileId,
        at: new Date(deps.clock.now()).toISOString(),
        kind: 'journey-step',
        journeyId: p.journeyId,
        journeyVersion: p.version,
        executionName: p.executionName,
        nodeId: waiting.nodeId,
        nodeType: 'waitFor',
        outcome: 'resumed',
        detail: event.event,
      },
    });
    return true;
  }

  return {
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
          await stopFor(p, reachedGoal ? 'goal' : 'exit', event);
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
        if (await resume(p, event)) result.resumed.push(p.executionName);
      }

      // (a) journeys this event triggers.
      if (event.type !== 'track' || !event.event) return result;
      const journeys = await journeysPromise;
      for (const journey of journeys) {
        if (journey.status !== 'active' || !journey.trigger || journey.trigger.event !== event.event)
          continue;
        if (!matches(journey.trigger.where, event)) continue;
        const trigger = {
          event: event.event,
          messageId: event.messageId,
          properties: event.properties ?? {},
          ...(event.timestamp && { timestamp: event.timestamp }),
        };
        const out = await enter(journey, profile.profileId, state.entries, trigger, event.messageId);
        if (out.started) result.started.push(out.executionName);
      }
      return result;
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
        journey,
        profile.profileId,
        state.entries,
        { event: 'Enrolled', messageId, properties: who.context ?? {} },
        messageId,
      );
      if (out.refused)
        throw new ConflictError(
          `profile already entered journey ${journeyId} and its re-entry rule forbids another entry`,
        );
      return { executionName: out.executionName, executionArn: out.executionArn, started: out.started };
    },
  };
}
