import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ValidationError } from './errors.js';

/** Ids are injected like the clock so tests can predict them. */
export interface IdGenerator {
  next(): string;
}

export const randomIds: IdGenerator = { next: () => randomUUID() };

/** A short, stable, URL-safe digest of the parts: for deterministic names (execution names, split buckets). */
export function stableHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}

/**
 * The id rules, one place for each kind of id. Journey ids name state machines and executions
 * (`<id>-v<version>-<hash>` stays within Step Functions' 80 characters); template ids are what a
 * message node's `template` may name, so the catalog accepts no template id a node cannot reference;
 * segment ids name items and journey triggers; topic ids are the messaging policy's topics.
 */
const lowercaseId = (max: number) => new RegExp(`^[a-z0-9][a-z0-9-]{0,${max - 1}}$`);
const letters = 'lowercase letters, digits and -';

export const idRules = {
  journey: { pattern: lowercaseId(40), message: `must be ${letters} (at most 40 characters)` },
  template: {
    pattern: lowercaseId(64),
    message: `must be a template id: ${letters} (at most 64 characters)`,
  },
  segment: { pattern: lowercaseId(64), message: `must be ${letters} (at most 64 characters)` },
  topic: { pattern: lowercaseId(64), message: `must be a topic id: ${letters}` },
} as const;

/** The schema of one kind of id (its rule and message), for the zod schemas that name one. */
export function idSchema(kind: keyof typeof idRules) {
  return z.string().regex(idRules[kind].pattern, { message: idRules[kind].message });
}

/** Throws a ValidationError on `['id']` when `id` breaks the rule for its kind. */
export function assertId(id: string, kind: keyof typeof idRules): void {
  const rule = idRules[kind];
  if (!rule.pattern.test(id)) {
    throw new ValidationError([{ path: ['id'], message: `${kind} id ${rule.message}` }]);
  }
}
