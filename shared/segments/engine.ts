/**
 * Incremental membership: after something happened to a profile (an event, a trait change, a merge,
 * a window timer), re-evaluate only the segments that can be affected, with at most ONE read (the
 * profile's partition: profile, recent events, segment items) and one write per change (a
 * transaction: membership item + count shard). An event that changes no membership writes nothing.
 */
import type { Clock } from '../clock.js';
import { CairnError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProfileRecord } from '../profiles/model.js';
import { analyseCondition, evaluateCondition, type SegmentReads, type SubjectEvent } from './evaluate.js';
import type { Segment } from './schema.js';
import type { MembershipState, SegmentStore } from './store.js';
import { wakeSegmentTimers } from './timers.js';

/** A segment ready to evaluate: its definition and what it reads. */
export interface ActiveSegment {
  id: string;
  definition: Segment;
  reads: SegmentReads;
}

/** What happened to the profile. */
export interface ProfileChange {
  /** A tracked event's name. */
  event?: string;
  /** Trait keys written (identify, update node, unsubscribe). */
  traits?: string[];
  /** Any event at all (lastSeen moved): segments reading seen/stage/scores/computed re-evaluate. */
  activity?: boolean;
  /** Re-evaluate these segments (their timer is due) and what depends on them. */
  segments?: string[];
  /** Re-evaluate every segment (a merge, a backfill). */
  everything?: boolean;
}

export interface MembershipChange {
  segmentId: string;
  profileId: string;
  change: 'entered' | 'exited';
  at: string;
}

/**
 * Who hears of membership changes (the journeys runtime: `trigger: { segment }`, goals, waits).
 * A change someone listens to is written with a pending mark and cleared once told, so a change
 * whose telling failed (a throttled StartExecution, a crash between the two) is told again by the
 * next evaluation of the profile: the redelivered event's, the update node's retry, or the timer's
 * (armed for `pendingRetryMs` later by the same write). Telling twice is harmless: the change's
 * time is part of its id (`membershipEvent`), so journeys start once.
 */
export interface MembershipNotifier {
  /** Whether anyone may act on the change. False only when known: then nothing is marked or told. */
  listens(change: MembershipChange): Promise<boolean>;
  /** Tells the change; throws when it could not (it stays pending). */
  notify(change: MembershipChange): Promise<void>;
}

/** When the timer tells a pending change again if nothing else re-evaluates the profile first. */
export const pendingRetryMs = 60_000;

export interface SegmentEngineDeps {
  store: SegmentStore;
  clock: Clock;
  /** The defined segments, dependencies first (see `orderSegments`). */
  segments: () => Promise<ActiveSegment[]>;
  /** Told of each membership change (entries start journeys). Backfills have none: they start nothing. */
  notifier?: MembershipNotifier;
  log?: Logger;
}

export function activeSegment(definition: Segment): ActiveSegment {
  return { id: definition.id, definition, reads: analyseCondition(definition.where) };
}

/** Segments that `change` can affect, plus every segment that reads one of them (transitively). */
export function affectedSegments(segments: ActiveSegment[], change: ProfileChange): ActiveSegment[] {
  const affected = new Set<string>();
  for (const segment of segments) {
    const { reads } = segment;
    const hit =
      change.everything === true ||
      change.segments?.includes(segment.id) === true ||
      (change.activity === true && reads.everyEvent) ||
      (change.event !== undefined && reads.events.has(change.event)) ||
      (change.traits !== undefined &&
        change.traits.length > 0 &&
        (reads.traits === 'all' || change.traits.some((key) => (reads.traits as Set<string>).has(key)))) ||
      [...reads.segments].some((id) => affected.has(id));
    // `segments` is in dependency order, so a reader comes after what it reads.
    if (hit) affected.add(segment.id);
  }
  return segments.filter((segment) => affected.has(segment.id));
}

/** A change written with a pending mark, to tell and then settle (with the window timer it needs). */
interface Told {
  change: MembershipChange;
  /** Made by this evaluation (its write armed the retry timer) rather than read as pending. */
  fresh: boolean;
  member: boolean;
  /** The window timer to leave once told: ISO, null for none, undefined to keep the stored one. */
  dueAt?: string | null;
}

