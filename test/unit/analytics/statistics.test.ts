import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  differenceInterval,
  histogramMedian,
  holdoutUplift,
  judgeExperiment,
  medianRelativeError,
  normalCdf,
  timeBucketBounds,
  timeBucketOf,
  twoProportionPValue,
  twoProportionZ,
  wilsonInterval,
} from '../../../shared/analytics/statistics.js';

/** A deterministic pseudo-random sequence in [0, 1) (a linear congruential generator). */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const close = (actual: number, expected: number, digits: number) =>
  assert.ok(
    Math.abs(actual - expected) < 0.5 * 10 ** -digits,
    `${actual} is not ${expected} to ${digits} decimals`,
  );

describe('statistics against published worked examples', () => {
  it('Wilson score intervals equal Newcombe (1998), Statistics in Medicine 17:857, table II (method 3)', () => {
    // Published to 4 decimals: 81/263, 15/148, 0/20, 1/29.
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, low, high] of cases) {
      const [l, h] = wilsonInterval(k, n);
      close(l, low, 4);
      close(h, high, 4);
    }
  });

  it('the difference interval equals Newcombe (1998) method 10: 56/70 − 48/80 and 9/10 − 3/10', () => {
    const [l1, h1] = differenceInterval({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    close(l1, 0.0524, 4);
    close(h1, 0.3339, 4);
    const [l2, h2] = differenceInterval({ successes: 9, trials: 10 }, { successes: 3, trials: 10 });
    close(l2, 0.1705, 4);
    close(h2, 0.809, 4);
  });

  it('the pooled z statistic equals a textbook example: 140/200 vs 255/340 gives z = −1.266015', () => {
    close(twoProportionZ({ successes: 140, trials: 200 }, { successes: 255, trials: 340 }), -1.266015, 6);
  });

  it('p-values follow the normal distribution: Φ(1.96) = 0.97500, two-sided p at z = 5 is 5.733e-7', () => {
    close(normalCdf(1.959963984540054), 0.975, 6);
    close(normalCdf(0), 0.5, 7);
    // z = 5 exactly: 60/200 vs 20/200 (pooled 0.2, SE 0.04).
    const p = twoProportionPValue({ successes: 60, trials: 200 }, { successes: 20, trials: 200 });
    assert.ok(Math.abs(p - 5.733e-7) / 5.733e-7 < 0.01, String(p));
  });

  it('a very strong difference has a tiny p-value, not 0: z = 10 gives 1.523971e-23', () => {
    // 240/800 vs 80/800: pooled 0.2, SE 0.02, z = 10; 2 (1 − Φ(10)) = 1.5239706e-23.
    const p = twoProportionPValue({ successes: 240, trials: 800 }, { successes: 80, trials: 800 });
    assert.ok(Math.abs(p - 1.5239706e-23) / 1.5239706e-23 < 1e-5, String(p));
  });

  it('equals Pearson chi-squared on the 2×2 table (z² = X²)', () => {
    const a = { successes: 30, trials: 120 };
    const b = { successes: 18, trials: 130 };
    const table = [
      [a.successes, a.trials - a.successes],
      [b.successes, b.trials - b.successes],
    ];
    const n = a.trials + b.trials;
    const rows = table.map((r) => r[0]! + r[1]!);
    const cols = [table[0]![0]! + table[1]![0]!, table[0]![1]! + table[1]![1]!];
    let x2 = 0;
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        const expected = (rows[i]! * cols[j]!) / n;
        x2 += (table[i]![j]! - expected) ** 2 / expected;
      }
    close(twoProportionZ(a, b) ** 2, x2, 9);
  });
});

