/**
 * Folds events into a profile's derived state and computes what the profile shows: `computed`
 * (computed traits), `stage` (lifecycle) and `scores` (lead scores by id, `churnRisk`). Pure and
 * synchronous given the definitions: ingest calls it inside its read-modify-write, so keeping the
 * derived state current costs no request per event; a change that others must hear about (a stage
 * change, a threshold crossed) is put in `derived.emit`, which the notifier publishes after the write.
 */
import type { NormalizedMessage } from '../events/normalize.js';
import { durationSeconds } from '../journeys/duration.js';
import { compilePattern, type EventMatcher } from '../patterns/index.js';
import { probabilityAlive } from './bgnbd.js';
import {
  addEngagement,
  type CompiledScore,
  compileScore,
  type EngagementState,
  engagementAt,
  fitScore,
  fitSubject,
  type LeadScoreValue,
  thresholdsMet,
} from './lead-score.js';
import { type Activity, nextStageBoundary, stageAt } from './lifecycle.js';
import type { DerivedDefinitions, TraitDefinition } from './schema.js';
import { addEvent, mergeTraitState, type TraitState, traitNextChange, traitValue } from './traits.js';

export const lifecycleEvent = 'Lifecycle Stage Changed';
export const thresholdEvent = 'Lead Score Threshold Crossed';

/** Transactions of the churn model: day resolution, as in the BG/NBD literature's data sets. */
export interface PurchaseState {
  /** Epoch ms of the first and of the latest counted transaction. */
  first: number;
  last: number;
  /** Repeat transactions: transactions on a later UTC day than the one before. */
  x: number;
}

/** An event Cairn publishes because of this write (deterministic messageId: republishing is a no-op). */
export interface DerivedEmit {
  messageId: string;
  event: string;
  properties: Record<string, unknown>;
  timestamp: string;
}

/** Stored on the profile item (in its document); not part of the public profile. */
export interface DerivedState {
  traits: Record<string, TraitState>;
  activity?: Activity;
  purchases?: PurchaseState;
  engagement: Record<string, EngagementState>;
  /** Thresholds met at the last write, per score id. */
  met: Record<string, string[]>;
  /** What this write emitted, and the message that caused it (`timer` for a time-driven change). */
  emit?: DerivedEmit[];
  emitBy?: string;
  /** When the derived values next change with no event (window, stage boundary, decay): epoch ms. */
  dueAt?: number;
}

export interface ProfileScores {
  [scoreId: string]: LeadScoreValue | number | null | undefined;
  /** 1 − P(alive) under the churn model; null until the customer has a transaction. */
  churnRisk?: number | null;
}

/** What a profile shows. */
export interface DerivedView {
  computed: Record<string, unknown>;
  stage: string;
  stageSince: string;
  scores: ProfileScores;
}

/** The fields of a profile record the deriver reads and writes. */
export interface DerivableProfile {
  profileId: string;
  traits: Record<string, unknown>;
  firstSeen: string;
  lastSeen: string;
  computed?: Record<string, unknown>;
  stage?: string;
  stageSince?: string;
  scores?: ProfileScores;
  derived?: DerivedState;
  /** The armed timer (ISO), on the profile item's `profile-due` index. */
  dueAt?: string;
}

/** Definitions with their patterns compiled: build once per definitions snapshot, use for every event. */
export interface Deriving {
  definitions: DerivedDefinitions;
  traits: { definition: TraitDefinition; matches?: EventMatcher }[];
  scores: CompiledScore[];
  unitMs: number;
}

export function prepare(definitions: DerivedDefinitions): Deriving {
  return {
    definitions,
    traits: definitions.traits.map((definition) => ({
      definition,
      ...(definition.where ? { matches: compilePattern(definition.where) } : {}),
    })),
    scores: definitions.scores.map(compileScore),
    unitMs: durationSeconds(definitions.churn.unit) * 1000,
  };
}

const dayMs = 86_400_000;

/** Cairn's own messages (journey updates, its notifications) carry `context.cairn`: not the customer's activity. */
export function isCairnMessage(message: NormalizedMessage): boolean {
  const context = message.context as Record<string, unknown> | undefined;
  return context !== undefined && context.cairn !== undefined;
}

/**
 * The profile after `message` (already applied to traits and seen times), with the states of
 * `merged` profiles folded in, seen at `now`. Without a message it refreshes what time changed.
 */