/**
 * Re-evaluates the profile's affected segments and writes what changed. Changes an earlier
 * evaluation wrote but could not tell (pending marks read with the profile) are told first.
 */
export async function reevaluateProfile(
  deps: SegmentEngineDeps,
  profileId: string,
  change: ProfileChange,
): Promise<MembershipChange[]> {
  const all = await deps.segments();
  const affected = affectedSegments(all, change);
  if (affected.length === 0) return [];
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const retryAt = new Date(now + pendingRetryMs).toISOString();
  const history = historySince(affected, now);
  const read = await deps.store.readProfile(profileId, history);
  const profile = read.profile;
  const changes: MembershipChange[] = [];
  const toTell: Told[] = [];
  // An erased profile's changes not yet told are dropped: erasure deletes their items.
  if (deps.notifier && profile) {
    // Older first: an entry is told before the exit that followed it.
    for (const state of read.states.values())
      for (const kind of ['entered', 'exited'] as const) {
        const at = state.pending?.[kind];
        if (at !== undefined)
          toTell.push({
            change: { segmentId: state.segmentId, profileId, change: kind, at },
            fresh: false,
            member: state.member,
          });
      }
    toTell.sort((a, b) => (a.change.at < b.change.at ? -1 : a.change.at > b.change.at ? 1 : 0));
  }
  /** Writes an entry or exit, marked pending when someone listens; true when it was written. */
  const transition = async (
    segmentId: string,
    kind: MembershipChange['change'],
    due: string | undefined,
  ): Promise<boolean> => {
    const made: MembershipChange = { segmentId, profileId, change: kind, at: nowIso };
    const listened = deps.notifier ? await deps.notifier.listens(made) : false;
    const pending = listened ? { retryAt, at: nowIso } : undefined;
    const written =
      kind === 'entered'
        ? await deps.store.enter(segmentId, profileId, nowIso, due, pending)
        : await deps.store.exit(segmentId, profileId, due, pending);
    if (!written) return false;
    changes.push(made);
    if (listened) {
      toTell.push({ change: made, fresh: true, member: kind === 'entered', dueAt: due ?? null });
      wakeSegmentTimers(Date.parse(retryAt));
    }
    return true;
  };

  if (!profile || profile.mergedInto !== undefined) {
    // Erased or merged away: it is in nothing any more (the survivor is evaluated on its own).
    for (const state of read.states.values()) {
      if (state.member) await transition(state.segmentId, 'exited', undefined);
      else if (state.dueAt && !state.pending)
        await deps.store.setDue(state.segmentId, profileId, undefined, false);
    }
    await tell(deps, toTell, retryAt);
    return changes;
  }
  const membership = new Map([...read.states].map(([id, state]) => [id, state.member]));
  const subject = subjectOf(profile, read.events, (id) => membership.get(id) === true);
  for (const segment of affected) {
    const state: MembershipState | undefined = read.states.get(segment.id);
    const result = evaluateCondition(segment.definition.where, subject, now);
    const due = result.nextChangeAt === undefined ? undefined : new Date(result.nextChangeAt).toISOString();
    const wasMember = state?.member === true;
    if (result.matches && !wasMember) {
      await transition(segment.id, 'entered', due);
      membership.set(segment.id, true);
    } else if (!result.matches && wasMember) {
      await transition(segment.id, 'exited', due);
      membership.set(segment.id, false);
    } else {
      // Unchanged: write the timer only when it must fire earlier than the stored one, or when the
      // stored one has fired (it is re-armed or cleared). A later-than-needed timer would miss the
      // change; an earlier one only re-evaluates early, so steady-state events write nothing.
      const stored = state?.dueAt;
      const fired = stored !== undefined && stored <= nowIso;
      // A change told now settles with the timer as evaluated (the stored one may be its retry).
      const told = toTell.find((t) => t.change.segmentId === segment.id);
      if (told && due !== stored) told.dueAt = due ?? null;
      else if ((due !== undefined && (stored === undefined || due < stored)) || (fired && due !== stored))
        await deps.store.setDue(segment.id, profileId, due, wasMember);
      else continue;
    }
    if (due) wakeSegmentTimers(result.nextChangeAt!);
  }
  await tell(deps, toTell, retryAt);
  if (changes.length > 0)
    deps.log?.info('segment membership changed', {
      profileId,
      changes: changes.map((c) => `${c.change}:${c.segmentId}`),
    });
  return changes;
}