describe('judging an experiment', () => {
  it('names the better arm when 200 per arm convert 30% vs 10%', () => {
    const verdict = judgeExperiment([
      { key: 'b', entered: 200, conversions: 20 },
      { key: 'a', entered: 200, conversions: 60 },
    ]);
    assert.equal(verdict.significant, true);
    assert.equal(verdict.winner, 'a');
    assert.ok(verdict.pValue! < 0.001);
  });

  it('names no winner on 20 per arm at 12% vs 10%, and says why', () => {
    const verdict = judgeExperiment([
      { key: 'a', entered: 20, conversions: 2 },
      { key: 'b', entered: 20, conversions: 2 },
    ]);
    assert.equal(verdict.significant, false);
    assert.equal(verdict.winner, null);
    assert.match(verdict.note, /too few/);
  });

  it('names no winner on enough customers but too few conversions', () => {
    const verdict = judgeExperiment([
      { key: 'a', entered: 100, conversions: 4 },
      { key: 'b', entered: 100, conversions: 0 },
    ]);
    assert.equal(verdict.winner, null);
    assert.match(verdict.note, /too few conversions/);
  });

  it('does not declare p = 0.01 significant: the peeking guard asks for p < 0.001', () => {
    // 150 per arm, 30% vs 18%: p ≈ 0.015 — a winner at 0.05, not under the boundary.
    const verdict = judgeExperiment([
      { key: 'a', entered: 150, conversions: 45 },
      { key: 'b', entered: 150, conversions: 27 },
    ]);
    assert.ok(verdict.pValue! > 0.001 && verdict.pValue! < 0.05, String(verdict.pValue));
    assert.equal(verdict.significant, false);
    assert.match(verdict.note, /no significant difference yet/);
  });

  it('keeps A/A false winners rare when looked at after every 20 customers (peeking)', () => {
    // Deterministic pseudo-random A/A tests: both arms convert 20%; look 50 times each.
    const random = seededRandom(42);
    let falseWinners = 0;
    const experiments = 200;
    for (let e = 0; e < experiments; e++) {
      const arms = [
        { key: 'a', entered: 0, conversions: 0 },
        { key: 'b', entered: 0, conversions: 0 },
      ];
      let declared = false;
      for (let look = 0; look < 50 && !declared; look++) {
        for (let i = 0; i < 20; i++) {
          const arm = arms[i % 2]!;
          arm.entered++;
          if (random() < 0.2) arm.conversions++;
        }
        declared = judgeExperiment(arms).significant;
      }
      if (declared) falseWinners++;
    }
    // A plain 0.05 test peeked at 50 times is fooled in roughly 30% of A/A tests.
    assert.ok(falseWinners / experiments <= 0.05, `${falseWinners} of ${experiments}`);
  });

  it('with a holdout arm, gives the uplift of the journey over doing nothing', () => {
    const uplift = holdoutUplift([
      { key: 'mail', entered: 300, conversions: 75 },
      { key: 'none', entered: 100, conversions: 10, holdout: true },
    ])!;
    close(uplift.absolute, 0.15, 9);
    close(uplift.relative!, 1.5, 9);
    assert.ok(uplift.ci95[0] > 0 && uplift.ci95[1] > uplift.absolute);
    assert.ok(uplift.pValue < 0.01);
  });
});

describe('time to next node', () => {
  /** The median as the report defines it: the middle value, or the mean of the two middle values. */
  const middles = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const n = sorted.length;
    return [sorted[Math.ceil(n / 2) - 1]!, sorted[Math.floor(n / 2)]!] as const;
  };
  /** What each middle value may be off by: under 1 s below 16 s, under 4.43 % above. */
  const bound = (value: number) => (value < 16 ? 1 : medianRelativeError * value);
  const histogramOf = (seconds: number[]) => {
    const buckets: Record<number, { count: number; sumMs: number }> = {};
    for (const s of seconds) {
      const ms = Math.round(s * 1000);
      const key = timeBucketOf(ms / 1000);
      const bucket = buckets[key] ?? { count: 0, sumMs: 0 };
      bucket.count++;
      bucket.sumMs += ms;
      buckets[key] = bucket;
    }
    return buckets;
  };

  it('buckets: one per second below 16 s, then 16 per doubling, each holding its values', () => {
    assert.equal(timeBucketOf(0), 0);
    assert.equal(timeBucketOf(15.999), 15);
    assert.equal(timeBucketOf(16), 16);
    assert.equal(timeBucketOf(32), 32);
    for (let s = 0.5; s < 40_000_000; s *= 1.0173) {
      const [low, high] = timeBucketBounds(timeBucketOf(s));
      assert.ok(low <= s && s < high, `${s} in [${low}, ${high})`);
      if (s >= 16) assert.ok(high / low - 1 <= medianRelativeError + 1e-12);
    }
    assert.ok(Math.abs(medianRelativeError - 0.0443) < 1e-4);
  });

  it('is exact when the middle durations are equal (waits of one length), and averages the two middles', () => {
    assert.equal(histogramMedian({}), null);
    assert.equal(histogramMedian(histogramOf(Array(1000).fill(7200))), 7200);
    assert.equal(histogramMedian(histogramOf([60, 60, 60, 86_400, 86_400])), 60);
    assert.equal(histogramMedian(histogramOf([10, 100])), 55);
    assert.equal(histogramMedian(histogramOf([3.25])), 3.25);
  });

  it('is within 4.43 % of the exact median (1 s below 16 s) on 2,000 seeded random samples', () => {
    const random = seededRandom(42);
    let worst = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(random() * 60);
      // Log-uniform from 0.1 s to 30 days, some trials with repeated values (waits).
      const values = Array.from({ length: n }, () =>
        random() < 0.3 ? 3600 : Math.round(10 ** (-1 + random() * 7.4) * 1000) / 1000,
      );
      const [low, high] = middles(values);
      const exact = (low + high) / 2;
      const estimate = histogramMedian(histogramOf(values))!;
      const error = Math.abs(estimate - exact);
      assert.ok(error <= (bound(low) + bound(high)) / 2, `${estimate} vs ${exact} (${values})`);
      if (exact >= 16) worst = Math.max(worst, error / exact);
    }
    assert.ok(worst > 0, 'the bound is not vacuous');
  });
});
