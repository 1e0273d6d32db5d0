import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incompleteBeta, pairByUser, pairedBootstrap, pairedTTest, tTwoSidedP } from '../../src/main/eval/significance.ts';
import { lcg } from '../data/fixtures.ts';

const close = (a: number, b: number, tol: number, msg?: string) => assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} ${a} vs ${b}`);

test('t distribution tails: closed forms and t-table critical values', () => {
  // df = 1 is the Cauchy distribution: P(|T| >= t) = 1 - (2/pi) atan(t).
  for (const t of [0.3, 1, 4]) close(tTwoSidedP(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-12, `df=1 t=${t}`);
  // df = 2: P(|T| >= t) = 1 - t / sqrt(t^2 + 2).
  for (const t of [0.5, 2, 7]) close(tTwoSidedP(t, 2), 1 - t / Math.sqrt(t * t + 2), 1e-12, `df=2 t=${t}`);
  // Two-sided critical values from a standard t-table.
  const table: Array<[number, number, number]> = [
    [5, 2.571, 0.05],
    [5, 4.032, 0.01],
    [10, 2.228, 0.05],
    [30, 2.042, 0.05],
    [30, 2.750, 0.01],
  ];
  for (const [df, t, p] of table) close(tTwoSidedP(t, df), p, 2e-4, `df=${df} t=${t}`);
  assert.equal(tTwoSidedP(0, 7), 1);
  // I_x(1, 1) = x; I_x(a, 1) = x^a.
  close(incompleteBeta(0.3, 1, 1), 0.3, 1e-14);
  close(incompleteBeta(0.7, 3, 1), 0.343, 1e-14);
});

test('paired t-test on a hand-computed pair', () => {
  const a = [0.30, 0.25, 0.40, 0.10, 0.35, 0.50];
  const b = [0.20, 0.25, 0.30, 0.05, 0.20, 0.35];
  // d = 0.10, 0, 0.10, 0.05, 0.15, 0.15: mean 0.0917, sample sd 0.0585, t = mean / (sd / sqrt 6).
  const d = a.map((x, i) => x - b[i]);
  const m = d.reduce((s, x) => s + x, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1));
  const r = pairedTTest(a, b);
  close(r.t, m / (sd / Math.sqrt(6)), 1e-9);
  assert.equal(r.df, 5);
  close(r.meanDiff, m, 1e-12);
  // t ≈ 3.84 lies between the df=5 table values 3.365 (p=0.02) and 4.032 (p=0.01).
  assert.ok(r.t > 3.365 && r.t < 4.032);
  assert.ok(r.p > 0.01 && r.p < 0.02, `p=${r.p}`);
  const swapped = pairedTTest(b, a);
  close(swapped.t, -r.t, 1e-12);
  close(swapped.p, r.p, 1e-12, 'two-sided');
});

test('t-test edge cases: identical runs, constant shift, too few users', () => {
  assert.equal(pairedTTest([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]).p, 1);
  assert.equal(pairedTTest([1, 1, 1], [0, 0, 0]).p, 0);
  assert.ok(Number.isNaN(pairedTTest([1], [0]).p));
  assert.throws(() => pairedTTest([1, 2], [1]), /differ in length/);
});

test('paired bootstrap: seeded, detects a real shift, not a null one', () => {
  const r = lcg(3);
  const base = Array.from({ length: 400 }, () => r());
  const better = base.map((x) => x + 0.05 + (r() - 0.5) * 0.2);
  const noise = base.map((x) => x + (r() - 0.5) * 0.2);
  const shifted = pairedBootstrap(better, base, { seed: 1, resamples: 2000 });
  assert.ok(shifted.p < 0.01, `p=${shifted.p}`);
  assert.equal(shifted.p, 1 / 2001, 'no resample as extreme as a clear shift');
  assert.ok(shifted.ci[0] > 0 && shifted.ci[1] > shifted.ci[0]);
  const nul = pairedBootstrap(noise, base, { seed: 1, resamples: 2000 });
  assert.ok(nul.p > 0.05, `p=${nul.p}`);
  assert.ok(nul.ci[0] < nul.meanDiff && nul.meanDiff < nul.ci[1]);
  assert.deepEqual(pairedBootstrap(noise, base, { seed: 1, resamples: 2000 }), nul, 'same seed, same answer');
  // On many users the bootstrap and the t-test agree closely.
  close(nul.p, pairedTTest(noise, base).p, 0.05);
});

test('pairByUser aligns two runs on their common users', () => {
  const p = pairByUser(
    { users: Int32Array.from([5, 1, 9]), values: [0.5, 0.1, 0.9] },
    { users: Int32Array.from([9, 2, 5]), values: [0.09, 0.02, 0.05] },
  );
  assert.deepEqual(Array.from(p.users), [5, 9]);
  assert.deepEqual(Array.from(p.a), [0.5, 0.9]);
  assert.deepEqual(Array.from(p.b), [0.05, 0.09]);
});
