/**
 * What the API and the segments function do with segments: define (validate, store, start the
 * backfill), read, list members, delete, preview, and run one backfill page.
 */
import type { Clock } from '../clock.js';
import { ConflictError, type Issue, NotFoundError, ValidationError } from '../errors.js';
import { zodIssues } from '../journeys/validate.js';
import type { Logger } from '../log.js';
import type { ProfileRecord } from '../profiles/model.js';
import {
  type ActiveSegment,
  activeSegment,
  orderSegments,
  reevaluateProfile,
  SegmentCycleError,
  type SegmentEngineDeps,
  subjectOf,
} from './engine.js';
import { evaluateCondition } from './evaluate.js';
import type { MembersPage } from './port.js';
import { type Condition, MAX_DEPTH, type Segment, segmentSchema } from './schema.js';
import type { SegmentRecord, SegmentStore } from './store.js';
import { wakeSegmentTimers } from './timers.js';

/** One page of a backfill, carried from page to page (on AWS by the bus and an SQS queue). */
export interface BackfillJob {
  segmentId: string;
  revision: number;
  cursor?: string;
  evaluated: number;
  /** The first page scans no earlier than this (epoch ms, real time): see `backfillDelayMs`. */
  notBefore?: number;
}

/** Sends the next backfill page to whoever runs pages (the segments function). */
export interface BackfillPager {
  send(job: BackfillJob): Promise<void>;
}

