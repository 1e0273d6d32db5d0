// Significance of the difference between two runs evaluated on the same users: a paired t-test
// over per-user metric values (the usual test in recommender papers), and a seeded paired
// bootstrap that does not assume normal differences.
import { gammaln, mean, quantile, sampleStandardDeviation } from 'simple-statistics';
import { Rng } from '../data/rng.ts';

export interface PairedTest {
  /** Users in the comparison. */
  n: number;
  /** Mean of a - b. */
  meanDiff: number;
  /** Two-sided p-value; NaN when it cannot be computed (n < 2). */
  p: number;
}

export interface TTestResult extends PairedTest {
  t: number;
  df: number;
}

export interface BootstrapResult extends PairedTest {
  resamples: number;
  /** 95% percentile interval of the mean difference. */
  ci: [number, number];
}

/**
 * Regularised incomplete beta I_x(a, b) by its continued fraction, evaluated with the modified
 * Lentz method (Press et al., Numerical Recipes, 3rd ed., section 6.4): the fraction converges
 * fast for x < (a+1)/(a+b+2); otherwise the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) is used.
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x >= (a + 1) / (a + b + 2)) return 1 - (front * betaFraction(1 - x, b, a)) / b;
  return (front * betaFraction(x, a, b)) / a;
}

function betaFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-15;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    // Even step of the fraction.
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // Odd step.
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  throw new Error(`incomplete beta did not converge for x=${x}, a=${a}, b=${b}`);
}

/** P(|T| >= |t|) for Student's t with df degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

function differences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  if (a.length !== b.length) throw new Error(`paired samples differ in length: ${a.length} vs ${b.length}`);
  return Array.from(a, (x, i) => x - b[i]);
}

/** Paired t-test of a against b (same users, same order): t = mean(d) / (sd(d) / sqrt(n)). */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): TTestResult {
  const d = differences(a, b);
  const n = d.length;
  if (n < 2) return { n, meanDiff: n ? d[0] : NaN, t: NaN, df: n - 1, p: NaN };
  const md = mean(d);
  const sd = sampleStandardDeviation(d);
  // Constant differences: identical runs (p = 1), or a shift with no spread (p = 0).
  if (sd === 0) return { n, meanDiff: md, t: md === 0 ? 0 : Math.sign(md) * Infinity, df: n - 1, p: md === 0 ? 1 : 0 };
  const t = md / (sd / Math.sqrt(n));
  return { n, meanDiff: md, t, df: n - 1, p: tTwoSidedP(t, n - 1) };
}

/**
 * Paired bootstrap: resample users with replacement; under the null hypothesis the differences
 * are re-centred to mean 0, and p = (1 + #{|mean*| >= |observed|}) / (1 + resamples), the
 * add-one estimate that never reports p = 0 from a finite sample (Davison & Hinkley 1997, 4.2).
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, opts: { resamples?: number; seed?: number } = {}): BootstrapResult {
  const resamples = opts.resamples ?? 10_000;
  const d = Float64Array.from(differences(a, b));
  const n = d.length;
  if (n < 2) return { n, meanDiff: n ? d[0] : NaN, p: NaN, resamples, ci: [NaN, NaN] };
  const observed = mean(Array.from(d));
  const rng = new Rng(opts.seed ?? 0);
  const means = new Float64Array(resamples);
  let extreme = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[rng.int(n)];
    means[r] = sum / n;
    // The re-centred resample mean is means[r] - observed.
    if (Math.abs(means[r] - observed) >= Math.abs(observed)) extreme++;
  }
  const sorted = Array.from(means);
  return { n, meanDiff: observed, p: (extreme + 1) / (resamples + 1), resamples, ci: [quantile(sorted, 0.025), quantile(sorted, 0.975)] };
}

/** The values of two runs on the users both evaluated, in ascending uid order. */
export function pairByUser(
  a: { users: Int32Array; values: ArrayLike<number> },
  b: { users: Int32Array; values: ArrayLike<number> },
): { users: Int32Array; a: Float64Array; b: Float64Array } {
  const bAt = new Map<number, number>();
  b.users.forEach((u, i) => bAt.set(u, i));
  const order = Array.from(a.users.keys())
    .filter((i) => bAt.has(a.users[i]))
    .sort((i, j) => a.users[i] - a.users[j]);
  return {
    users: Int32Array.from(order, (i) => a.users[i]),
    a: Float64Array.from(order, (i) => a.values[i]),
    b: Float64Array.from(order, (i) => b.values[bAt.get(a.users[i])!]),
  };
}