export function deriveProfile<P extends DerivableProfile>(
  deriving: Deriving,
  input: {
    profile: P;
    merged?: DerivableProfile[];
    message?: NormalizedMessage;
    now: number;
    /** What caused a write without a message (the timer): part of the emitted events' ids. */
    cause?: string;
  },
): P {
  const { profile, message, now } = input;
  let state: DerivedState = cloneState(profile.derived, profile);
  for (const merged of input.merged ?? [])
    state = mergeStates(deriving, state, cloneState(merged.derived, merged));
  const stageBefore = profile.stage;

  if (message) {
    const at = Date.parse(message.timestamp);
    const own = !isCairnMessage(message);
    if (own) {
      state.activity = state.activity
        ? { first: Math.min(state.activity.first, at), last: Math.max(state.activity.last, at) }
        : { first: at, last: at };
    }
    if (message.type === 'track' && message.event !== undefined) {
      for (const { definition, matches } of deriving.traits) {
        if (definition.event !== message.event || (matches && !matches(message))) continue;
        const next = addEvent(definition, state.traits[definition.id], message, at, now);
        if (next !== undefined) state.traits[definition.id] = next;
      }
      if (own) {
        for (const score of deriving.scores) {
          const next = addEngagement(score, state.engagement[score.definition.id], message, at);
          if (next !== undefined) state.engagement[score.definition.id] = next;
        }
        const churnEvent = deriving.definitions.churn.event;
        if (churnEvent === undefined || churnEvent === message.event)
          state.purchases = addPurchase(state.purchases, at);
      }
    }
  }

  const view = viewOf(deriving, { ...profile, derived: state }, now);
  const emit: DerivedEmit[] = [];
  const cause = message?.messageId ?? input.cause ?? `timer-${now}`;
  let stageSince = profile.stageSince ?? view.stageSince;
  // A notification of a stage change is not a second change (the timer's own event coming back).
  const notification = message?.event === lifecycleEvent && isCairnMessage(message);
  if (stageBefore !== view.stage) {
    stageSince = new Date(now).toISOString();
    if (stageBefore !== undefined && !notification) {
      emit.push({
        messageId: `lifecycle-${profile.profileId}-${cause}`,
        event: lifecycleEvent,
        properties: { from: stageBefore, to: view.stage },
        timestamp: stageSince,
      });
    }
  }
  for (const score of deriving.scores) {
    const id = score.definition.id;
    const value = view.scores[id] as LeadScoreValue;
    const met = thresholdsMet(score, value);
    const before = new Set(state.met[id] ?? []);
    for (const threshold of met) {
      if (before.has(threshold)) continue;
      emit.push({
        messageId: `threshold-${profile.profileId}-${id}-${threshold}-${cause}`,
        event: thresholdEvent,
        properties: { score: id, threshold, ...value },
        timestamp: new Date(now).toISOString(),
      });
    }
    if (met.length > 0) state.met[id] = met;
    else delete state.met[id];
  }
  if (emit.length > 0) {
    state.emit = emit;
    state.emitBy = cause;
  } else {
    delete state.emit;
    delete state.emitBy;
  }
  const dueAt = nextChange(deriving, state, now);
  if (dueAt === undefined) delete state.dueAt;
  else state.dueAt = dueAt;

  // The timer index is written only when its time moves earlier: a timer that fires early finds
  // nothing changed, and the refresh re-arms it. Most events move the due time later (lastSeen +
  // P30D), so they leave the index alone.
  const armed = profile.dueAt === undefined ? undefined : Date.parse(profile.dueAt);
  const keep = armed !== undefined && armed > now && (dueAt === undefined || armed <= dueAt);
  const timer = keep ? profile.dueAt : dueAt === undefined ? undefined : new Date(dueAt).toISOString();
  const next: P = {
    ...profile,
    computed: view.computed,
    stage: view.stage,
    stageSince,
    scores: view.scores,
    derived: state,
  };
  if (timer === undefined) delete next.dueAt;
  else next.dueAt = timer;
  return next;
}

/** What the profile shows at `now` (reads only: for the API, templates and branches). */
export function viewOf(deriving: Deriving, profile: DerivableProfile, now: number): DerivedView {
  const state = profile.derived ?? emptyState();
  const computed: Record<string, unknown> = {};
  for (const { definition } of deriving.traits)
    computed[definition.id] = traitValue(definition, state.traits[definition.id], now);
  const activity = state.activity ?? activityFromSeen(profile);
  const stage = stageAt(deriving.definitions.lifecycle, activity, now);
  const scores: ProfileScores = {};
  const subject = fitSubject(profile.traits, computed);
  for (const score of deriving.scores) {
    const fit = fitScore(score, subject);
    const engagement = engagementAt(score, state.engagement[score.definition.id], now);
    scores[score.definition.id] = { fit, engagement, total: Math.round((fit + engagement) * 100) / 100 };
  }
  scores.churnRisk = churnRisk(deriving, state.purchases, now);
  return {
    computed,
    stage,
    stageSince:
      profile.stage === stage && profile.stageSince ? profile.stageSince : new Date(now).toISOString(),
    scores,
  };
}