export interface SegmentServiceDeps {
  store: SegmentStore;
  clock: Clock;
  pager: BackfillPager;
  log?: Logger;
  /** Profiles per backfill page. Default 250. */
  pageSize?: number;
  /**
   * How long after a save the backfill starts scanning: longer than other processes cache the
   * segment list (`cachedSegments`), plus a margin for the Scan's eventual consistency. An event a
   * process with the old list stored meanwhile (its hook did not know the new segment) is then in
   * the table before the scan reads its profile. Default 0: one process, whose cache a save clears.
   */
  backfillDelayMs?: number;
  /** Real time (cache ages), for the delay; default Date.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Bumped when a segment is saved or deleted: same-process caches reload on next use. */
let generation = 0;

/** The defined segments, dependencies first, cached for `ttlMs` (default 5 s) and until a save. */
export function cachedSegments(store: SegmentStore, ttlMs = 5000): () => Promise<ActiveSegment[]> {
  let cache: { at: number; generation: number; segments: Promise<ActiveSegment[]> } | undefined;
  return () => {
    const now = Date.now();
    if (!cache || cache.generation !== generation || now - cache.at >= ttlMs) {
      const segments = loadSegments(store);
      cache = { at: now, generation, segments };
      segments.catch(() => {
        if (cache?.segments === segments) cache = undefined;
      });
    }
    return cache.segments;
  };
}

/**
 * The stored segments that parse. A record that does not (written by an older version, or by hand)
 * is left out rather than failing every ingest that evaluates segments.
 */
async function loadSegments(store: SegmentStore): Promise<ActiveSegment[]> {
  const records = await store.listSegments();
  const valid = records.flatMap((record) => {
    const parsed = segmentSchema.safeParse(record.definition);
    return parsed.success ? [activeSegment(parsed.data)] : [];
  });
  return orderSegments(valid);
}

export function invalidateSegments(): void {
  generation++;
}

/**
 * Parses and checks a segment: the schema, the id of the path, segments it reads exist, no cycle.
 * Every problem at once, each with its path.
 */
export function validateSegment(input: unknown, id: string | undefined, defined: Segment[]): Segment {
  const issues: Issue[] = [];
  const parsed = segmentSchema.safeParse(input);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, input));
  if (id !== undefined && parsed.success && parsed.data.id !== id)
    issues.push({ path: ['id'], message: `must be '${id}', the id in the path` });
  if (parsed.success) {
    const segment = parsed.data;
    const deep = tooDeep(segment.where, ['where'], 0);
    if (deep) issues.push({ path: deep, message: `all/any/not nest at most ${MAX_DEPTH} levels deep` });
    const known = new Map(defined.filter((s) => s.id !== segment.id).map((s) => [s.id, s]));
    for (const { path, segmentId } of segmentReferences(segment.where, ['where'])) {
      if (segmentId === segment.id) issues.push({ path, message: 'a segment cannot contain itself' });
      else if (!known.has(segmentId)) issues.push({ path, message: `unknown segment '${segmentId}'` });
    }
    if (issues.length === 0) {
      try {
        orderSegments([...known.values(), segment].map(activeSegment));
      } catch (error) {
        if (!(error instanceof SegmentCycleError)) throw error;
        issues.push({ path: ['where'], message: error.message });
      }
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return parsed.data!;
}

/** The path of the first condition nested under more than MAX_DEPTH all/any/not, if any. */
function tooDeep(
  condition: Condition,
  path: (string | number)[],
  depth: number,
): (string | number)[] | undefined {
  const children: [Condition, (string | number)[]][] =
    'all' in condition
      ? condition.all.map((c, i) => [c, [...path, 'all', i]])
      : 'any' in condition
        ? condition.any.map((c, i) => [c, [...path, 'any', i]])
        : 'not' in condition
          ? [[condition.not, [...path, 'not']]]
          : [];
  if (children.length === 0) return undefined;
  if (depth >= MAX_DEPTH) return path;
  for (const [child, at] of children) {
    const found = tooDeep(child, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function segmentReferences(
  condition: Condition,
  path: (string | number)[],
): { path: (string | number)[]; segmentId: string }[] {
  if ('segment' in condition) return [{ path: [...path, 'segment'], segmentId: condition.segment }];
  if ('all' in condition) return condition.all.flatMap((c, i) => segmentReferences(c, [...path, 'all', i]));
  if ('any' in condition) return condition.any.flatMap((c, i) => segmentReferences(c, [...path, 'any', i]));
  if ('not' in condition) return segmentReferences(condition.not, [...path, 'not']);
  return [];
}

/** The ids of the defined segments (journeys validate their segment triggers and branches against them). */
export async function definedSegmentIds(store: Pick<SegmentStore, 'listSegments'>): Promise<Set<string>> {
  return new Set((await store.listSegments()).map((record) => record.id));
}

/** Saves a segment and starts building its membership (`status: building` until the backfill ends). */
export async function putSegment(deps: SegmentServiceDeps, id: string, input: unknown): Promise<SegmentJson> {
  const records = await deps.store.listSegments();
  const definition = validateSegment(
    input,
    id,
    records.map((r) => r.definition),
  );
  const previous = records.find((r) => r.id === id);
  const now = new Date(deps.clock.now()).toISOString();
  const record: SegmentRecord = {
    id,
    definition,
    status: 'building',
    revision: (previous?.revision ?? 0) + 1,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    progress: { evaluated: 0 },
  };
  await deps.store.saveSegment(record);
  invalidateSegments();
  const delay = deps.backfillDelayMs ?? 0;
  await deps.pager.send({
    segmentId: id,
    revision: record.revision,
    evaluated: 0,
    ...(delay > 0 && { notBefore: (deps.now ?? Date.now)() + delay }),
  });
  deps.log?.info('segment saved; building', { segmentId: id, revision: record.revision });
  return toJson(record, await deps.store.countOf(id));
}

export interface SegmentJson {
  id: string;
  name: string;
  description?: string;
  definition: Segment;
  status: SegmentRecord['status'];
  count: number;
  progress?: { evaluated: number };
  revision: number;
  createdAt: string;
  updatedAt: string;
}

function toJson(record: SegmentRecord, count: number): SegmentJson {
  return {
    id: record.id,
    name: record.definition.name,
    ...(record.definition.description && { description: record.definition.description }),
    definition: record.definition,
    status: record.status,
    count,
    ...(record.status === 'building' && { progress: { evaluated: record.progress?.evaluated ?? 0 } }),
    revision: record.revision,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export async function getSegment(deps: Pick<SegmentServiceDeps, 'store'>, id: string): Promise<SegmentJson> {
  const [record, count] = await Promise.all([deps.store.getSegment(id), deps.store.countOf(id)]);
  if (!record) throw new NotFoundError(`segment ${id} does not exist`);
  return toJson(record, count);
}

export async function listSegments(
  deps: Pick<SegmentServiceDeps, 'store'>,
): Promise<{ segments: { id: string; name: string; status: string; count: number }[] }> {
  const records = await deps.store.listSegments();
  const counts = await Promise.all(records.map((r) => deps.store.countOf(r.id)));
  return {
    segments: records.map((r, i) => ({
      id: r.id,
      name: r.definition.name,
      status: r.status,
      count: counts[i]!,
    })),
  };
}

export async function listMembers(
  deps: Pick<SegmentServiceDeps, 'store'>,
  id: string,
  query: { limit?: string; cursor?: string },
): Promise<MembersPage> {
  const issues: Issue[] = [];
  const limit = query.limit === undefined ? undefined : Number(query.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    issues.push({ path: ['limit'], message: 'must be a whole number from 1 to 1000' });
  if (query.cursor !== undefined && !/^[A-Za-z0-9_-]{1,1400}$/.test(query.cursor))
    issues.push({ path: ['cursor'], message: 'must be the `next` value of the previous page' });
  if (issues.length > 0) throw new ValidationError(issues);
  if (!(await deps.store.getSegment(id))) throw new NotFoundError(`segment ${id} does not exist`);
  return deps.store.listMembers(id, {
    ...(limit !== undefined && { limit }),
    ...(query.cursor !== undefined && { cursor: query.cursor }),
  });
}

/**
 * Deletes a segment and its memberships. Refused while another segment reads it; journeys that
 * name it are refused at publish time and stop matching entries.
 */
export async function deleteSegment(deps: SegmentServiceDeps, id: string): Promise<void> {
  const records = await deps.store.listSegments();
  if (!records.some((r) => r.id === id)) throw new NotFoundError(`segment ${id} does not exist`);
  const readers = records.filter((r) => r.id !== id && activeSegment(r.definition).reads.segments.has(id));
  if (readers.length > 0)
    throw new ConflictError(
      `segment ${id} is read by ${readers.map((r) => r.id).join(', ')}: change those first`,
    );
  await deps.store.deleteSegment(id);
  invalidateSegments();
  while ((await deps.store.removeMembers(id)) > 0);
}

/** Counts who a definition would hold now, over every profile; stores nothing. */
export async function previewSegment(
  deps: Pick<SegmentServiceDeps, 'store' | 'clock'>,
  input: unknown,
  options: { maxProfiles?: number; sample?: number } = {},
): Promise<{ count: number; sample: string[]; evaluated: number }> {
  const body = { id: 'preview', name: 'preview', ...(isRecord(input) ? input : {}) };
  const records = await deps.store.listSegments();
  const definition = validateSegment(
    body,
    undefined,
    records.map((r) => r.definition),
  );
  const segment = activeSegment(definition);
  const now = deps.clock.now();
  const sampleSize = options.sample ?? 10;
  let count = 0;
  let evaluated = 0;
  const sample: string[] = [];
  let cursor: string | undefined;
  const maxProfiles = options.maxProfiles ?? 1_000_000;
  do {
    const page = await deps.store.scanProfiles({ limit: 1000, ...(cursor && { cursor }) });
    const results = await mapLimit(page.profiles, 16, async (profile) => {
      if (!needsRead(segment))
        return evaluateCondition(
          definition.where,
          subjectOf(profile, [], () => false),
          now,
        ).matches;
      const read = await deps.store.readProfile(profile.profileId, historyOf(segment, now));
      if (!read.profile) return false;
      return evaluateCondition(
        definition.where,
        subjectOf(read.profile, read.events, (id) => read.states.get(id)?.member === true),
        now,
      ).matches;
    });
    results.forEach((matched, i) => {
      if (!matched) return;
      count++;
      if (sample.length < sampleSize) sample.push(page.profiles[i]!.profileId);
    });
    evaluated += page.profiles.length;
    cursor = page.next ?? undefined;
  } while (cursor && evaluated < maxProfiles);
  return { count, sample, evaluated };
}

function needsRead(segment: ActiveSegment): boolean {
  return segment.reads.history !== null || segment.reads.segments.size > 0;
}

function historyOf(segment: ActiveSegment, now: number): string | null {
  const { history } = segment.reads;
  if (history === null) return null;
  return history === 'all' ? '' : new Date(now - history).toISOString();
}

/**
 * One backfill page: evaluates a page of existing profiles for the segment, records progress and
 * sends the next page; the last page marks the segment `ready`. A page of an outdated revision (the
 * segment was saved again) stops. Entries by a backfill start no journeys: existing members did not
 * just enter.
 */
export async function runBackfillPage(
  deps: SegmentServiceDeps,
  job: BackfillJob,
): Promise<'next' | 'ready' | 'stale'> {
  const wait = (job.notBefore ?? 0) - (deps.now ?? Date.now)();
  if (wait > 0) await (deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(wait);
  const record = await deps.store.getSegment(job.segmentId);
  if (!record || record.revision !== job.revision) return 'stale';
  const segments = await loadSegments(deps.store);
  const segment = segments.find((s) => s.id === job.segmentId);
  if (!segment) return 'stale';
  const engine: SegmentEngineDeps = { store: deps.store, clock: deps.clock, segments: async () => segments };
  const page = await deps.store.scanProfiles({
    limit: deps.pageSize ?? 250,
    ...(job.cursor && { cursor: job.cursor }),
  });
  // A first revision has no members yet and, reading no history nor other segments, is decided
  // by the scanned profile alone: only members (and timers) cost a write.
  const fast = record.revision === 1 && !needsRead(segment);
  await mapLimit(page.profiles, 16, async (profile) => {
    if (fast) await enterFromScan(deps, segment, profile);
    else await reevaluateProfile(engine, profile.profileId, { segments: [segment.id] });
  });
  const evaluated = job.evaluated + page.profiles.length;
  if (page.next) {
    if (
      !(await deps.store.setProgress(job.segmentId, job.revision, {
        status: 'building',
        evaluated,
        cursor: page.next,
      }))
    )
      return 'stale';
    const { notBefore: _started, ...next } = job;
    await deps.pager.send({ ...next, cursor: page.next, evaluated });
    return 'next';
  }
  if (!(await deps.store.setProgress(job.segmentId, job.revision, { status: 'ready', evaluated })))
    return 'stale';
  invalidateSegments();
  deps.log?.info('segment ready', { segmentId: job.segmentId, revision: job.revision, evaluated });
  return 'ready';
}

async function enterFromScan(deps: SegmentServiceDeps, segment: ActiveSegment, profile: ProfileRecord) {
  const now = deps.clock.now();
  const result = evaluateCondition(
    segment.definition.where,
    subjectOf(profile, [], () => false),
    now,
  );
  const due = result.nextChangeAt === undefined ? undefined : new Date(result.nextChangeAt).toISOString();
  if (result.matches) await deps.store.enter(segment.id, profile.profileId, new Date(now).toISOString(), due);
  else if (due) await deps.store.setDue(segment.id, profile.profileId, due, false);
  if (due) wakeSegmentTimers(result.nextChangeAt!);
}

/** The segments a profile is in now, for `GET /profiles/{id}`. */
export async function segmentsOfProfile(
  store: SegmentStore,
  profileId: string,
): Promise<{ segmentId: string; since: string }[]> {
  const read = await store.readProfile(profileId, null);
  return [...read.states.values()]
    .filter((state) => state.member)
    .map((state) => ({ segmentId: state.segmentId, since: state.since ?? '' }));
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
