/**
 * Whether one profile is in a segment now, and when that could change by time alone (a window
 * passing): pure, so unit tests set every input directly. `analyseSegment` says what a segment
 * reads, so an event re-evaluates only the segments it can affect.
 */
import { type Comparison, compare } from '../comparison.js';
import { durationSeconds } from '../journeys/duration.js';
import { InvalidPatternError, matchesPattern } from '../patterns/index.js';
import type { Condition } from './schema.js';

/**
 * An event as the evaluator needs it: the fields it reads of a stored Segment message
 * (NormalizedMessage); a `where` pattern is matched against the whole message.
 */
export interface SubjectEvent {
  type: string;
  event?: string;
  timestamp: string;
  properties?: Record<string, unknown>;
}

/**
 * The profile as segments read it. `computed`, `stage` and `scores` are written by the scores work
 * (computed traits, lifecycle stage, lead score, churn risk) on the profile under these names.
 */
export interface SegmentSubject {
  profileId: string;
  traits: Record<string, unknown>;
  computed?: Record<string, unknown>;
  /** The lifecycle stage: its name, or `{ name }` / `{ stage }`. */
  stage?: unknown;
  /** `{ churnRisk: 0.8, lead: { fit: 10, engagement: 25, total: 35 } }`. */
  scores?: Record<string, unknown>;
  firstSeen?: string;
  lastSeen?: string;
  /** All-time count per event name (profile counters): `performed` without where/within reads it. */
  tracked?: Record<string, number>;
  /** Events back to at least the window `analyseSegment(...).history` asks for. */
  events: SubjectEvent[];
  /** Membership in other segments, already evaluated for this moment. */
  memberOf(segmentId: string): boolean;
}

export interface Evaluation {
  matches: boolean;
  /** Epoch ms after `now` at which time alone may change `matches`; undefined: only events can. */
  nextChangeAt?: number;
}

export function evaluateCondition(condition: Condition, subject: SegmentSubject, now: number): Evaluation {
  if ('all' in condition) {
    const parts = condition.all.map((c) => evaluateCondition(c, subject, now));
    return { matches: parts.every((p) => p.matches), ...earliest(parts) };
  }
  if ('any' in condition) {
    const parts = condition.any.map((c) => evaluateCondition(c, subject, now));
    return { matches: parts.some((p) => p.matches), ...earliest(parts) };
  }
  if ('not' in condition) {
    const inner = evaluateCondition(condition.not, subject, now);
    return { ...inner, matches: !inner.matches };
  }
  if ('traits' in condition) return { matches: matches(condition.traits, subject.traits) };
  if ('computed' in condition) return { matches: matches(condition.computed, subject.computed ?? {}) };
  if ('stage' in condition) return { matches: condition.stage.includes(stageName(subject.stage) ?? '') };
  if ('segment' in condition) return { matches: subject.memberOf(condition.segment) };
  if ('score' in condition) {
    return {
      matches: Object.entries(condition.score).every(([name, test]) => {
        const value = subject.scores?.[name];
        if (isComparison(test)) return compare(numberOf(value), test);
        return Object.entries(test).every(([axis, axisTest]) =>
          compare(numberOf((value as Record<string, unknown> | undefined)?.[axis]), axisTest),
        );
      }),
    };
  }
  if ('lastSeen' in condition) return seen(subject.lastSeen, condition.lastSeen, now);
  if ('firstSeen' in condition) return seen(subject.firstSeen, condition.firstSeen, now);
  return performed(condition.performed, subject, now);
}

function performed(
  leaf: Extract<Condition, { performed: unknown }>['performed'],
  subject: SegmentSubject,
  now: number,
): Evaluation {
  const test = leaf.count ?? { '>=': 1 };
  if (!leaf.where && !leaf.within) return { matches: compare(subject.tracked?.[leaf.event] ?? 0, test) };
  const from = leaf.within ? now - durationSeconds(leaf.within) * 1000 : Number.NEGATIVE_INFINITY;
  let count = 0;
  let leavesFirst: number | undefined;
  for (const event of subject.events) {
    if (event.type !== 'track' || event.event !== leaf.event) continue;
    const at = Date.parse(event.timestamp);
    if (!(at >= from)) continue;
    if (leaf.where && !matches(leaf.where, event)) continue;
    count++;
    if (leaf.within) {
      // This event drops out of the window then: the count changes.
      const out = at + durationSeconds(leaf.within) * 1000 + 1;
      if (out > now && (leavesFirst === undefined || out < leavesFirst)) leavesFirst = out;
    }
  }
  return { matches: compare(count, test), ...(leavesFirst !== undefined && { nextChangeAt: leavesFirst }) };
}

