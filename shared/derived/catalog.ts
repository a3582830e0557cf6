/**
 * Definitions of computed traits, lead scores, lifecycle stages and the churn model, as the API and
 * the deploy keep them (`PUT /traits/{id}`, `PUT /scores/{id}`, `PUT /lifecycle`). Every problem of a
 * definition is reported at once, each with its path.
 */
import type * as z from 'zod';
import { type Clock, isoAt } from '../clock.js';
import { NotFoundError, uniqueIssues, ValidationError } from '../errors.js';
import { zodIssues } from '../journeys/validate.js';
import type { DefinitionStore, StoredDefinitions } from './definitions.js';
import {
  type ChurnModel,
  churnModelSchema,
  defaultChurnModel,
  defaultLifecycle,
  derivedId,
  type LifecycleDefinition,
  lifecycleSchema,
  type ScoreDefinition,
  scoreDefinitionSchema,
  type TraitDefinition,
  traitDefinitionSchema,
} from './schema.js';

/** A profile item must stay far below DynamoDB's 400 KB: bounded numbers of traits and scores. */
export const maxTraits = 50;
export const maxScores = 10;
export const churnScoreId = 'churnRisk';

export interface DefinitionView<T> {
  id: string;
  definition: T;
  updatedAt: string | null;
}

export interface DerivedCatalogDeps {
  store: DefinitionStore;
  clock: Clock;
  /** Called after every change (the local stack's ingest drops its cached definitions). */
  onChange?: () => void;
}

export class DerivedCatalog {
  constructor(private readonly deps: DerivedCatalogDeps) {}

  async listTraits(): Promise<DefinitionView<TraitDefinition>[]> {
    const stored = await this.deps.store.load();
    return [...stored.traits].map(([id, s]) => ({ id, ...s })).sort(byId);
  }

  async getTrait(id: string): Promise<DefinitionView<TraitDefinition>> {
    const stored = (await this.deps.store.load()).traits.get(checkId(id, 'trait'));
    if (!stored) throw new NotFoundError(`computed trait ${id} not found`);
    return { id, ...stored };
  }

  async putTrait(
    id: string,
    input: unknown,
  ): Promise<{ trait: DefinitionView<TraitDefinition>; created: boolean }> {
    const definition = parseDefinition(traitDefinitionSchema, withId(input, checkId(id, 'trait')));
    const stored = await this.deps.store.load();
    if (!stored.traits.has(id) && stored.traits.size >= maxTraits)
      throw new ValidationError([
        { path: [], message: `at most ${maxTraits} computed traits can be defined` },
      ]);
    const updatedAt = isoAt(this.deps.clock);
    const { created } = await this.deps.store.put('trait', id, definition, updatedAt);
    this.deps.onChange?.();
    return { trait: { id, definition, updatedAt }, created };
  }

  async deleteTrait(id: string): Promise<void> {
    if (!(await this.deps.store.delete('trait', checkId(id, 'trait'))))
      throw new NotFoundError(`computed trait ${id} not found`);
    this.deps.onChange?.();
  }

  /** Lead scores and, under `churnRisk`, the churn model (its default when never set). */
  async listScores(): Promise<DefinitionView<ScoreDefinition | ChurnModel>[]> {
    const stored = await this.deps.store.load();
    return [...[...stored.scores].map(([id, s]) => ({ id, ...s })).sort(byId), churnView(stored)];
  }

  async getScore(id: string): Promise<DefinitionView<ScoreDefinition | ChurnModel>> {
    const stored = await this.deps.store.load();
    if (id === churnScoreId) return churnView(stored);
    const score = stored.scores.get(checkId(id, 'score'));
    if (!score) throw new NotFoundError(`score ${id} not found`);
    return { id, ...score };
  }

  async putScore(
    id: string,
    input: unknown,
  ): Promise<{ score: DefinitionView<ScoreDefinition | ChurnModel>; created: boolean }> {
    const updatedAt = isoAt(this.deps.clock);
    if (id === churnScoreId) {
      const { id: _id, ...model } = withId(input, id) as Record<string, unknown>;
      const definition = parseDefinition(churnModelSchema, model);
      const { created } = await this.deps.store.put('churn', id, definition, updatedAt);
      this.deps.onChange?.();
      return { score: { id, definition, updatedAt }, created };
    }
    const definition = parseDefinition(scoreDefinitionSchema, withId(input, checkId(id, 'score')));
    const stored = await this.deps.store.load();
    if (!stored.scores.has(id) && stored.scores.size >= maxScores)
      throw new ValidationError([{ path: [], message: `at most ${maxScores} scores can be defined` }]);
    const { created } = await this.deps.store.put('score', id, definition, updatedAt);
    this.deps.onChange?.();
    return { score: { id, definition, updatedAt }, created };
  }

  async deleteScore(id: string): Promise<void> {
    const kind = id === churnScoreId ? 'churn' : 'score';
    const existed = await this.deps.store.delete(kind, id === churnScoreId ? id : checkId(id, 'score'));
    if (!existed && kind === 'score') throw new NotFoundError(`score ${id} not found`);
    this.deps.onChange?.();
  }

  async getLifecycle(): Promise<DefinitionView<LifecycleDefinition>> {
    const stored = (await this.deps.store.load()).lifecycle;
    return {
      id: 'lifecycle',
      definition: stored?.definition ?? defaultLifecycle,
      updatedAt: stored?.updatedAt ?? null,
    };
  }

  async putLifecycle(input: unknown): Promise<DefinitionView<LifecycleDefinition>> {
    const definition = parseDefinition(lifecycleSchema, input);
    const updatedAt = isoAt(this.deps.clock);
    await this.deps.store.put('lifecycle', 'lifecycle', definition, updatedAt);
    this.deps.onChange?.();
    return { id: 'lifecycle', definition, updatedAt };
  }
}

/** Validates `input` against `schema`: every problem with its path, or the definition with defaults applied. */
export function parseDefinition<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ValidationError([{ path: [], message: 'must be an object (JSON or YAML)' }]);
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ValidationError(uniqueIssues(zodIssues(parsed.error, input)));
  return parsed.data;
}

function churnView(stored: StoredDefinitions): DefinitionView<ChurnModel> {
  return {
    id: churnScoreId,
    definition: stored.churn?.definition ?? defaultChurnModel,
    updatedAt: stored.churn?.updatedAt ?? null,
  };
}

function checkId(id: string, what: string): string {
  const parsed = derivedId.safeParse(id);
  if (!parsed.success)
    throw new ValidationError([{ path: ['id'], message: `${what} id ${parsed.error.issues[0]?.message}` }]);
  return id;
}

/** The id comes from the URL; one in the body must agree. */
function withId(input: unknown, id: string): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const given = (input as { id?: unknown }).id;
  if (given !== undefined && given !== id)
    throw new ValidationError([
      { path: ['id'], message: `id must be ${id} (the id in the URL), got ${String(given)}` },
    ]);
  return { ...input, id };
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
