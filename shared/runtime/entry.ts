import type { JourneyEntryRules } from '../catalog/active.js';
import type { Clock } from '../clock.js';
import { durationSeconds } from '../journeys/duration.js';
import type { ExecutionInput } from '../journeys/execution.js';
import type { Logger } from '../log.js';
import { splitEntry } from './entry-data.js';
import { enteringDeltas } from './stats.js';
import type { RuntimeStore } from './store.js';
import type { EntryRecord, EntryRun, ExecutionService, PresenceRecord, StatDelta } from './types.js';

/**
 * Entering a customer into a journey: the re-entry rule, the entry and presence records and the
 * entry's properties (one transaction), StartExecution with a deterministic name (a redelivered
 * trigger starts nothing new) and an input of ids only, and the counters of the nodes entered before
 * the first step. A redelivered trigger whose execution has ended (the name is taken, Step Functions
 * says it is not running) takes back the presence and entry data it wrote: the execution that would
 * delete them is over. Cost: none on a first delivery; on a redelivery 1 DescribeExecution, and 1
 * write (a transaction when there is entry data) when the execution has ended.
 */

export interface EntryDeps {
  executions: ExecutionService;
  store: Pick<RuntimeStore, 'recordEntry' | 'addStats' | 'writeStep'>;
  clock: Clock;
  /** Deterministic execution name: `<journey>-v<version>-<hash(profile, entry)>` (shared/journeys). */
  executionName: (journeyId: string, version: number, profileId: string, entryKey: string) => string;
  log: Logger;
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
  const definition = journey.definition;
  if (!definition?.nodes || !definition.start) return [];
  return enteringDeltas(definition, definition.start, profileId);
}

/**
 * A trigger the re-entry rule refused: counted (`refused`) and on the profile's timeline, once per
 * trigger event (the entry's execution name is its key: a redelivered event records nothing again),
 * and once per enrollment request (with an idempotency key, retried: `oncePerExecution`).
 */
export async function recordRefusal(
  store: Pick<RuntimeStore, 'recordRefusal'>,
  refusal: {
    journey: JourneyEntryRules;
    profileId: string;
    executionName: string;
    at: string;
    event?: string;
    /** A request that may be retried at another time (an enrollment's idempotency key): recorded once. */
    oncePerExecution?: boolean;
  },
): Promise<void> {
  const { journey } = refusal;
  const rule = typeof journey.reentry === 'string' ? journey.reentry : `after ${journey.reentry.after}`;
  await store.recordRefusal(
    {
      profileId: refusal.profileId,
      at: refusal.at,
      kind: 'journey-step',
      journeyId: journey.id,
      journeyVersion: journey.version,
      executionName: refusal.executionName,
      nodeId: 'entry',
      nodeType: 'entry',
      outcome: 'refused',
      detail: `re-entry ${rule}${refusal.event ? `: ${refusal.event}` : ''}`,
    },
    { oncePerExecution: refusal.oncePerExecution === true },
  );
}

export async function enter(
  deps: EntryDeps,
  journey: JourneyEntryRules,
  profileId: string,
  entries: EntryRecord[],
  trigger: ExecutionInput['entry'],
  entryKey: string,
  /** A broadcast's entries: at most once per run, whatever the version (EntryRun). */
  run?: EntryRun,
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
  // The properties go beside the execution, in the entry's transaction; the input carries ids only.
  const { entry, properties } = splitEntry(trigger);
  const recorded = await deps.store.recordEntry({
    presence: properties ? { ...presence, entryData: true } : presence,
    notEnteredSince: rule.notEnteredSince,
    ...(run && { run }),
    ...(properties && { properties }),
  });
  if (!recorded) return { executionName, executionArn, started: false, refused: 'reentry' };
  const input: ExecutionInput = {
    profileId,
    journeyId: journey.id,
    version: journey.version,
    entry,
    enteredAt: new Date(now).toISOString(),
  };
  const out = await deps.executions.start({
    stateMachineArn: journey.stateMachineArn,
    name: executionName,
    input,
  });
  if (out.started) {
    await deps.store.addStats(journey.id, [{ counter: 'started' }, ...entryDeltas(journey, profileId)]);
    deps.log.info('journey started', {
      journeyId: journey.id,
      version: journey.version,
      execution: executionName,
      profileId,
    });
  }
  if (!out.started && !(await deps.executions.isRunning(out.executionArn))) {
    // The name stays taken for 90 days after the end, so no live execution can own these items: they
    // go unconditionally, presence and entry data in one request, as a stop of an ended execution does.
    await deps.store.writeStep({
      journeyId: journey.id,
      deltas: [],
      presence: { remove: { profileId, executionName, entryData: properties !== undefined } },
    });
    deps.log.info('redelivered entry of an ended execution: nothing kept', {
      journeyId: journey.id,
      execution: executionName,
    });
  }
  return { executionName, executionArn: out.executionArn, started: out.started };
}
