/**
 * Reads an event pattern into rules the matcher can run, collecting every problem with its path on
 * the way (EventBridge stops at the first; a journey author wants them all at once).
 *
 * The shape follows Amazon's event-ruler (the engine behind EventBridge): nested pattern keys are
 * joined with "." into flattened field names, and `$or` forks the pattern into alternative rules,
 * each a map from field name to the condition on that field. A field written twice in one rule keeps
 * the later condition, as EventBridge does.
 */
import type { Issue } from '../errors.js';
import { type IpRange, ipInRange, parseCidr, parseIp } from './ip.js';
import { MAX_WILDCARD_COMPLEXITY, parseWildcard, wildcardComplexity, wildcardTest } from './wildcard.js';

/** A JSON value at a leaf of an event: what conditions are tested against. */
export type Leaf = string | number | boolean | null;

/** The condition on one field: the field matches if any of the pattern's values matches. */
export interface Condition {
  /** Exact values (strings, numbers, booleans, null), compared by type and value. */
  exact: Set<Leaf>;
  /** Every other operator, one test each. */
  tests: ((value: Leaf) => boolean)[];
  /** `{ "exists": true }`: any leaf value matches. */
  anyValue: boolean;
  /** `{ "exists": false }`: the field having no leaf value matches. */
  absent: boolean;
}

/** One alternative of the pattern: every field must match. */
export type Rule = Map<string, Condition>;

export interface PatternAnalysis {
  issues: Issue[];
  rules: Rule[];
}

/** The longest pattern EventBridge accepts by default (a quota raisable to 4096). */
export const MAX_PATTERN_LENGTH = 2048;
/** `$or` multiplies alternatives; past this many the pattern is rejected as too complex. */
export const MAX_ALTERNATIVES = 1000;

/** Numbers in numeric and anything-but conditions: EventBridge's range and precision. */
const NUMBER_LIMIT = 5e9;
const MAX_DECIMALS = 6;

const operators = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
] as const;

