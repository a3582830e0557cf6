import type { Issue } from './errors.js';

/**
 * Checks a parsed JSON value before anything recurses over it (JSON.stringify, zod, DynamoDB
 * marshalling): how deep it nests, and that every string (keys included) is well-formed Unicode.
 * Iterative, so a value nested 100,000 deep is reported instead of overflowing the stack.
 */
export interface JsonShapeOptions {
  /** Deepest nesting allowed below the value itself (its own keys are at depth 1). */
  maxDepth: number;
  /** Prefix for issue paths, e.g. `['batch', 3]`. */
  path?: (string | number)[];
  /** Stop after this many issues. Default 10. */
  maxIssues?: number;
}

/** A lone UTF-16 surrogate: in `u` mode a valid pair is one astral code point, a lone half is `Cs`. */
const loneSurrogate = /\p{Cs}/u;

export function isWellFormedText(text: string): boolean {
  return !loneSurrogate.test(text);
}

export const illFormedMessage = 'contains a lone UTF-16 surrogate (not valid Unicode); send UTF-8 text';

export function jsonShapeIssues(value: unknown, options: JsonShapeOptions): Issue[] {
  const issues: Issue[] = [];
  const maxIssues = options.maxIssues ?? 10;
  const stack: { value: unknown; path: (string | number)[]; depth: number }[] = [
    { value, path: options.path ?? [], depth: 0 },
  ];
  while (stack.length > 0 && issues.length < maxIssues) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (!isWellFormedText(current)) issues.push({ path, message: illFormedMessage });
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= options.maxDepth) {
      issues.push({ path, message: `nests deeper than ${options.maxDepth} levels` });
      continue;
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--)
        stack.push({ value: current[i], path: [...path, i], depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(current);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (!isWellFormedText(key)) {
        issues.push({ path: [...path, key], message: `key ${illFormedMessage}` });
        continue;
      }
      stack.push({
        value: (current as Record<string, unknown>)[key],
        path: [...path, key],
        depth: depth + 1,
      });
    }
  }
  return issues;
}
