/**
 * Where derived definitions live, and a cache so ingest reads them at most once per `ttlMs` per
 * container (0 requests per event in steady state). Journeys table, one partition, one Query for all:
 *   trait        pk DERIVED   sk TRAIT#<id>     definition (JSON), updatedAt
 *   score        pk DERIVED   sk SCORE#<id>     definition (JSON), updatedAt
 *   lifecycle    pk DERIVED   sk LIFECYCLE      definition (JSON), updatedAt
 *   churn model  pk DERIVED   sk CHURN          definition (JSON), updatedAt
 */
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.js';
import { queryAll } from '../store/dynamodb.js';
import {
  type ChurnModel,
  type DerivedDefinitions,
  defaultChurnModel,
  defaultLifecycle,
  type LifecycleDefinition,
  type ScoreDefinition,
  type TraitDefinition,
} from './schema.js';

export type DefinitionKind = 'trait' | 'score' | 'lifecycle' | 'churn';

export interface StoredDefinition<T> {
  definition: T;
  updatedAt: string;
}

export interface StoredDefinitions {
  traits: Map<string, StoredDefinition<TraitDefinition>>;
  scores: Map<string, StoredDefinition<ScoreDefinition>>;
  lifecycle?: StoredDefinition<LifecycleDefinition>;
  churn?: StoredDefinition<ChurnModel>;
}

export interface DefinitionStore {
  /** Every definition (one request). */
  load(): Promise<StoredDefinitions>;
  put(
    kind: DefinitionKind,
    id: string,
    definition: unknown,
    updatedAt: string,
  ): Promise<{ created: boolean }>;
  /** Whether it existed. */
  delete(kind: DefinitionKind, id: string): Promise<boolean>;
}

export const derivedPartition = 'DERIVED';
const sortKey = (kind: DefinitionKind, id: string) =>
  kind === 'trait' ? `TRAIT#${id}` : kind === 'score' ? `SCORE#${id}` : kind.toUpperCase();

export function definitionsOf(stored: StoredDefinitions): DerivedDefinitions {
  return {
    traits: [...stored.traits.values()].map((s) => s.definition),
    scores: [...stored.scores.values()].map((s) => s.definition),
    lifecycle: stored.lifecycle?.definition ?? defaultLifecycle,
    churn: stored.churn?.definition ?? defaultChurnModel,
  };
}

function collect(items: { sk: string; definition: unknown; updatedAt: string }[]): StoredDefinitions {
  const out: StoredDefinitions = { traits: new Map(), scores: new Map() };
  for (const { sk, definition, updatedAt } of items) {
    const stored = { definition, updatedAt } as StoredDefinition<never>;
    if (sk.startsWith('TRAIT#')) out.traits.set(sk.slice(6), stored);
    else if (sk.startsWith('SCORE#')) out.scores.set(sk.slice(6), stored);
    else if (sk === 'LIFECYCLE') out.lifecycle = stored;
    else if (sk === 'CHURN') out.churn = stored;
  }
  return out;
}

export class DynamoDefinitionStore implements DefinitionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async load(): Promise<StoredDefinitions> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': derivedPartition },
    });
    return collect(
      items.map((item) => ({
        sk: String(item.sk),
        definition: JSON.parse(String(item.definition)) as unknown,
        updatedAt: String(item.updatedAt),
      })),
    );
  }

  async put(kind: DefinitionKind, id: string, definition: unknown, updatedAt: string) {
    const out = await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: derivedPartition,
          sk: sortKey(kind, id),
          definition: JSON.stringify(definition),
          updatedAt,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return { created: out.Attributes === undefined };
  }

  async delete(kind: DefinitionKind, id: string): Promise<boolean> {
    const out = await this.client.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: derivedPartition, sk: sortKey(kind, id) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes !== undefined;
  }
}

export class MemoryDefinitionStore implements DefinitionStore {
  private readonly items = new Map<string, { definition: unknown; updatedAt: string }>();
  reads = 0;

  async load(): Promise<StoredDefinitions> {
    this.reads += 1;
    return collect([...this.items].map(([sk, item]) => ({ sk, ...structuredClone(item) })));
  }

  async put(kind: DefinitionKind, id: string, definition: unknown, updatedAt: string) {
    const key = sortKey(kind, id);
    const created = !this.items.has(key);
    this.items.set(key, { definition: structuredClone(definition), updatedAt });
    return { created };
  }

  async delete(kind: DefinitionKind, id: string): Promise<boolean> {
    return this.items.delete(sortKey(kind, id));
  }
}

const changed = Symbol.for('cairn.derivedDefinitionsVersion');
type VersionHolder = { [changed]?: number };

/** Tells caches in this process that definitions changed (the API calls it after a write). */
export function definitionsChanged(): void {
  const holder = globalThis as VersionHolder;
  holder[changed] = (holder[changed] ?? 0) + 1;
}

/**
 * Definitions read at most once per `ttlMs` (default 30 s) and again at once after a change made in
 * this process (the local stack runs the API and ingest in one process). Other containers on AWS see
 * a change within `ttlMs`.
 */
export function cachedDefinitions(
  store: DefinitionStore,
  options: { ttlMs?: number; clock?: Clock } = {},
): () => Promise<DerivedDefinitions> {
  const ttl = options.ttlMs ?? 30_000;
  const now = () => (options.clock ?? { now: Date.now }).now();
  let cached: { at: number; version: number; value: Promise<DerivedDefinitions> } | undefined;
  return () => {
    const version = (globalThis as VersionHolder)[changed] ?? 0;
    if (!cached || cached.version !== version || now() - cached.at >= ttl || now() < cached.at) {
      const value = store.load().then(definitionsOf);
      cached = { at: now(), version, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
}
