/**
 * Runs compiled rules against an event, with EventBridge's view of the event: a set of leaf values
 * under flattened field names ("detail.state" is reached through { detail: { state } } and through a
 * key literally named "detail.state" alike), arrays matching if any element matches, and the
 * array-consistency rule: fields matched inside an array of objects must come from the same element.
 */
import type { Condition, Leaf, Rule } from './compile.js';

/** Which element of which array a leaf sits in, innermost first; null outside any array. */
interface Membership {
  array: readonly unknown[];
  index: number;
  outer: Membership | null;
}

interface Found {
  value: Leaf;
  membership: Membership | null;
}

/** Finds the leaves under one flattened field name. */
class FieldLookup {
  /** keys[i][j]: segments i..j joined with "." (an event key may itself contain dots). */
  private readonly keys: string[][];
  private readonly length: number;

  constructor(field: string) {
    const segments = field.split('.');
    this.length = segments.length;
    this.keys = segments.map((_, i) =>
      segments.slice(i).map((__, k) => segments.slice(i, i + k + 1).join('.')),
    );
  }

  find(event: unknown): Found[] {
    const found: Found[] = [];
    this.descend(event, 0, null, found);
    return found;
  }

  private descend(node: unknown, from: number, membership: Membership | null, found: Found[]): void {
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        this.descend(node[index], from, { array: node, index, outer: membership }, found);
      }
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const keys = this.keys[from]!;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (!Object.hasOwn(record, key)) continue;
      const next = from + k + 1;
      if (next === this.length) collectLeaves(record[key], membership, found);
      else this.descend(record[key], next, membership, found);
    }
  }
}

function collectLeaves(value: unknown, membership: Membership | null, found: Found[]): void {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      found.push({ value, membership });
      return;
    case 'object':
      if (value === null) found.push({ value, membership });
      else if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          collectLeaves(value[index], { array: value, index, outer: membership }, found);
        }
      }
      // An object is an intermediate node: it has no value of its own.
      return;
    default:
      // undefined, functions, bigint, symbols: not JSON, so not there.
      return;
  }
}

export function conditionAccepts(condition: Condition, value: Leaf): boolean {
  if (condition.anyValue || condition.exact.has(value)) return true;
  for (const test of condition.tests) if (test(value)) return true;
  return false;
}

interface CompiledField {
  lookup: FieldLookup;
  condition: Condition;
}

export type CompiledRule = CompiledField[];

export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  const lookups = new Map<string, FieldLookup>();
  return rules.map((rule) =>
    [...rule].map(([field, condition]) => {
      let lookup = lookups.get(field);
      if (!lookup) {
        lookup = new FieldLookup(field);
        lookups.set(field, lookup);
      }
      return { lookup, condition };
    }),
  );
}

export function matchRules(rules: readonly CompiledRule[], event: unknown): boolean {
  const root = typeof event === 'object' && event !== null && !Array.isArray(event) ? event : {};
  const cache = rules.length > 1 ? new Map<FieldLookup, Found[]>() : undefined;
  for (const rule of rules) if (matchRule(rule, root, cache)) return true;
  return false;
}

function matchRule(rule: CompiledRule, event: object, cache: Map<FieldLookup, Found[]> | undefined): boolean {
  let constrained: Found[][] | undefined;
  for (const { lookup, condition } of rule) {
    let found = cache?.get(lookup);
    if (!found) {
      found = lookup.find(event);
      cache?.set(lookup, found);
    }
    if (found.length === 0) {
      if (condition.absent) continue;
      return false;
    }
    let candidates: Found[] | undefined;
    let free = false;
    for (const leaf of found) {
      if (!conditionAccepts(condition, leaf.value)) continue;
      if (leaf.membership === null) {
        free = true;
        break;
      }
      if (candidates) candidates.push(leaf);
      else candidates = [leaf];
    }
    if (free) continue;
    if (!candidates) return false;
    if (constrained) constrained.push(candidates);
    else constrained = [candidates];
  }
  if (!constrained || constrained.length === 1) return true;
  constrained.sort((a, b) => a.length - b.length);
  return chooseConsistently(constrained, 0, new Map());
}

/** Picks one candidate per field so that no array is entered at two different elements. */
function chooseConsistently(fields: Found[][], at: number, chosen: Map<readonly unknown[], number>): boolean {
  if (at === fields.length) return true;
  for (const candidate of fields[at]!) {
    const added: (readonly unknown[])[] = [];
    let consistent = true;
    for (let m = candidate.membership; m !== null; m = m.outer) {
      const index = chosen.get(m.array);
      if (index === undefined) {
        chosen.set(m.array, m.index);
        added.push(m.array);
      } else if (index !== m.index) {
        consistent = false;
        break;
      }
    }
    if (consistent && chooseConsistently(fields, at + 1, chosen)) return true;
    for (const array of added) chosen.delete(array);
  }
  return false;
}