/**
 * Tells each pending change, then clears its mark (with the window timer in the same write). A
 * change that could not be told keeps its mark and its retry timer; the error goes to the caller
 * (ingest's queue redelivers the event, a step is retried) after the others were tried.
 */
async function tell(deps: SegmentEngineDeps, toTell: Told[], retryAt: string): Promise<void> {
  let failure: unknown;
  for (const told of toTell) {
    const { change } = told;
    try {
      await deps.notifier!.notify(change);
    } catch (error) {
      failure ??= error;
      // A fresh change's write armed the retry; an old one's timer may have fired: armed again.
      if (!told.fresh) await deps.store.setDue(change.segmentId, change.profileId, retryAt, told.member);
      wakeSegmentTimers(Date.parse(retryAt));
      deps.log?.warn('membership change not told yet; retried', {
        profileId: change.profileId,
        segmentId: change.segmentId,
        change: change.change,
        retryAt,
        error: (error as Error).name,
      });
      continue;
    }
    await deps.store.settle(change.segmentId, change.profileId, {
      kind: change.change,
      at: change.at,
      member: told.member,
      ...(told.dueAt !== undefined && { dueAt: told.dueAt }),
    });
  }
  if (failure !== undefined) throw failure;
}

/** The history the affected segments need, as the ISO time of the oldest event to read (or null). */
function historySince(segments: ActiveSegment[], now: number): string | null {
  let window: number | 'all' | null = null;
  for (const { reads } of segments) {
    if (reads.history === 'all' || window === 'all') window = reads.history === null ? window : 'all';
    else if (reads.history !== null) window = Math.max(window ?? 0, reads.history);
  }
  if (window === null) return null;
  if (window === 'all') return '';
  return new Date(now - window).toISOString();
}

export function subjectOf(
  profile: ProfileRecord,
  events: SubjectEvent[],
  memberOf: (segmentId: string) => boolean,
) {
  const extra = profile as ProfileRecord & { computed?: unknown; stage?: unknown; scores?: unknown };
  const activity = (profile.derived as { activity?: { first?: unknown; last?: unknown } } | undefined)
    ?.activity;
  return {
    profileId: profile.profileId,
    traits: profile.traits,
    ...(isRecord(extra.computed) && { computed: extra.computed }),
    ...(extra.stage !== undefined && { stage: extra.stage }),
    ...(isRecord(extra.scores) && { scores: extra.scores }),
    // The customer's own activity (shared/derived keeps it apart from what Cairn itself writes, such as
    // `Lifecycle Stage Changed`), else the profile's seen range.
    firstSeen: seenAt(activity?.first) ?? profile.firstSeen,
    lastSeen: seenAt(activity?.last) ?? profile.lastSeen,
    tracked: profile.counters?.tracked ?? {},
    events,
    memberOf,
  };
}

function seenAt(ms: unknown): string | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Orders segments so each comes after the segments it reads; throws on a cycle (validation refuses
 * cycles, so a stored set never has one).
 */
export function orderSegments(segments: ActiveSegment[]): ActiveSegment[] {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const ordered: ActiveSegment[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (segment: ActiveSegment, path: string[]) => {
    const mark = state.get(segment.id);
    if (mark === 'done') return;
    if (mark === 'visiting') throw new SegmentCycleError([...path, segment.id]);
    state.set(segment.id, 'visiting');
    for (const id of segment.reads.segments) {
      const dependency = byId.get(id);
      if (dependency) visit(dependency, [...path, segment.id]);
    }
    state.set(segment.id, 'done');
    ordered.push(segment);
  };
  for (const segment of segments) visit(segment, []);
  return ordered;
}

/** Segments that read each other in a circle (the service reports it as a ValidationError on `where`). */
export class SegmentCycleError extends CairnError {
  readonly code = 'segment_cycle';
  readonly status = 409;
  constructor(readonly cycle: string[]) {
    super(`segments read each other in a cycle: ${cycle.slice(cycle.indexOf(cycle.at(-1)!)).join(' → ')}`);
  }
}
