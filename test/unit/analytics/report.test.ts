import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { armConversions, endCounters, sumCounters } from '../../../shared/analytics/counters.js';
import { reportCsv } from '../../../shared/analytics/csv.js';
import { armsFor, stepAnalytics } from '../../../shared/analytics/record.js';
import { buildReport, pathLinks } from '../../../shared/analytics/report.js';
import { timeBucketOf } from '../../../shared/analytics/statistics.js';
import { trailOf } from '../../../shared/analytics/trail.js';
import { splitBranchIndex, splitHash } from '../../../shared/journeys/nodes/split.js';
import { type Journey, journeySchema } from '../../../shared/journeys/schema.js';
import { evenSplit, journeyDocument } from '../../support/journeys.js';

const journey: Journey = journeySchema.parse(
  journeyDocument('promo', 'Signed Up', {
    goal: { event: 'Order Completed', within: 'P7D' },
    start: 'ab',
    nodes: {
      ab: evenSplit({ mailA: 'A', mailB: 'B' }),
      mailA: { type: 'email', template: 'a', next: 'pause' },
      mailB: { type: 'email', template: 'b', next: 'pause' },
      pause: { type: 'wait', for: 'P1D', next: 'vip' },
      vip: {
        type: 'branch',
        cases: [{ when: { traits: { plan: ['pro'] } }, next: 'done' }],
        default: 'done',
      },
      done: { type: 'exit' },
    },
  }),
);

const t0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('an execution trail', () => {
  it('puts the split and the wait between the recorded steps, with entry times', () => {
    // Any profile: the trail follows the recorded steps, whichever arm the hash picks.
    const entries = [
      { nodeId: 'done', outcome: 'completed', at: iso(t0 + 86_400_000) },
      { nodeId: 'vip', outcome: 'default', at: iso(t0 + 86_400_000) },
      { nodeId: 'mailB', outcome: 'sent', at: iso(t0 + 1000) },
    ];
    const trail = trailOf(journey, { enteredAt: t0, entries });
    assert.deepEqual(
      trail.map((s) => s.nodeId),
      ['ab', 'mailB', 'pause', 'vip', 'done'],
    );
    assert.equal(trail[2]!.at, t0 + 1000);
    assert.equal(trail[3]!.at, t0 + 86_400_000);
  });

  it('ends in the wait a stopped execution was parked in', () => {
    const entries = [{ nodeId: 'mailA', outcome: 'sent', at: iso(t0) }];
    const trail = trailOf(journey, { enteredAt: t0, entries, endNode: 'pause' });
    assert.deepEqual(
      trail.map((s) => s.nodeId),
      ['ab', 'mailA', 'pause'],
    );
  });

  // Arms that meet again before any step (two waits): only the split's hash tells them apart.
  const waits: Journey = journeySchema.parse({
    id: 'waits',
    name: 'Waits',
    trigger: { event: 'Signed Up' },
    goal: { event: 'Order Completed', within: 'P7D' },
    start: 'ab',
    nodes: {
      ab: {
        type: 'split',
        branches: [
          { weight: 50, next: 'waitA' },
          { weight: 50, next: 'waitB' },
        ],
      },
      waitA: { type: 'wait', for: 'P1D', next: 'done' },
      waitB: { type: 'wait', for: 'P3D', next: 'done' },
      done: { type: 'exit' },
    },
  });
  // A profile the 50/50 split sends down the second arm.
  const profileB = Array.from({ length: 50 }, (_, i) => `p-${i}`).find(
    (id) => splitBranchIndex(waits.nodes.ab as never, splitHash(id, 'waits', 'ab')) === 1,
  )!;

  it('follows the arm the split took when both arms lead to the same step', () => {
    const entries = [{ nodeId: 'done', outcome: 'completed', at: iso(t0 + 3 * 86_400_000) }];
    const trail = trailOf(waits, { enteredAt: t0, entries, arms: armsFor(waits, 'waits', profileB) });
    assert.deepEqual(
      trail.map((s) => s.nodeId),
      ['ab', 'waitB', 'done'],
    );
  });

  it('counts the exit of a waits-only A/B test on the arm its execution took', async () => {
    const reader = { executionEntries: async () => [] };
    const { end } = await stepAnalytics(reader, waits, {
      journeyId: 'waits',
      version: 1,
      executionName: 'waits-v1-x',
      nodeId: 'done',
      outcome: 'completed',
      state: {
        profileId: profileB,
        enteredAt: iso(t0),
        splits: { ab: { hash: splitHash(profileB, 'waits', 'ab') } },
      } as never,
      profileId: profileB,
      ending: 'exit',
      now: t0 + 3 * 86_400_000,
    });
    assert.equal(end?.['path|ab>waitB>done|count'], 1);
    assert.equal(end?.['edge|waitB|done'], 1);
    assert.equal(end?.['edge|ab|waitA'], undefined);
  });

  it('counts a path, its edges, times and the arm of a conversion', () => {
    const trail = [
      { nodeId: 'ab', at: t0 },
      { nodeId: 'mailA', at: t0 },
      { nodeId: 'pause', at: t0 + 2000 },
    ];
    const counters = { ...endCounters(trail, 'goal'), ...armConversions(trail, journey) };
    assert.equal(counters['path|ab>mailA>pause|count'], 1);
    assert.equal(counters['path|ab>mailA>pause|conversions'], 1);
    assert.equal(counters['edge|ab|mailA'], 1);
    assert.equal(counters['edge|mailA|pause'], 1);
    assert.equal(counters['tn|mailA|2'], 1);
    assert.equal(counters['tms|mailA|2'], 2000);
    assert.equal(counters['end|pause|goal'], 1);
    assert.equal(counters['arm|ab|mailA|conversions'], 1);
  });
});