function seen(at: string | undefined, rule: { within?: string; before?: string }, now: number): Evaluation {
  if (at === undefined) return { matches: false };
  const window = durationSeconds((rule.within ?? rule.before)!) * 1000;
  const boundary = Date.parse(at) + window;
  // within: in until the boundary passes; before: in once it has passed.
  const inside = now <= boundary;
  return {
    matches: rule.within ? inside : !inside,
    ...(inside && { nextChangeAt: boundary + 1 }),
  };
}

const operators = new Set(['>=', '>', '=', '<', '<=']);

function isComparison(test: object): test is Comparison {
  return Object.keys(test).every((key) => operators.has(key));
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // A score with axes compared as a whole: its total.
  if (value && typeof value === 'object' && typeof (value as { total?: unknown }).total === 'number')
    return (value as { total: number }).total;
  return undefined;
}

function stageName(stage: unknown): string | undefined {
  if (typeof stage === 'string') return stage;
  if (stage && typeof stage === 'object') {
    const { name, stage: inner } = stage as { name?: unknown; stage?: unknown };
    if (typeof name === 'string') return name;
    if (typeof inner === 'string') return inner;
  }
  return undefined;
}

function matches(pattern: Record<string, unknown>, value: unknown): boolean {
  try {
    return matchesPattern(pattern, value);
  } catch (error) {
    // Stored definitions are validated; one that is not matches nothing rather than failing ingest.
    if (error instanceof InvalidPatternError) return false;
    throw error;
  }
}

function earliest(parts: Evaluation[]): { nextChangeAt?: number } {
  let at: number | undefined;
  for (const part of parts)
    if (part.nextChangeAt !== undefined && (at === undefined || part.nextChangeAt < at))
      at = part.nextChangeAt;
  return at === undefined ? {} : { nextChangeAt: at };
}

/** What a segment reads: which events and traits can change its outcome. */
export interface SegmentReads {
  /** Track event names its `performed` leaves count. */
  events: Set<string>;
  /** Trait keys its `traits` leaves read; `all` when a pattern uses `$or` at the top. */
  traits: Set<string> | 'all';
  /** Reads lastSeen/firstSeen, computed traits, stage or scores: every event can change it. */
  everyEvent: boolean;
  /** Segments it reads (`segment` leaves). */
  segments: Set<string>;
  /** Event history needed: ms back from now, `all`, or null (none: counters suffice). */
  history: number | 'all' | null;
}

export function analyseCondition(condition: Condition): SegmentReads {
  const reads: SegmentReads = {
    events: new Set(),
    traits: new Set(),
    everyEvent: false,
    segments: new Set(),
    history: null,
  };
  const visit = (c: Condition): void => {
    if ('all' in c) {
      for (const child of c.all) visit(child);
      return;
    }
    if ('any' in c) {
      for (const child of c.any) visit(child);
      return;
    }
    if ('not' in c) {
      visit(c.not);
      return;
    }
    if ('traits' in c) {
      if (reads.traits !== 'all') {
        const keys = Object.keys(c.traits);
        if (keys.some((k) => k.startsWith('$'))) reads.traits = 'all';
        else for (const key of keys) reads.traits.add(key.split('.')[0]!);
      }
      return;
    }
    if ('segment' in c) {
      reads.segments.add(c.segment);
      return;
    }
    if ('performed' in c) {
      const leaf = c.performed;
      reads.events.add(leaf.event);
      if (leaf.within) {
        const ms = durationSeconds(leaf.within) * 1000;
        if (reads.history !== 'all') reads.history = Math.max(reads.history ?? 0, ms);
      } else if (leaf.where) reads.history = 'all';
      return;
    }
    reads.everyEvent = true;
  };
  visit(condition);
  return reads;
}
