import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compare } from '../../../shared/comparison.js';
import {
  analyseCondition,
  evaluateCondition,
  type SegmentSubject,
  type SubjectEvent,
} from '../../../shared/segments/evaluate.js';
import type { Condition } from '../../../shared/segments/schema.js';

const now = Date.parse('2026-03-01T12:00:00.000Z');
const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function subject(overrides: Partial<SegmentSubject> = {}): SegmentSubject {
  return {
    profileId: 'p1',
    traits: {},
    events: [],
    memberOf: () => false,
    ...overrides,
  };
}

const order = (daysAgo: number, total = 10): SubjectEvent => ({
  type: 'track',
  event: 'Order Completed',
  timestamp: iso(now - daysAgo * day),
  properties: { total },
});

const is = (condition: Condition, s: SegmentSubject) => evaluateCondition(condition, s, now).matches;

describe('segment conditions', () => {
  test('count operators: >=, >, =, <, <= (each must hold)', () => {
    assert.equal(compare(2, { '>=': 2 }), true);
    assert.equal(compare(1, { '>=': 2 }), false);
    assert.equal(compare(2, { '>': 2 }), false);
    assert.equal(compare(3, { '>': 2 }), true);
    assert.equal(compare(2, { '=': 2 }), true);
    assert.equal(compare(3, { '=': 2 }), false);
    assert.equal(compare(1, { '<': 2 }), true);
    assert.equal(compare(2, { '<': 2 }), false);
    assert.equal(compare(2, { '<=': 2 }), true);
    assert.equal(compare(3, { '<=': 2 }), false);
    assert.equal(compare(5, { '>': 1, '<': 10 }), true);
    assert.equal(compare(undefined, { '>=': 0 }), false);
  });

  test('traits: EventBridge pattern syntax on the traits', () => {
    const fr = subject({ traits: { country: 'FR', plan: 'pro', age: 30 } });
    assert.equal(is({ traits: { country: ['FR'] } }, fr), true);
    assert.equal(is({ traits: { country: ['DE'] } }, fr), false);
    assert.equal(is({ traits: { age: [{ numeric: ['>=', 18] }] } }, fr), true);
    assert.equal(is({ traits: { email: [{ exists: false }] } }, fr), true);
  });

  test('computed: a pattern on profile.computed (written by the scores work)', () => {
    const s = subject({ computed: { totalSpend: 250 } });
    assert.equal(is({ computed: { totalSpend: [{ numeric: ['>', 100] }] } }, s), true);
    assert.equal(is({ computed: { totalSpend: [{ numeric: ['>', 1000] }] } }, subject()), false);
  });

  test('performed: event, where, count and within; the window end is the next change', () => {
    const twoOrders = subject({ events: [order(20), order(3), order(1, 0)] });
    const leaf: Condition = {
      performed: {
        event: 'Order Completed',
        where: { properties: { total: [{ numeric: ['>', 0] }] } },
        count: { '>=': 2 },
        within: 'P30D',
      },
    };
    const result = evaluateCondition(leaf, twoOrders, now);
    assert.equal(result.matches, true);
    assert.equal(
      result.nextChangeAt,
      now - 20 * day + 30 * day + 1,
      'the oldest order leaves the window first',
    );
    assert.equal(is(leaf, subject({ events: [order(40), order(3)] })), false, 'one order is outside P30D');
    assert.equal(
      is({ performed: { event: 'Order Completed', count: { '=': 0 }, within: 'P7D' } }, subject()),
      true,
    );
  });

  test('performed without where or within counts all history from the profile counters', () => {
    assert.equal(
      is({ performed: { event: 'Unsubscribed' } }, subject({ tracked: { Unsubscribed: 1 } })),
      true,
    );
    assert.equal(is({ performed: { event: 'Unsubscribed' } }, subject({ tracked: {} })), false);
    assert.equal(
      is({ performed: { event: 'Login', count: { '<': 3 } } }, subject({ tracked: { Login: 2 } })),
      true,
    );
  });

  test('lastSeen and firstSeen: within (in until the window passes) and before (in once it has)', () => {
    const s = subject({ lastSeen: iso(now - 3 * day), firstSeen: iso(now - 40 * day) });
    const recent = evaluateCondition({ lastSeen: { within: 'P7D' } }, s, now);
    assert.deepEqual(recent, { matches: true, nextChangeAt: now - 3 * day + 7 * day + 1 });
    assert.equal(is({ lastSeen: { within: 'P2D' } }, s), false);
    const silent = evaluateCondition({ lastSeen: { before: 'P7D' } }, s, now);
    assert.deepEqual(silent, { matches: false, nextChangeAt: now - 3 * day + 7 * day + 1 });
    assert.equal(is({ firstSeen: { before: 'P30D' } }, s), true);
    assert.equal(is({ firstSeen: { within: 'P30D' } }, s), false);
    assert.equal(is({ lastSeen: { within: 'P7D' } }, subject()), false, 'never seen');
  });

  test('stage, score (whole or per axis) and segment leaves', () => {
    const s = subject({
      stage: 'active',
      scores: { churnRisk: 0.8, lead: { fit: 10, engagement: 25, total: 35 } },
      memberOf: (id) => id === 'newsletter-readers',
    });
    assert.equal(is({ stage: ['active', 'new'] }, s), true);
    assert.equal(is({ stage: ['churned'] }, s), false);
    assert.equal(is({ stage: ['active'] }, subject({ stage: { name: 'active' } })), true);
    assert.equal(is({ score: { churnRisk: { '>=': 0.7 } } }, s), true);
    assert.equal(is({ score: { lead: { engagement: { '>=': 20 } } } }, s), true);
    assert.equal(is({ score: { lead: { fit: { '>=': 20 } } } }, s), false);
    assert.equal(is({ score: { lead: { '>': 30 } } }, s), true, 'a score with axes compares its total');
    assert.equal(is({ score: { churnRisk: { '>=': 0.7 } } }, subject()), false, 'no score yet');
    assert.equal(is({ segment: 'newsletter-readers' }, s), true);
    assert.equal(is({ segment: 'other' }, s), false);
  });

  test('all, any, not nest freely; the earliest window change wins', () => {
    const s = subject({ traits: { country: 'FR' }, lastSeen: iso(now - day) });
    assert.equal(
      is({ all: [{ traits: { country: ['FR'] } }, { not: { traits: { plan: ['pro'] } } }] }, s),
      true,
    );
    assert.equal(
      is({ any: [{ traits: { country: ['DE'] } }, { all: [{ lastSeen: { within: 'P2D' } }] }] }, s),
      true,
    );
    assert.equal(is({ not: { any: [{ traits: { country: ['FR'] } }] } }, s), false);
    const both = evaluateCondition(
      { all: [{ lastSeen: { within: 'P7D' } }, { not: { lastSeen: { within: 'P2D' } } }] },
      s,
      now,
    );
    assert.deepEqual(both, { matches: false, nextChangeAt: now - day + 2 * day + 1 });
  });

  test('the issue example evaluates', () => {
    const where: Condition = {
      all: [
        { traits: { country: ['FR'] } },
        {
          performed: {
            event: 'Order Completed',
            where: { properties: { total: [{ numeric: ['>', 0] }] } },
            count: { '>=': 2 },
            within: 'P30D',
          },
        },
        { not: { performed: { event: 'Unsubscribed' } } },
        { lastSeen: { within: 'P7D' } },
        { stage: ['active', 'new'] },
        { score: { lead: { engagement: { '>=': 20 } } } },
        { segment: 'newsletter-readers' },
      ],
    };
    const s = subject({
      traits: { country: 'FR' },
      events: [order(10), order(2)],
      tracked: { 'Order Completed': 2 },
      lastSeen: iso(now - 2 * day),
      stage: 'active',
      scores: { lead: { engagement: 20 } },
      memberOf: () => true,
    });
    assert.equal(is(where, s), true);
    assert.equal(is(where, { ...s, tracked: { ...s.tracked, Unsubscribed: 1 } }), false);
  });
});

describe('what a segment reads', () => {
  test('event names, trait keys, every-event leaves, segments and the history window', () => {
    const reads = analyseCondition({
      all: [
        { traits: { country: ['FR'], 'address.city': ['Paris'] } },
        { performed: { event: 'Order Completed', within: 'P30D' } },
        { not: { performed: { event: 'Unsubscribed' } } },
        { segment: 'newsletter-readers' },
      ],
    });
    assert.deepEqual([...reads.events], ['Order Completed', 'Unsubscribed']);
    assert.deepEqual(reads.traits, new Set(['country', 'address']));
    assert.equal(reads.everyEvent, false);
    assert.deepEqual([...reads.segments], ['newsletter-readers']);
    assert.equal(reads.history, 30 * day);
    assert.equal(
      analyseCondition({ performed: { event: 'x', where: { properties: { a: [1] } } } }).history,
      'all',
    );
    assert.equal(analyseCondition({ performed: { event: 'x' } }).history, null);
    assert.equal(analyseCondition({ lastSeen: { within: 'P1D' } }).everyEvent, true);
    assert.equal(analyseCondition({ traits: { $or: [{ a: [1] }, { b: [2] }] } }).traits, 'all');
  });
});