/** 1 − P(alive) from the customer's transactions, rounded to 4 places; null without any. */
export function churnRisk(
  deriving: Deriving,
  purchases: PurchaseState | undefined,
  now: number,
): number | null {
  if (!purchases) return null;
  const { parameters, model } = deriving.definitions.churn;
  const unit = deriving.unitMs;
  const history = {
    x: purchases.x,
    tx: (purchases.last - purchases.first) / unit,
    T: Math.max(0, now - purchases.first) / unit,
  };
  return Math.round((1 - probabilityAlive(parameters, history, model)) * 10_000) / 10_000;
}

function addPurchase(state: PurchaseState | undefined, at: number): PurchaseState {
  if (!state) return { first: at, last: at, x: 0 };
  const day = (ms: number) => Math.floor(ms / dayMs);
  if (day(at) === day(state.last) || day(at) === day(state.first)) {
    return { ...state, first: Math.min(state.first, at), last: Math.max(state.last, at) };
  }
  return { first: Math.min(state.first, at), last: Math.max(state.last, at), x: state.x + 1 };
}

function nextChange(deriving: Deriving, state: DerivedState, now: number): number | undefined {
  let next: number | undefined;
  const consider = (at: number | undefined) => {
    if (at !== undefined && at > now && (next === undefined || at < next)) next = at;
  };
  for (const { definition } of deriving.traits)
    consider(traitNextChange(definition, state.traits[definition.id], now));
  if (state.activity) consider(nextStageBoundary(deriving.definitions.lifecycle, state.activity, now));
  // Engagement decay and churn risk move continuously: reads compute them at the time asked (the
  // API), and the stored values refresh with every event and timer, not on timers of their own.
  return next;
}

function mergeStates(deriving: Deriving, a: DerivedState, b: DerivedState): DerivedState {
  const traits = { ...a.traits };
  for (const { definition } of deriving.traits) {
    const merged = mergeTraitState(definition, a.traits[definition.id], b.traits[definition.id]);
    if (merged !== undefined) traits[definition.id] = merged;
  }
  const activity =
    a.activity && b.activity
      ? {
          first: Math.min(a.activity.first, b.activity.first),
          last: Math.max(a.activity.last, b.activity.last),
        }
      : (a.activity ?? b.activity);
  const purchases =
    a.purchases && b.purchases
      ? {
          first: Math.min(a.purchases.first, b.purchases.first),
          last: Math.max(a.purchases.last, b.purchases.last),
          // Both first purchases were real; the later one is a repeat of the earlier.
          x: a.purchases.x + b.purchases.x + 1,
        }
      : (a.purchases ?? b.purchases);
  const engagement = { ...a.engagement };
  for (const score of deriving.scores) {
    const id = score.definition.id;
    const x = a.engagement[id];
    const y = b.engagement[id];
    if (x && y) {
      const at = Math.max(x.at, y.at);
      engagement[id] = { value: engagementAt(score, x, at) + engagementAt(score, y, at), at };
    } else if (y) engagement[id] = y;
  }
  const met = { ...a.met };
  for (const [id, names] of Object.entries(b.met)) met[id] = [...new Set([...(met[id] ?? []), ...names])];
  return { traits, engagement, met, ...(activity ? { activity } : {}), ...(purchases ? { purchases } : {}) };
}

function emptyState(): DerivedState {
  return { traits: {}, engagement: {}, met: {} };
}

/** A profile stored before derived state existed starts from its seen range. */
function cloneState(state: DerivedState | undefined, profile: DerivableProfile): DerivedState {
  if (!state)
    return { ...emptyState(), ...(profile.firstSeen ? { activity: activityFromSeen(profile) } : {}) };
  return {
    ...state,
    traits: { ...state.traits },
    engagement: { ...state.engagement },
    met: { ...state.met },
  };
}

function activityFromSeen(profile: DerivableProfile): Activity {
  return { first: Date.parse(profile.firstSeen), last: Date.parse(profile.lastSeen) };
}
