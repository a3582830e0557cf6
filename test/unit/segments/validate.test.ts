import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../shared/errors.js';
import type { Segment } from '../../../shared/segments/schema.js';
import { validateSegment } from '../../../shared/segments/service.js';

/** Every validation rule of a segment (PUT /segments/{id}, segments as code): its path and message. */

const base = { id: 's', name: 'S' };
const plan = { traits: { plan: ['pro'] } };

/** A condition nested `levels` times in `not`. */
const nested = (levels: number): Record<string, unknown> =>
  levels === 0 ? plan : { not: nested(levels - 1) };

const cases: { rule: string; input: Record<string, unknown>; id?: string; issues: [string, string][] }[] = [
  {
    rule: 'id format',
    input: { ...base, id: 'Bad Id', where: plan },
    id: 'Bad Id',
    issues: [['id', 'must be lowercase letters, digits and - (at most 64 characters)']],
  },
  {
    rule: 'id of the path',
    input: { ...base, where: plan },
    id: 'other',
    issues: [['id', "must be 'other', the id in the path"]],
  },
  {
    rule: 'name required',
    input: { ...base, name: '', where: plan },
    issues: [['name', 'Too small: expected string to have >=1 characters']],
  },
  {
    rule: 'description length',
    input: { ...base, description: 'x'.repeat(2001), where: plan },
    issues: [['description', 'Too big: expected string to have <=2000 characters']],
  },
  {
    rule: 'unknown field',
    input: { ...base, where: plan, extra: 1 },
    issues: [['extra', "unknown field 'extra'"]],
  },
  { rule: 'where required', input: { ...base }, issues: [['where', 'is required']] },
  {
    rule: 'a condition has one kind',
    input: { ...base, where: { traits: { a: [1] }, stage: ['new'] } },
    issues: [['where', 'holds one condition, not 2 (traits, stage): combine them with all or any']],
  },
  {
    rule: 'a condition has a kind',
    input: { ...base, where: {} },
    issues: [
      [
        'where',
        'needs one of traits, computed, performed, lastSeen, firstSeen, stage, score, segment, all, any, not',
      ],
    ],
  },
  {
    rule: 'traits: a pattern',
    input: { ...base, where: { traits: { a: 'x' } } },
    issues: [['where.traits.a', 'must be an object or an array of values to match (write ["x"])']],
  },
  {
    rule: 'traits: pattern operators',
    input: { ...base, where: { traits: { a: [{ numeric: ['>>', 1] }] } } },
    issues: [['where.traits.a[0].numeric[0]', 'expected one of "=", "<", "<=", ">", ">="']],
  },
  {
    rule: 'performed: an event name',
    input: { ...base, where: { performed: { event: '' } } },
    issues: [['where.performed.event', 'must name an event']],
  },
  {
    rule: 'performed: count operators',
    input: { ...base, where: { performed: { event: 'A', count: { '=>': 2 } } } },
    issues: [
      ['where.performed.count.=>', "unknown field '=>'"],
      ['where.performed.count', 'needs at least one of >=, >, =, <, <='],
    ],
  },
  {
    rule: 'performed: count is a number',
    input: { ...base, where: { performed: { event: 'A', count: { '>=': 'two' } } } },
    issues: [['where.performed.count.>=', 'must be a number']],
  },
  {
    rule: 'durations of fixed length',
    input: { ...base, where: { performed: { event: 'A', within: 'P1M' } } },
    issues: [
      [
        'where.performed.within',
        "'P1M' uses years or months, which have no fixed length: use days or weeks (P30D, P4W)",
      ],
    ],
  },
  {
    rule: 'lastSeen: within or before, not both',
    input: { ...base, where: { lastSeen: { within: 'P1D', before: 'P2D' } } },
    issues: [['where.lastSeen', 'needs exactly one of within or before']],
  },
  {
    rule: 'firstSeen: within or before, one of them',
    input: { ...base, where: { firstSeen: {} } },
    issues: [['where.firstSeen', 'needs exactly one of within or before']],
  },
  {
    rule: 'stage: at least one',
    input: { ...base, where: { stage: [] } },
    issues: [['where.stage', 'Too small: expected array to have >=1 items']],
  },
  {
    rule: 'score: at least one',
    input: { ...base, where: { score: {} } },
    issues: [['where.score', 'names at least one score']],
  },
  {
    rule: 'score: a score name',
    input: { ...base, where: { score: { '1x': { '>=': 1 } } } },
    issues: [['where.score.1x', 'invalid id: must be a score name such as lead or churnRisk']],
  },
  {
    rule: 'segment: an id',
    input: { ...base, where: { segment: 'Bad Id' } },
    issues: [['where.segment', 'must be lowercase letters, digits and - (at most 64 characters)']],
  },
  {
    rule: 'all: at least one',
    input: { ...base, where: { all: [] } },
    issues: [['where.all', 'Too small: expected array to have >=1 items']],
  },
  {
    rule: 'nested problems keep their path',
    input: { ...base, where: { any: [{ not: { lastSeen: { within: 'nope' } } }] } },
    issues: [
      ['where.any[0].not.lastSeen.within', "'nope' is not an ISO-8601 duration such as PT2H, P1D or P1DT12H"],
    ],
  },
  {
    rule: 'all/any/not nest at most 8 deep',
    input: { ...base, where: nested(9) },
    issues: [[`where${'.not'.repeat(8)}`, 'all/any/not nest at most 8 levels deep']],
  },
  {
    rule: 'unknown segment',
    input: { ...base, where: { segment: 'nope' } },
    issues: [['where.segment', "unknown segment 'nope'"]],
  },
  {
    rule: 'not itself',
    input: { ...base, where: { segment: 's' } },
    issues: [['where.segment', 'a segment cannot contain itself']],
  },
  {
    rule: 'every problem at once',
    input: { ...base, name: '', where: { all: [{ stage: [] }, { segment: 'nope' }] } },
    issues: [
      ['name', 'Too small: expected string to have >=1 characters'],
      ['where.all[0].stage', 'Too small: expected array to have >=1 items'],
    ],
  },
];

function issuesOf(input: unknown, id: string, defined: Segment[] = []): [string, string][] {
  try {
    validateSegment(input, id, defined);
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.issues.map((issue) => [
      issue.path.reduce<string>(
        (at, key) => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : String(key)),
        '',
      ),
      issue.message,
    ]);
  }
  return [];
}

describe('segment validation: each rule with its path and message', () => {
  for (const { rule, input, id, issues } of cases)
    it(rule, () => {
      assert.deepEqual(issuesOf(input, id ?? String(input.id)), issues);
    });

  it('8 levels of all/any/not are accepted', () => {
    assert.deepEqual(issuesOf({ ...base, where: nested(8) }, 's'), []);
  });

  it('a cycle through other segments is refused at where', () => {
    const a: Segment = { id: 'a', name: 'A', where: { segment: 'b' } };
    const b: Segment = { id: 'b', name: 'B', where: { segment: 'c' } };
    const issues = issuesOf({ id: 'c', name: 'C', where: { any: [plan, { segment: 'a' }] } }, 'c', [a, b]);
    assert.deepEqual(issues, [['where', 'segments read each other in a cycle: a → b → c → a']]);
  });
});
