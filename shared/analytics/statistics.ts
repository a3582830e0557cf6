/**
 * The statistics of a journey's experiments (split nodes): conversion rates with Wilson score
 * intervals, the two-proportion z-test (the same p-value as Pearson's chi-squared on the 2×2 table,
 * which is what Braze reports), and the rules that decide when a winner may be named.
 *
 * Why this test, and the guard against peeking (shared/analytics/README.md says more):
 * - The z-test is what marketers and their tools know, and its numbers can be checked by anyone
 *   (tests compare with published worked examples).
 * - A dashboard is looked at all the time, and a plain 0.05 test looked at every day "finds" a
 *   winner in an A/A test far more often than 5 % of the time. The guard is the Haybittle–Peto
 *   boundary of group-sequential trials: at every look a difference counts only at p < 0.001
 *   (|z| > 3.29), a bar an A/A test seldom reaches however often it is looked at, and one a real
 *   30 % vs 10 % effect clears with 200 customers per arm.
 * - With several arms, the best arm must beat each other arm at p < 0.001 / (arms − 1) (Bonferroni).
 * - Never on too little data: each arm needs ≥ 30 customers, and the test ≥ 5 expected conversions
 *   and non-conversions per arm (the usual validity rule of the normal approximation / chi-squared).
 */

/** Two-sided significance bar at every look (Haybittle–Peto boundary). */
export const significanceLevel = 0.001;
/** Fewest customers per arm before any conclusion. */
export const minimumPerArm = 30;
/** Fewest expected conversions and non-conversions per arm (validity of the normal approximation). */
export const minimumExpected = 5;

export const testName = 'two-proportion z-test (Pearson chi-squared 2x2), Haybittle-Peto boundary p < 0.001';

/**
 * erfc(x), Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7 everywhere), enough for p-values
 * shown to 2 significant digits and compared with 0.001.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** z of the two-sided 95 % interval. */
export const z95 = 1.959963984540054;

/** Wilson score interval (95 %) of `successes` out of `trials`; [0, 0] with no trials. */
export function wilsonInterval(successes: number, trials: number, z = z95): [number, number] {
  if (trials <= 0) return [0, 0];
  const p = successes / trials;
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  const denominator = 1 + z2 / trials;
  return [Math.max(0, (centre - spread) / denominator), Math.min(1, (centre + spread) / denominator)];
}

export interface Proportion {
  successes: number;
  trials: number;
}

/** Pooled two-proportion z statistic of a − b; 0 when it is undefined (no trials, or no variance). */
export function twoProportionZ(a: Proportion, b: Proportion): number {
  if (a.trials <= 0 || b.trials <= 0) return 0;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return 0;
  return (a.successes / a.trials - b.successes / b.trials) / se;
}

/** Two-sided p-value of the pooled two-proportion z-test (= Pearson chi-squared 2×2, no continuity correction). */
export function twoProportionPValue(a: Proportion, b: Proportion): number {
  const z = twoProportionZ(a, b);
  // 2 (1 − Φ(|z|)) = erfc(|z| / √2), computed directly: 1 − Φ cancels to 0 from |z| ≈ 8.3.
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * 95 % interval of the difference a − b of two proportions: Newcombe's hybrid score interval
 * (method 10 of Newcombe 1998), built from the two Wilson intervals: good coverage at small counts.
 */
export function differenceInterval(a: Proportion, b: Proportion, z = z95): [number, number] {
  const p1 = a.trials > 0 ? a.successes / a.trials : 0;
  const p2 = b.trials > 0 ? b.successes / b.trials : 0;
  const [l1, u1] = wilsonInterval(a.successes, a.trials, z);
  const [l2, u2] = wilsonInterval(b.successes, b.trials, z);
  const d = p1 - p2;
  return [d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)];
}

export interface ArmCounts {
  /** The id the arm is known by (the node it leads to). */
  key: string;
  entered: number;
  conversions: number;
  holdout?: boolean;
}

