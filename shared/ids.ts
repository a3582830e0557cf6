import { createHash, randomUUID } from 'node:crypto';

/** Ids are injected like the clock so tests can predict them. */
export interface IdGenerator {
  next(): string;
}

export const randomIds: IdGenerator = { next: () => randomUUID() };

/** A short, stable, URL-safe digest of the parts: for deterministic names (execution names, split buckets). */
export function stableHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}