/** Names event-ruler reserves: they cannot be field names inside `$or`. */
const reservedInOr = new Set<string>([
  ...operators,
  'exactly',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

type Path = (string | number)[];

export interface AnalyseOptions {
  /** Longest accepted pattern, in characters of its JSON text. Default MAX_PATTERN_LENGTH. */
  maxLength?: number;
}

export function analysePattern(pattern: unknown, options: AnalyseOptions = {}): PatternAnalysis {
  const issues: Issue[] = [];
  const maxLength = options.maxLength ?? MAX_PATTERN_LENGTH;
  let root = pattern;
  let text: string | undefined;
  if (typeof pattern === 'string') {
    text = pattern;
    try {
      root = JSON.parse(pattern);
    } catch (error) {
      return {
        issues: [{ path: [], message: `is not valid JSON (${(error as Error).message})` }],
        rules: [],
      };
    }
  }
  if (!isObject(root)) {
    return { issues: [{ path: [], message: 'an event pattern must be a JSON object' }], rules: [] };
  }
  text ??= safeStringify(root);
  if (text !== undefined && text.length > maxLength) {
    issues.push({
      path: [],
      message: `is ${text.length} characters long; an event pattern may be at most ${maxLength}`,
    });
  }
  const reader = new PatternReader(issues);
  const rules: Rule[] = [];
  reader.readObject(root, '', [], rules, false);
  return { issues, rules: issues.length === 0 ? rules : [] };
}

class PatternReader {
  private tooComplex = false;

  constructor(private readonly issues: Issue[]) {}

  private issue(path: Path, message: string): void {
    this.issues.push({ path, message });
  }

  readObject(node: Record<string, unknown>, prefix: string, path: Path, rules: Rule[], inOr: boolean): void {
    const keys = Object.keys(node);
    if (keys.length === 0) {
      this.issue(path, 'empty objects are not allowed');
      return;
    }
    for (const key of keys) {
      const value = node[key];
      const at = [...path, key];
      if (key === '$or') {
        this.readOr(value, prefix, at, rules);
        continue;
      }
      if (inOr && reservedInOr.has(key)) {
        this.issue(at, `"${key}" is a reserved name and cannot be a field name inside $or`);
        continue;
      }
      const field = prefix === '' ? key : `${prefix}.${key}`;
      if (Array.isArray(value)) {
        const condition = this.readCondition(value, at);
        if (rules.length === 0) rules.push(new Map());
        for (const rule of rules) rule.set(field, condition);
      } else if (isObject(value)) {
        this.readObject(value, field, at, rules, inOr);
      } else {
        this.issue(at, `must be an object or an array of values to match (write [${describe(value)}])`);
      }
    }
  }

  private readOr(value: unknown, prefix: string, path: Path, rules: Rule[]): void {
    if (!Array.isArray(value)) {
      this.issue(path, '$or must be an array of at least 2 objects');
      return;
    }
    if (value.length < 2) this.issue(path, '$or must contain at least 2 objects');
    const before = rules.map((rule) => new Map(rule));
    const after: Rule[] = [];
    value.forEach((branch, index) => {
      if (!isObject(branch)) {
        this.issue([...path, index], 'each $or alternative must be an object');
        return;
      }
      const forked = before.length === 0 ? [new Map()] : before.map((rule) => new Map(rule));
      this.readObject(branch, prefix, [...path, index], forked, true);
      if (after.length + forked.length > MAX_ALTERNATIVES) {
        if (!this.tooComplex) {
          this.issue(path, `$or expands the pattern into more than ${MAX_ALTERNATIVES} alternatives`);
          this.tooComplex = true;
        }
        return;
      }
      after.push(...forked);
    });
    rules.splice(0, rules.length, ...after);
  }

  private readCondition(values: unknown[], path: Path): Condition {
    const condition: Condition = { exact: new Set(), tests: [], anyValue: false, absent: false };
    if (values.length === 0)
      this.issue(path, 'empty arrays are not allowed: list at least one value to match');
    values.forEach((value, index) => {
      const at = [...path, index];
      if (value === null || typeof value === 'boolean') {
        condition.exact.add(value);
      } else if (typeof value === 'string') {
        condition.exact.add(value);
        const address = parseIp(value);
        if (address) condition.tests.push(sameAddress(address));
      } else if (typeof value === 'number') {
        if (!Number.isFinite(value)) this.issue(at, 'numbers must be finite');
        condition.exact.add(value);
      } else if (isObject(value)) {
        this.readOperator(value, at, condition);
      } else {
        this.issue(at, 'a value to match must be a string, number, true, false, null or an operator object');
      }
    });
    this.checkWildcardComplexity(values, path);
    return condition;
  }

  /** AWS's limit on one field's wildcards together (`wildcard` and `anything-but` wildcards). */
  private checkWildcardComplexity(values: unknown[], path: Path): void {
    const patterns: string[][] = [];
    const add = (text: unknown) => {
      const pieces = typeof text === 'string' ? parseWildcard(text) : undefined;
      if (Array.isArray(pieces)) patterns.push(pieces);
    };
    for (const value of values) {
      if (!isObject(value)) continue;
      add(value.wildcard);
      const excluded = value['anything-but'];
      if (isObject(excluded)) [excluded.wildcard].flat().forEach(add);
    }
    if (patterns.length > 0 && wildcardComplexity(patterns) > MAX_WILDCARD_COMPLEXITY)
      this.issue(
        path,
        'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
      );
  }

  private readOperator(expression: Record<string, unknown>, path: Path, condition: Condition): void {
    const keys = Object.keys(expression);
    if (keys.length !== 1) {
      this.issue(
        path,
        keys.length === 0
          ? 'an operator object needs one operator, e.g. { "prefix": "abc" }'
          : `an operator object takes exactly one operator, found ${keys.map((key) => `"${key}"`).join(', ')}`,
      );
      return;
    }
    const operator = keys[0]!;
    const operand = expression[operator];
    const at = [...path, operator];
    switch (operator) {
      case 'prefix':
      case 'suffix': {
        const test = this.readAffix(operator, operand, at);
        if (test) condition.tests.push(test);
        return;
      }
      case 'equals-ignore-case': {
        if (typeof operand !== 'string') {
          this.issue(at, 'equals-ignore-case takes a string');
          return;
        }
        const lower = operand.toLowerCase();
        condition.tests.push((value) => typeof value === 'string' && value.toLowerCase() === lower);
        return;
      }
      case 'wildcard': {
        if (typeof operand !== 'string') {
          this.issue(at, 'wildcard takes a string');
          return;
        }
        const pieces = parseWildcard(operand);
        if (typeof pieces === 'string') {
          this.issue(at, `invalid wildcard: ${pieces}`);
          return;
        }
        const test = wildcardTest(pieces);
        condition.tests.push((value) => typeof value === 'string' && test(value));
        return;
      }
      case 'anything-but': {
        const test = this.readAnythingBut(operand, at);
        if (test) condition.tests.push(test);
        return;
      }
      case 'numeric': {
        const test = this.readNumeric(operand, at);
        if (test) condition.tests.push(test);
        return;
      }
      case 'exists': {
        if (typeof operand !== 'boolean') {
          this.issue(at, 'exists takes true or false');
          return;
        }
        if (operand) condition.anyValue = true;
        else condition.absent = true;
        return;
      }
      case 'cidr': {
        if (typeof operand !== 'string') {
          this.issue(at, 'cidr takes a string such as "10.0.0.0/24"');
          return;
        }
        const range = parseCidr(operand);
        if (typeof range === 'string') {
          this.issue(at, range);
          return;
        }
        condition.tests.push(inRange(range));
        return;
      }
      default:
        this.issue(
          path,
          `unknown operator "${operator}" (operators are case-sensitive: ${operators.map((o) => `"${o}"`).join(', ')})`,
        );
    }
  }

  private readAffix(
    operator: 'prefix' | 'suffix',
    operand: unknown,
    path: Path,
  ): ((value: Leaf) => boolean) | undefined {
    if (typeof operand === 'string') {
      return operator === 'prefix'
        ? (value) => typeof value === 'string' && value.startsWith(operand)
        : (value) => typeof value === 'string' && value.endsWith(operand);
    }
    if (isObject(operand)) {
      const keys = Object.keys(operand);
      if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
        this.issue(path, `${operator} takes a string or { "equals-ignore-case": "..." }`);
        return undefined;
      }
      const text = operand['equals-ignore-case'];
      if (typeof text !== 'string') {
        this.issue([...path, 'equals-ignore-case'], 'equals-ignore-case takes a string');
        return undefined;
      }
      const lower = text.toLowerCase();
      return operator === 'prefix'
        ? (value) => typeof value === 'string' && value.toLowerCase().startsWith(lower)
        : (value) => typeof value === 'string' && value.toLowerCase().endsWith(lower);
    }
    this.issue(path, `${operator} takes a string or { "equals-ignore-case": "..." }`);
    return undefined;
  }

  /** anything-but never matches a missing field, and matches values of another type. */
  private readAnythingBut(operand: unknown, path: Path): ((value: Leaf) => boolean) | undefined {
    if (typeof operand === 'string') return (value) => value !== operand;
    if (typeof operand === 'number') {
      if (!this.checkNumber(operand, path)) return undefined;
      return (value) => value !== operand;
    }
    if (Array.isArray(operand)) {
      if (operand.length === 0) {
        this.issue(path, 'anything-but needs at least one value');
        return undefined;
      }
      const strings = operand.every((item) => typeof item === 'string');
      const numbers = operand.every((item) => typeof item === 'number');
      if (!strings && !numbers) {
        this.issue(
          path,
          'anything-but takes a list of strings only or of numbers only (no null, booleans or mixes)',
        );
        return undefined;
      }
      if (numbers && !operand.every((item, index) => this.checkNumber(item as number, [...path, index]))) {
        return undefined;
      }
      const excluded = new Set<Leaf>(operand as Leaf[]);
      return (value) => !excluded.has(value);
    }
    if (isObject(operand)) return this.readAnythingButOperator(operand, path);
    this.issue(
      path,
      'anything-but takes a string, a number, a list of either, or a prefix/suffix/wildcard/equals-ignore-case object',
    );
    return undefined;
  }

  private readAnythingButOperator(
    operand: Record<string, unknown>,
    path: Path,
  ): ((value: Leaf) => boolean) | undefined {
    const keys = Object.keys(operand);
    const operator = keys[0];
    const supported = ['prefix', 'suffix', 'wildcard', 'equals-ignore-case'];
    if (keys.length !== 1 || operator === undefined || !supported.includes(operator)) {
      this.issue(
        path,
        `anything-but takes exactly one of ${supported.map((s) => `"${s}"`).join(', ')} in an object`,
      );
      return undefined;
    }
    const at = [...path, operator];
    const raw = operand[operator];
    const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : undefined;
    if (!list || list.length === 0 || !list.every((item) => typeof item === 'string')) {
      this.issue(at, `anything-but ${operator} takes a string or a non-empty list of strings`);
      return undefined;
    }
    const texts = list as string[];
    switch (operator) {
      case 'prefix':
      case 'suffix': {
        if (texts.some((text) => text === '')) {
          this.issue(at, `anything-but ${operator} cannot be empty`);
          return undefined;
        }
        return operator === 'prefix'
          ? (value) => typeof value !== 'string' || !texts.some((text) => value.startsWith(text))
          : (value) => typeof value !== 'string' || !texts.some((text) => value.endsWith(text));
      }
      case 'equals-ignore-case': {
        const excluded = new Set(texts.map((text) => text.toLowerCase()));
        return (value) => typeof value !== 'string' || !excluded.has(value.toLowerCase());
      }
      default: {
        const tests: ((value: string) => boolean)[] = [];
        for (const text of texts) {
          const pieces = parseWildcard(text);
          if (typeof pieces === 'string') {
            this.issue(at, `invalid wildcard "${text}": ${pieces}`);
            return undefined;
          }
          tests.push(wildcardTest(pieces));
        }
        return (value) => typeof value !== 'string' || !tests.some((test) => test(value));
      }
    }
  }

  /**
   * `[op, n]` with op one of = < <= > >=, or a range `[> or >=, low, < or <=, high]`. Only numbers in
   * the event match (not numeric strings), within EventBridge's ±5e9.
   */
  private readNumeric(operand: unknown, path: Path): ((value: Leaf) => boolean) | undefined {
    if (!Array.isArray(operand)) {
      this.issue(path, 'numeric takes an array such as [">", 0, "<=", 5]');
      return undefined;
    }
    const [op1, n1, op2, n2] = operand as unknown[];
    const comparisons = ['=', '<', '<=', '>', '>='];
    if (typeof op1 !== 'string' || !comparisons.includes(op1)) {
      this.issue([...path, 0], `expected one of ${comparisons.map((c) => `"${c}"`).join(', ')}`);
      return undefined;
    }
    if (typeof n1 !== 'number') {
      this.issue([...path, 1], `the value after "${op1}" must be a number`);
      return undefined;
    }
    if (!this.checkNumber(n1, [...path, 1])) return undefined;
    const lowerBound = op1 === '>' || op1 === '>=';
    if (operand.length > (lowerBound ? 4 : 2)) {
      this.issue(path, 'too many elements in numeric expression');
      return undefined;
    }
    const inLimit = (value: Leaf): value is number =>
      typeof value === 'number' && value >= -NUMBER_LIMIT && value <= NUMBER_LIMIT;
    if (operand.length === 2) {
      switch (op1) {
        case '=':
          return (value) => inLimit(value) && value === n1;
        case '<':
          return (value) => inLimit(value) && value < n1;
        case '<=':
          return (value) => inLimit(value) && value <= n1;
        case '>':
          return (value) => inLimit(value) && value > n1;
        default:
          return (value) => inLimit(value) && value >= n1;
      }
    }
    if (operand.length === 3) {
      this.issue(path, `the range is incomplete: add a number after "${String(op2)}"`);
      return undefined;
    }
    if (op2 !== '<' && op2 !== '<=') {
      this.issue([...path, 2], 'the upper bound of a range must use "<" or "<="');
      return undefined;
    }
    if (typeof n2 !== 'number') {
      this.issue([...path, 3], `the value after "${op2}" must be a number`);
      return undefined;
    }
    if (!this.checkNumber(n2, [...path, 3])) return undefined;
    if (n2 <= n1) {
      this.issue(path, 'the lower bound of a range must be less than the upper bound');
      return undefined;
    }
    const openLow = op1 === '>';
    const openHigh = op2 === '<';
    return (value) =>
      inLimit(value) && (openLow ? value > n1 : value >= n1) && (openHigh ? value < n2 : value <= n2);
  }

  private checkNumber(value: number, path: Path): boolean {
    if (!Number.isFinite(value) || value < -NUMBER_LIMIT || value > NUMBER_LIMIT) {
      this.issue(path, `numbers must be between -5e9 and 5e9 (got ${value})`);
      return false;
    }
    if (decimalPlaces(value) > MAX_DECIMALS) {
      this.issue(path, `numbers may have at most ${MAX_DECIMALS} decimal places (got ${value})`);
      return false;
    }
    return true;
  }
}

function sameAddress(address: Uint8Array): (value: Leaf) => boolean {
  const range: IpRange = { low: address, high: address };
  return (value) => {
    if (typeof value !== 'string') return false;
    const other = parseIp(value);
    return other !== undefined && ipInRange(other, range);
  };
}

function inRange(range: IpRange): (value: Leaf) => boolean {
  return (value) => {
    if (typeof value !== 'string') return false;
    const address = parseIp(value);
    return address !== undefined && ipInRange(address, range);
  };
}

/** Digits after the decimal point in the shortest decimal form of `value`. */
function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  return Math.max(0, fraction.length - Number(exponent));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return '...';
  return safeStringify(value) ?? '...';
}
