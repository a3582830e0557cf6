import { createHash, randomUUID } from 'node:crypto';
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
 * (`<id>-v<version>-<hash>` stays within Step Functions' 80 characters); template ids are what an
 * email node's `template` may name, so the catalog accepts no template id a node cannot reference.
 */
export const idRules = {
  journey: {
    pattern: /^[a-z0-9][a-z0-9-]{0,39}$/,
    message: 'must be lowercase letters, digits and - (at most 40 characters)',
  },
  template: {
    pattern: /^[a-z0-9][a-z0-9-]{0,63}$/,
    message: 'must be a template id: lowercase letters, digits and - (at most 64 characters)',
  },
} as const;

/** Throws a ValidationError on `['id']` when `id` breaks the rule for its kind. */
export function assertId(id: string, kind: keyof typeof idRules): void {
  const rule = idRules[kind];
  if (!rule.pattern.test(id)) {
    throw new ValidationError([{ path: ['id'], message: `${kind} id ${rule.message}` }]);
  }
}
