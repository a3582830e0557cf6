/**
 * Validation of a journey definition: every problem at once, each with its path, as one
 * ValidationError (the API answers 400 with it, `npm run validate` prints it).
 */
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { type Issue, uniqueIssues, ValidationError } from '../errors.js';
import { graphIssues } from './graph.js';
import { isNodeType, journeyNodeSchema, nodeModule, nodeTypes } from './nodes/index.js';
import type { CheckContext } from './nodes/types.js';
import { type Journey, journeySchema } from './schema.js';

/** What the nodes' checks may consult (templates, segments): see `CheckContext`. */
export type ValidateOptions = CheckContext;

/** Parses and checks a journey; throws one ValidationError listing every problem. */
export function validateJourney(input: unknown, options: ValidateOptions = {}): Journey {
  const issues = journeyIssues(input, options);
  if (issues.length > 0) throw new ValidationError(issues);
  return journeySchema.parse(input);
}

/** Every problem with a journey definition, in document order; empty when it is valid. */
export function journeyIssues(input: unknown, options: ValidateOptions = {}): Issue[] {
  const issues: Issue[] = [];
  const parsed = journeySchema.safeParse(input);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, input));
  issues.push(...graphIssues(input));
  issues.push(...nodeChecks(input, options));
  issues.push(...triggerChecks(input, options));
  return uniqueIssues(issues);
}

/** A segment trigger names a segment that exists (checked like templates: when the context knows them). */
function triggerChecks(input: unknown, context: CheckContext): Issue[] {
  const segment = ((input as { trigger?: unknown } | null)?.trigger as { segment?: unknown } | undefined)
    ?.segment;
  if (typeof segment !== 'string') return [];
  if (!context.segmentExists || context.segmentExists(segment)) return [];
  return [{ path: ['trigger', 'segment'], message: `unknown segment '${segment}'` }];
}

/** Checks of each node that parses on its own, so a problem elsewhere does not hide them. */
function nodeChecks(input: unknown, context: CheckContext): Issue[] {
  const nodes = (input as { nodes?: unknown } | null)?.nodes;
  if (!nodes || typeof nodes !== 'object' || Array.isArray(nodes)) return [];
  const issues: Issue[] = [];
  for (const [id, raw] of Object.entries(nodes)) {
    const parsed = journeyNodeSchema.safeParse(raw);
    if (!parsed.success || !isNodeType(parsed.data.type)) continue;
    const check = nodeModule(parsed.data.type).check;
    for (const issue of check?.(parsed.data, context) ?? []) {
      issues.push({ path: ['nodes', id, ...issue.path], message: issue.message });
    }
  }
  return issues;
}

/** Zod's issues in the project's shape, with messages a journey author understands. */
export function zodIssues(error: z.ZodError, input: unknown): Issue[] {
  return issuesOf(error.issues, input, []);
}

function issuesOf(list: readonly z.core.$ZodIssue[], input: unknown, prefix: (string | number)[]): Issue[] {
  const issues: Issue[] = [];
  for (const issue of list) {
    const path = [...prefix, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))];
    if (issue.code === 'invalid_union' && path.at(-1) === 'trigger' && issue.errors.length === 2) {
      // An event trigger or a segment trigger: report the problems of the form the author chose.
      const value = valueAt(input, path);
      const chosen = value && typeof value === 'object' && 'segment' in value ? 1 : 0;
      issues.push(...issuesOf(issue.errors[chosen]!, input, path));
      continue;
    }
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys)
          issues.push({ path: [...path, key], message: `unknown field '${key}'` });
        break;
      case 'invalid_type':
        issues.push({
          path,
          message: valueAt(input, path) === undefined ? 'is required' : `must be ${article(issue.expected)}`,
        });
        break;
      case 'invalid_union':
        if ((issue as { discriminator?: string }).discriminator === 'type') {
          issues.push({ path, message: `must be one of: ${nodeTypes.join(', ')}` });
        } else if (path.at(-1) === 'reentry') {
          issues.push({ path, message: 'must be never, always, or { after: <ISO-8601 duration> }' });
        } else {
          issues.push({ path, message: 'does not match any accepted form' });
        }
        break;
      case 'invalid_value':
        issues.push({ path, message: `must be one of: ${issue.values.map((v) => String(v)).join(', ')}` });
        break;
      case 'invalid_key':
        issues.push({ path, message: `invalid id: ${issue.issues.map((i) => i.message).join('; ')}` });
        break;
      default:
        issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function article(expected: string): string {
  if (expected === 'record') return 'an object';
  if (expected === 'object' || expected === 'array') return `an ${expected}`;
  return `a ${expected}`;
}

/**
 * A journey document from its text: JSON when the content type says so (or the text is a JSON
 * object), else YAML. Syntax errors are a ValidationError with the line and column.
 */
export function parseJourneyDocument(text: string, contentType?: string): unknown {
  const json = contentType
    ? /json/i.test(contentType)
    : /^\s*\{/.test(text) && !/yaml/i.test(contentType ?? '');
  if (json) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ValidationError([{ path: [], message: `invalid JSON: ${(error as Error).message}` }]);
    }
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ValidationError(
      document.errors.map((error) => ({
        path: [],
        message: `invalid YAML at line ${error.linePos?.[0]?.line ?? '?'}, column ${error.linePos?.[0]?.col ?? '?'}: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  return document.toJS();
}
