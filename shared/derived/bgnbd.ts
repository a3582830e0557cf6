/**
 * The BG/NBD "buy till you die" model (Fader, Hardie & Lee, "Counting your customers the easy way",
 * Marketing Science 24(2), 2005) and its modification MBG/NBD (Batislam, Denizel & Filiztekin, 2007),
 * which lets a customer drop out right after the first purchase too.
 *
 * A customer buys at rate λ while alive (λ ~ Gamma(r, α) across customers), and after each purchase
 * drops out with probability p (p ~ Beta(a, b)). From a customer's own history (x repeat purchases,
 * the last at t_x after the first, observed for T since the first) follow P(alive) and the expected
 * purchases in the next t. Parameters are fitted on the whole population by maximum likelihood.
 */

export interface BgNbdParameters {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export type BuyTillYouDieModel = 'bg-nbd' | 'mbg-nbd';

/** One customer's summary, in the model's time unit: repeat purchases, recency, age. */
export interface PurchaseHistory {
  x: number;
  tx: number;
  T: number;
}

/**
 * P(alive | x, t_x, T). BG/NBD: 1 / (1 + [x > 0] · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x)),
 * so a customer without repeat purchases is always alive; MBG/NBD: 1 / (1 + a / (b + x) · (…)^(r + x)).
 */
export function probabilityAlive(
  { r, alpha, a, b }: BgNbdParameters,
  { x, tx, T }: PurchaseHistory,
  model: BuyTillYouDieModel = 'bg-nbd',
): number {
  if (model === 'bg-nbd' && x === 0) return 1;
  const ratio = model === 'bg-nbd' ? a / (b + x - 1) : a / (b + x);
  // In logs: (α + T) / (α + t_x) raised to r + x overflows for heavy buyers observed long.
  const log = Math.log(ratio) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return log > 700 ? 0 : 1 / (1 + Math.exp(log));
}

/** E[purchases in (T, T + t] | x, t_x, T] (BG/NBD, eq. 10 of the paper). Needs a > 1. */
export function expectedPurchases(
  { r, alpha, a, b }: BgNbdParameters,
  { x, tx, T }: PurchaseHistory,
  t: number,
): number {
  const z = t / (alpha + T + t);
  const hyp = hypergeometric2F1(r + x, b + x, a + b + x - 1, z);
  const first = (a + b + x - 1) / (a - 1);
  const second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp;
  const denominator = 1 + (x > 0 ? (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) : 0);
  return (first * second) / denominator;
}

/** Log-likelihood of one customer's history (eq. 6 of the paper; MBG/NBD: Batislam et al. eq. 3). */
export function logLikelihood(
  { r, alpha, a, b }: BgNbdParameters,
  { x, tx, T }: PurchaseHistory,
  model: BuyTillYouDieModel = 'bg-nbd',
): number {
  const common = lnGamma(r + x) - lnGamma(r) + r * Math.log(alpha);
  const lnBeta = (p: number, q: number) => lnGamma(p) + lnGamma(q) - lnGamma(p + q);
  const base = lnBeta(a, b);
  if (model === 'bg-nbd') {
    const stay = lnBeta(a, b + x) - base - (r + x) * Math.log(alpha + T);
    if (x === 0) return common + stay;
    const drop = lnBeta(a + 1, b + x - 1) - base - (r + x) * Math.log(alpha + tx);
    return common + logSumExp(stay, drop);
  }
  const stay = lnBeta(a, b + x + 1) - base - (r + x) * Math.log(alpha + T);
  const drop = lnBeta(a + 1, b + x) - base - (r + x) * Math.log(alpha + tx);
  return common + logSumExp(stay, drop);
}

export interface FitResult {
  parameters: BgNbdParameters;
  logLikelihood: number;
  iterations: number;
  customers: number;
}

/**
 * Maximum-likelihood parameters for a population (Nelder–Mead on the log-parameters, so they stay
 * positive). Histories are grouped by (x, t_x, T) first: a population of millions has far fewer
 * distinct summaries at day resolution.
 */
export function fitParameters(
  histories: PurchaseHistory[],
  options: { model?: BuyTillYouDieModel; start?: BgNbdParameters; maxIterations?: number } = {},
): FitResult {
  const model = options.model ?? 'bg-nbd';
  const groups = new Map<string, { history: PurchaseHistory; n: number }>();
  for (const h of histories) {
    const key = `${h.x}|${h.tx}|${h.T}`;
    const group = groups.get(key);
    if (group) group.n += 1;
    else groups.set(key, { history: h, n: 1 });
  }
  const data = [...groups.values()];
  const toParams = (v: number[]): BgNbdParameters => ({
    r: Math.exp(v[0]!),
    alpha: Math.exp(v[1]!),
    a: Math.exp(v[2]!),
    b: Math.exp(v[3]!),
  });
  const negative = (v: number[]) => {
    const p = toParams(v);
    let total = 0;
    for (const { history, n } of data) total += n * logLikelihood(p, history, model);
    return Number.isFinite(total) ? -total : Number.POSITIVE_INFINITY;
  };
  const start = options.start ?? { r: 1, alpha: 1, a: 1, b: 1 };
  const { point, value, iterations } = nelderMead(
    negative,
    [Math.log(start.r), Math.log(start.alpha), Math.log(start.a), Math.log(start.b)],
    options.maxIterations ?? 2000,
  );
  return { parameters: toParams(point), logLikelihood: -value, iterations, customers: histories.length };
}

/** Gauss's hypergeometric series 2F1(a, b; c; z) for |z| < 1. */
export function hypergeometric2F1(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let j = 0; j < 10_000; j++) {
    term *= (((a + j) * (b + j)) / ((c + j) * (j + 1))) * z;
    sum += term;
    if (Math.abs(term) < 1e-15 * Math.abs(sum)) break;
  }
  return sum;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const y = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (y + i);
  const t = y + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

function logSumExp(p: number, q: number): number {
  const m = Math.max(p, q);
  return m + Math.log(Math.exp(p - m) + Math.exp(q - m));
}

/** Nelder–Mead simplex minimisation (standard coefficients 1, 2, 0.5, 0.5). */
function nelderMead(
  f: (v: number[]) => number,
  start: number[],
  maxIterations: number,
): { point: number[]; value: number; iterations: number } {
  const n = start.length;
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + 0.5 : v)))].map(
    (point) => ({
      point,
      value: f(point),
    }),
  );
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((p, q) => p.value - q.value);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (Math.abs(worst.value - best.value) < 1e-10 * (Math.abs(best.value) + 1e-10)) break;
    const centroid = start.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p.point[j]!, 0) / n);
    const along = (k: number) => centroid.map((c, j) => c + k * (worst.point[j]! - c));
    const reflected = along(-1);
    const fr = f(reflected);
    if (fr < best.value) {
      const expanded = along(-2);
      const fe = f(expanded);
      simplex[n] = fe < fr ? { point: expanded, value: fe } : { point: reflected, value: fr };
    } else if (fr < simplex[n - 1]!.value) {
      simplex[n] = { point: reflected, value: fr };
    } else {
      const contracted = fr < worst.value ? along(-0.5) : along(0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, worst.value)) simplex[n] = { point: contracted, value: fc };
      else {
        simplex = simplex.map((p, i) =>
          i === 0
            ? p
            : ((q) => ({ point: q, value: f(q) }))(
                p.point.map((v, j) => best.point[j]! + 0.5 * (v - best.point[j]!)),
              ),
        );
      }
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  return { point: simplex[0]!.point, value: simplex[0]!.value, iterations };
}
