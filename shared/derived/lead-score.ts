/**
 * Two-axis lead scores. Fit is recomputed from what is known (traits, computed traits, the email's
 * domain) whenever the profile is written; engagement is O(1) state: the value at its last update,
 * decayed continuously since (`value · (1 − rate)^(elapsed / every)`), plus the points earned in the
 * current cap period.
 */
import { compare } from '../comparison.js';
import { durationSeconds } from '../journeys/duration.js';
import { compilePattern, type EventMatcher } from '../patterns/index.js';
import type { ScoreDefinition } from './schema.js';

export interface EngagementState {
  /** Value at `at` (before decay since). */
  value: number;
  at: number;
  /** Start of the current cap period and the points earned in it. */
  periodStart?: number;
  periodPoints?: number;
}

export interface LeadScoreValue {
  fit: number;
  engagement: number;
  total: number;
}

const freeMailDomains = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'yahoo.fr',
  'yahoo.co.uk',
  'hotmail.com',
  'hotmail.fr',
  'outlook.com',
  'live.com',
  'msn.com',
  'aol.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'mail.com',
  'yandex.com',
  'yandex.ru',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'wanadoo.fr',
  'zoho.com',
  'qq.com',
  '163.com',
  'hey.com',
]);

/** What fit rules match against. */
export function fitSubject(traits: Record<string, unknown>, computed: Record<string, unknown>) {
  const email = typeof traits.email === 'string' ? traits.email.trim().toLowerCase() : undefined;
  const domain = email?.includes('@') ? email.slice(email.lastIndexOf('@') + 1) : undefined;
  return {
    traits,
    computed,
    email: domain === undefined ? {} : { domain, freeMail: freeMailDomains.has(domain) },
  };
}

/** A score definition with its patterns compiled once. */
export interface CompiledScore {
  definition: ScoreDefinition;
  fit: { points: number; matches: EventMatcher }[];
  engagement: { event: string; matches?: EventMatcher; points: number }[];
  capMs?: number;
  decayPerMs?: number;
}

export function compileScore(definition: ScoreDefinition): CompiledScore {
  const decay = definition.engagement.decay;
  return {
    definition,
    fit: definition.fit.map((rule) => ({ points: rule.points, matches: compilePattern(rule.when) })),
    engagement: definition.engagement.rules.map((rule) => ({
      event: rule.event,
      points: rule.points,
      ...(rule.where ? { matches: compilePattern(rule.where) } : {}),
    })),
    ...(definition.engagement.cap ? { capMs: durationSeconds(definition.engagement.cap.per) * 1000 } : {}),
    // ln(1 − rate) per ms of `every`: value(t) = value · exp(decayPerMs · t).
    ...(decay ? { decayPerMs: Math.log(1 - decay.rate) / (durationSeconds(decay.every) * 1000) } : {}),
  };
}

export function fitScore(score: CompiledScore, subject: ReturnType<typeof fitSubject>): number {
  let total = 0;
  for (const rule of score.fit) if (rule.matches(subject)) total += rule.points;
  return round(total);
}

export function engagementAt(score: CompiledScore, state: EngagementState | undefined, now: number): number {
  if (!state) return 0;
  const elapsed = Math.max(0, now - state.at);
  const value =
    score.decayPerMs === undefined ? state.value : state.value * Math.exp(score.decayPerMs * elapsed);
  return round(Math.abs(value) < 0.005 ? 0 : value);
}

/** Engagement after one event at `at` (points of every matching rule, within the period's cap). */
export function addEngagement(
  score: CompiledScore,
  state: EngagementState | undefined,
  event: { event?: string; properties: unknown },
  at: number,
): EngagementState | undefined {
  let points = 0;
  for (const rule of score.engagement)
    if (rule.event === event.event && (rule.matches === undefined || rule.matches(event)))
      points += rule.points;
  if (points === 0) return state;
  // Decay is applied up to the later of the two times; a late old event adds its points undecayed.
  const at2 = Math.max(at, state?.at ?? at);
  const current = engagementAt(score, state, at2);
  if (score.capMs === undefined || score.definition.engagement.cap === undefined)
    return { value: round(current + points), at: at2 };
  const cap = score.definition.engagement.cap.points;
  const inPeriod =
    state?.periodStart !== undefined && at - state.periodStart < score.capMs && at >= state.periodStart;
  const periodStart = inPeriod ? state!.periodStart! : at;
  const earned = inPeriod ? (state!.periodPoints ?? 0) : 0;
  const granted = points > 0 ? Math.min(points, Math.max(0, cap - earned)) : points;
  return {
    value: round(current + granted),
    at: at2,
    periodStart,
    periodPoints: round(earned + Math.max(0, granted)),
  };
}

/** Names of the thresholds the score meets. */
export function thresholdsMet(score: CompiledScore, value: LeadScoreValue): string[] {
  return score.definition.thresholds
    .filter(({ when }) =>
      (['fit', 'engagement', 'total'] as const).every(
        (axis) => when[axis] === undefined || compare(value[axis], when[axis]),
      ),
    )
    .map((threshold) => threshold.name);
}

/** When decay next matters: one decay period on, while there is something left to decay. */
export function nextDecayRefresh(
  score: CompiledScore,
  state: EngagementState | undefined,
  now: number,
): number | undefined {
  if (score.definition.engagement.decay === undefined || state === undefined) return undefined;
  if (engagementAt(score, state, now) === 0) return undefined;
  return now + durationSeconds(score.definition.engagement.decay.every) * 1000;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
