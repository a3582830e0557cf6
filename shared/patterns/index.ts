/**
 * EventBridge event patterns, matched the way Amazon EventBridge matches them: one matcher for the
 * local bus, journey triggers, `waitFor.where` and `branch.when`, so a pattern behaves the same
 * offline and on AWS.
 *
 *   const isPricey = compilePattern({ properties: { price: [{ numeric: ['>', 100] }] } });
 *   isPricey(event); // validate once, match many times
 *
 *   matchesPattern(pattern, event);   // one-off (validates every call)
 *   validatePattern(pattern);         // every problem, each with its path: [] when valid
 *
 * Supported: exact strings / numbers (numeric equality: 300 matches 3.0e2) / booleans / null, arrays
 * in events (any element), prefix, suffix (both also with equals-ignore-case), equals-ignore-case,
 * wildcard, anything-but (value, list, prefix, suffix, wildcard, equals-ignore-case), numeric,
 * exists, cidr (IPv4 and IPv6), $or, nested objects and dot-joined field names. A pattern may be
 * given as an object or as its JSON text (a duplicated key keeps its last value, as on AWS).
 */
import { describeIssues, type Issue, ValidationError } from '../errors.js';
import { type AnalyseOptions, analysePattern, MAX_ALTERNATIVES, MAX_PATTERN_LENGTH } from './compile.js';
import { compileRules, matchRules } from './match.js';

export type { AnalyseOptions as PatternOptions };
export { MAX_ALTERNATIVES, MAX_PATTERN_LENGTH };

/** The pattern cannot be used: AWS `TestEventPattern`/`PutRule` would reject it too. */
export class InvalidPatternError extends ValidationError {
  constructor(issues: Issue[]) {
    super(issues, `invalid event pattern: ${describeIssues(issues)}`);
  }
}

/** A validated pattern, ready to test events against. */
export type EventMatcher = (event: unknown) => boolean;

/** Every problem with the pattern, each with its path inside the pattern; empty when it is valid. */
export function validatePattern(pattern: unknown, options?: AnalyseOptions): Issue[] {
  return analysePattern(pattern, options).issues;
}

/** Validates once and returns a fast matcher. Throws InvalidPatternError for an invalid pattern. */
export function compilePattern(pattern: unknown, options?: AnalyseOptions): EventMatcher {
  const { issues, rules } = analysePattern(pattern, options);
  if (issues.length > 0) throw new InvalidPatternError(issues);
  const compiled = compileRules(rules);
  return (event) => matchRules(compiled, event);
}

/** Compiled patterns by their text: journeys match the same few patterns against every event. */
const compiled = new Map<string, EventMatcher>();
const maxCompiled = 2000;

/**
 * Whether `event` matches `pattern`. Throws InvalidPatternError for an invalid pattern. Compiled
 * patterns are cached by their JSON text (computed per call, so a pattern changed in place is
 * never matched with a stale compilation); invalid ones are not cached.
 */
export function matchesPattern(pattern: unknown, event: unknown, options?: AnalyseOptions): boolean {
  const key = `${options?.maxLength ?? ''}:${typeof pattern === 'string' ? pattern : JSON.stringify(pattern)}`;
  let matcher = compiled.get(key);
  if (!matcher) {
    matcher = compilePattern(pattern, options);
    if (compiled.size >= maxCompiled) compiled.clear();
    compiled.set(key, matcher);
  }
  return matcher(event);
}