export interface ExperimentVerdict {
  pValue: number | null;
  significant: boolean;
  winner: string | null;
  /** Plain words: what the numbers allow a marketer to conclude. */
  note: string;
  /** With a holdout arm: the treated arms' rate minus the holdout's, with its 95 % interval and p-value. */
  uplift?: { absolute: number; relative: number | null; ci95: [number, number]; pValue: number };
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** Why no conclusion may be drawn yet, or undefined when the data suffice. */
function tooLittleData(arms: ArmCounts[]): string | undefined {
  const small = arms.filter((arm) => arm.entered < minimumPerArm);
  if (small.length > 0) {
    return `too few customers to conclude: each arm needs at least ${minimumPerArm} (fewest so far: ${Math.min(...arms.map((a) => a.entered))})`;
  }
  const total = arms.reduce((sum, arm) => sum + arm.entered, 0);
  const conversions = arms.reduce((sum, arm) => sum + arm.conversions, 0);
  const pooled = total > 0 ? conversions / total : 0;
  const fewest = Math.min(...arms.map((arm) => Math.min(arm.entered * pooled, arm.entered * (1 - pooled))));
  if (fewest < minimumExpected) {
    return `too few conversions to conclude (${conversions} in all): each arm needs at least ${minimumExpected} expected conversions`;
  }
  return undefined;
}

/**
 * The verdict on one split: the best arm (highest rate) against each other arm; a winner only when
 * it beats every one of them below the boundary (Bonferroni over the comparisons) and there is
 * enough data. pValue is the largest of the adjusted p-values (the weakest of the wins).
 */
export function judgeExperiment(arms: ArmCounts[]): ExperimentVerdict {
  const uplift = holdoutUplift(arms);
  if (arms.length < 2) {
    return { pValue: null, significant: false, winner: null, note: 'one arm only: nothing to compare' };
  }
  const rate = (arm: ArmCounts) => (arm.entered > 0 ? arm.conversions / arm.entered : 0);
  const ranked = [...arms].sort((a, b) => rate(b) - rate(a));
  const best = ranked[0]!;
  const comparisons = ranked.length - 1;
  const pValue = Math.min(
    1,
    Math.max(
      ...ranked
        .slice(1)
        .map(
          (other) =>
            twoProportionPValue(
              { successes: best.conversions, trials: best.entered },
              { successes: other.conversions, trials: other.entered },
            ) * comparisons,
        ),
    ),
  );
  const lacking = tooLittleData(arms);
  const base = { pValue, ...(uplift && { uplift }) };
  if (lacking) return { ...base, significant: false, winner: null, note: lacking };
  if (pValue >= significanceLevel) {
    return {
      ...base,
      significant: false,
      winner: null,
      note: `no significant difference yet (p = ${pValue.toPrecision(2)}; a winner needs p < ${significanceLevel})`,
    };
  }
  const runnerUp = ranked[1]!;
  return {
    ...base,
    significant: true,
    winner: best.key,
    note: `${best.key} converts ${percent(rate(best))} vs ${percent(rate(runnerUp))} for ${runnerUp.key} (p = ${pValue.toPrecision(2)})`,
  };
}

/** The treated arms (pooled) against the holdout arms (pooled): what the journey adds over doing nothing. */
export function holdoutUplift(arms: ArmCounts[]): ExperimentVerdict['uplift'] {
  const holdout = arms.filter((arm) => arm.holdout);
  const treated = arms.filter((arm) => !arm.holdout);
  if (holdout.length === 0 || treated.length === 0) return undefined;
  const pool = (group: ArmCounts[]): Proportion => ({
    successes: group.reduce((sum, arm) => sum + arm.conversions, 0),
    trials: group.reduce((sum, arm) => sum + arm.entered, 0),
  });
  const t = pool(treated);
  const h = pool(holdout);
  const rt = t.trials > 0 ? t.successes / t.trials : 0;
  const rh = h.trials > 0 ? h.successes / h.trials : 0;
  return {
    absolute: rt - rh,
    relative: rh > 0 ? (rt - rh) / rh : null,
    ci95: differenceInterval(t, h),
    pValue: twoProportionPValue(t, h),
  };
}

/**
 * Time to the next node, pre-aggregated as a log-linear histogram that also keeps the sum of each
 * bucket. Buckets: one per second below 16 s ([k, k+1)), then 16 per doubling ([L, L·2^(1/16)), each
 * under 4.5 % wide), up to a year and more. Counters per node: `tn|<node>|<bucket>` (count) and
 * `tms|<node>|<bucket>` (sum of the durations in ms).
 */
export const subBucketsPerDoubling = 16;
const linearBelow = 16;
const lastBucket = linearBelow + subBucketsPerDoubling * 32;

/** The relative error bound of `histogramMedian` above 16 s: 2^(1/16) − 1 ≈ 4.43 %. */
export const medianRelativeError = 2 ** (1 / subBucketsPerDoubling) - 1;

export function timeBucketOf(seconds: number): number {
  if (!(seconds >= 0)) return 0;
  if (seconds < linearBelow) return Math.floor(seconds);
  const bucket = linearBelow + Math.floor(subBucketsPerDoubling * Math.log2(seconds / linearBelow));
  return Math.min(lastBucket, bucket);
}

/** `[low, high)` seconds of a bucket. */
export function timeBucketBounds(bucket: number): [number, number] {
  if (bucket < linearBelow) return [bucket, bucket + 1];
  const step = (k: number) => linearBelow * 2 ** ((k - linearBelow) / subBucketsPerDoubling);
  return [step(bucket), bucket === lastBucket ? Number.POSITIVE_INFINITY : step(bucket + 1)];
}

export interface TimeBucket {
  count: number;
  /** Sum of the durations in the bucket, ms. */
  sumMs: number;
}

/**
 * The median (for an even count, the mean of the two middle values) of the durations in a
 * histogram, in seconds; null when empty. Each middle value is estimated by the mean of its bucket:
 * exact when the bucket holds equal durations (every wait of the same length), otherwise in the same
 * bucket as the true value, so off by less than 1 s when it is under 16 s and by less than
 * `medianRelativeError` (4.43 %) of itself above (the median, their mean, by at most the mean of both).
 */
export function histogramMedian(buckets: Record<number, TimeBucket>): number | null {
  const entries = Object.entries(buckets)
    .map(([bucket, value]) => [Number(bucket), value] as const)
    .filter(([, value]) => value.count > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((sum, [, value]) => sum + value.count, 0);
  if (total === 0) return null;
  const nth = (rank: number): number => {
    let seen = 0;
    for (const [bucket, value] of entries) {
      seen += value.count;
      if (seen >= rank) {
        const [low, high] = timeBucketBounds(bucket);
        // The mean of the bucket lies in it; clamp against rounding in the stored sum.
        return Math.min(Math.max(value.sumMs / value.count / 1000, low), high);
      }
    }
    return Number.NaN;
  };
  return (nth(Math.ceil(total / 2)) + nth(Math.floor(total / 2) + 1)) / 2;
}