describe('the report', () => {
  const days = [
    {
      'journey|started': 250,
      'journey|conversions': 70,
      'node|ab|entered': 250,
      'node|ab|completed': 250,
      'node|ab|branch:0': 125,
      'node|ab|branch:1': 125,
      'node|mailA|entered': 125,
      'node|mailA|sent': 120,
      'node|mailA|delivered': 120,
      'node|mailA|opened': 60,
      'node|mailB|sent': 120,
      'node|mailB|delivered': 120,
      'node|mailB|opened': 10,
      'arm|ab|mailA|conversions': 40,
      'arm|ab|mailB|conversions': 5,
      'path|ab>mailA>pause>vip>done|count': 100,
      'path|ab>mailA>pause>vip>done|conversions': 10,
      'edge|ab|mailA': 100,
      'end|pause|exitOn': 7,
    },
    {
      'journey|started': 150,
      'node|ab|branch:0': 75,
      'node|ab|branch:1': 75,
      'arm|ab|mailA|conversions': 20,
      'arm|ab|mailB|conversions': 15,
      'edge|ab|mailA': 20,
      // 4 executions waited exactly one day in `pause` (bucket of 86,400 s).
      [`tn|pause|${timeBucketOf(86_400)}`]: 4,
      [`tms|pause|${timeBucketOf(86_400)}`]: 4 * 86_400_000,
    },
  ];
  const counters = sumCounters(days);
  const report = buildReport(journey, counters, { from: '2026-03-01', to: '2026-03-02' });

  it('sums the days', () => {
    assert.equal(report.entered, 400);
    assert.deepEqual(report.goal, { conversions: 70, rate: 70 / 400 });
    assert.equal(report.nodes.pause!.dropped, 7);
    assert.equal(report.nodes.pause!.medianSecondsToNext, 86_400);
    assert.equal(report.nodes.vip!.medianSecondsToNext, null);
  });

  it('judges the split with names, counts and intervals', () => {
    const [experiment] = report.experiments;
    assert.equal(experiment!.node, 'ab');
    assert.deepEqual(
      experiment!.arms.map((a) => [a.name, a.entered, a.conversions, a.rate]),
      [
        ['A', 200, 60, 0.3],
        ['B', 200, 20, 0.1],
      ],
    );
    assert.equal(experiment!.significant, true);
    assert.equal(experiment!.winner, 'mailA');
    assert.match(experiment!.note, /A converts 30.0%/);
    assert.ok(report.suggestions.some((s) => s.includes('Branch A wins') && s.includes('make it 100%')));
  });

  it('reports message rates and suggests fixing the email opened far less than average', () => {
    assert.equal(report.messages.mailA!.openRate, 0.5);
    assert.equal(report.messages.mailB!.channel, 'email');
    assert.ok(
      report.suggestions.some((s) => s.includes('node mailB') && s.includes('less than the journey average')),
    );
  });

  it('lists paths and Sankey links', () => {
    assert.deepEqual(report.paths[0], {
      nodes: ['ab', 'mailA', 'pause', 'vip', 'done'],
      count: 100,
      conversions: 10,
    });
    assert.deepEqual(pathLinks(counters), [{ from: 'ab', to: 'mailA', count: 120 }]);
  });

  it('exports CSV, neutralising formula cells', () => {
    const csv = reportCsv(report, 'messages');
    assert.match(csv, /^node,channel,sent,/);
    assert.match(csv, /\r\nmailA,email,120,120,60,0,0,0,0,0.5,0\r\n/);
    const tricky = buildReport({ id: 'x', nodes: { '=cmd': { type: 'exit' } } } as unknown as Journey, {
      'node|=cmd|entered': 1,
    });
    assert.match(reportCsv(tricky, 'nodes'), /\r\n'=cmd,1,/);
    assert.match(reportCsv(report, 'experiments'), /ab,mailA,A,false,200,60,0.3,/);
  });
});
