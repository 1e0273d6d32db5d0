/**
 * Shared pieces of the model tests: backend setup, plain-JS reference maths, the two clustered
 * synthetic datasets and the "loss goes down without tensor leaks" training loop. The checks
 * every model must pass (padding, a training step, no leaks) are contract.test.ts's.
 */
import { before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../../src/main/engine/backend.ts';
import { createOptimizer } from '../../src/main/train/optimizer.ts';
import { trainStep } from '../../src/main/train/step.ts';
import { Sampler } from '../../src/main/data/sampler.ts';
import type { SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';
import { lcg, splitOf } from '../data/fixtures.ts';

export { lcg };

/** Registers a `before` hook that starts the given tfjs backend for the file's tests. */
export function useBackend(kind: BackendChoice = 'wasm'): void {
  before(async () => {
    await initBackend(kind);
  });
}

// ---------------------------------------------------------------------------------------------
// Plain-JS reference maths, independent of the model code.

export const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
export const softmax = (xs: number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((x) => x / s);
};
export const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};
/** Capsule squash |z|²/(1+|z|²) z/|z|, with the model's epsilon. */
export const squashJs = (z: number[]): number[] => {
  const sq = dot(z, z);
  return z.map((x) => (x * sq) / (1 + sq) / Math.sqrt(sq + 1e-9));
};
/** x @ W for a row vector x and W [in][out]. */
export const vecMat = (x: number[], w: number[][]): number[] => w[0].map((_, k) => x.reduce((s, xi, i) => s + xi * w[i][k], 0));
export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Element-wise equality within a relative tolerance (absolute below 1). */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors and batches.

export const ids2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, 'int32');
export const ids1 = (xs: number[]): tf.Tensor1D => tf.tensor1d(xs, 'int32');
/** A batch whose future window is the positive alone. */
export const batchOf = (history: number[][], pos: number[], neg: number[]): TrainBatch => ({
  size: pos.length, history: ids2(history), pos: ids1(pos), neg: ids1(neg), future: ids2(pos.map((p) => [p])),
});
export const disposeBatch = (b: TrainBatch): void => tf.dispose([b.history, b.pos, b.neg, b.future, ...(b.views ?? []), ...(b.viewNegs ?? [])]);
/** [B][m][d] from a [B, m, d] tensor (disposes it). */
export const rows3 = (t: tf.Tensor3D): number[][][] => {
  const a = t.arraySync();
  t.dispose();
  return a;
};

// ---------------------------------------------------------------------------------------------
// Clustered synthetic data, in-memory batches: items 1-10, 11-20, 21-30, histories of up to
// MAXLEN.

export const CLUSTER = 10;
export const NUM_ITEMS = 3 * CLUSTER + 1;
export const MAXLEN = 12;
/** 40 users, each liking one or two of three item clusters (items 1-10, 11-20, 21-30). */
const USERS = ((): number[][] => {
  const r = lcg(7);
  return Array.from({ length: 40 }, (_, u) => (r() < 0.5 ? [u % 3] : [u % 3, (u + 1) % 3]));
})();

/** Rows of random users: 3-10 history items from their clusters, a positive from them, one
 *  random negative per row outside the history. */
export function syntheticBatch(r: () => number, size: number): TrainBatch {
  const pick = (clusters: number[]): number => clusters[Math.floor(r() * clusters.length)] * CLUSTER + 1 + Math.floor(r() * CLUSTER);
  const history: number[][] = [];
  const pos: number[] = [];
  const neg: number[] = [];
  for (let b = 0; b < size; b++) {
    const clusters = USERS[Math.floor(r() * USERS.length)];
    const n = 3 + Math.floor(r() * 8);
    const items = Array.from({ length: n }, () => pick(clusters));
    history.push([...Array(MAXLEN - n).fill(0), ...items]);
    pos.push(pick(clusters));
    let k: number;
    do k = 1 + Math.floor(r() * (NUM_ITEMS - 1));
    while (items.includes(k));
    neg.push(k);
  }
  return batchOf(history, pos, neg);
}

// ---------------------------------------------------------------------------------------------
// Clustered synthetic data through the real Sampler: 61 items in 3 clusters of 20.

export const SAMPLED_ITEMS = 61;

/** 40 users of 30 items each, drawing from one or two of 3 clusters of 20 items (drawn from
 *  `dataSeed`), sampled in batches of 32 with maxlen 20 (views of 20 and a future of 8 when
 *  asked for). */
export function clusteredSampler(opts: { dataSeed: number; seed: number; future: boolean; views?: boolean }): Sampler {
  const r = lcg(opts.dataSeed);
  const train = Array.from({ length: 40 }, (_, u) => {
    const clusters = u % 3 === 0 ? [u % 3, (u + 1) % 3] : [u % 3];
    return Array.from({ length: 30 }, () => 1 + clusters[Math.floor(r() * clusters.length)] * 20 + Math.floor(r() * 20));
  });
  return new Sampler(splitOf(SAMPLED_ITEMS, train), {
    batchSize: 32, maxlen: 20, historyPool: 200, minSplit: 6, views: opts.views ?? false, viewLen: 20, future: opts.future, futureLen: 8, seed: opts.seed,
  });
}

// ---------------------------------------------------------------------------------------------
// Training and padding checks.

/**
 * Runs `steps` optimiser steps numbered from `firstStep` with a fresh optimiser at `lr`, one batch
 * from `next` each, and asserts the live tensor count after the last step equals the count after
 * step `baselineStep` (no leaks across steps). Returns each step's loss terms.
 */
export function trainSteps(
  model: SeqRecModel,
  config: Parameters<typeof createOptimizer>[0],
  next: () => TrainBatch,
  opts: { steps: number; firstStep: number; baselineStep: number },
): Record<string, number>[] {
  const opt = createOptimizer(config);
  const outs: Record<string, number>[] = [];
  let baseline = 0;
  for (let step = opts.firstStep; step < opts.firstStep + opts.steps; step++) {
    const batch = next();
    outs.push(trainStep(model, opt, batch, step));
    disposeBatch(batch);
    if (step === opts.baselineStep) baseline = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, baseline, 'no tensor leaks across steps');
  opt.dispose();
  return outs;
}

/** The mean of the last 5 values is below the mean of the first 5 by more than `by`. */
export function assertDrops(xs: number[], by = 0, label = ''): void {
  const first = mean(xs.slice(0, 5));
  const last = mean(xs.slice(-5));
  assert.ok(last < first - by, `${label}${first} -> ${last}`);
}

/**
 * Trains on in-memory clustered batches of 32 (rows drawn from lcg(42)), steps 1-40: no tensor
 * leaks after step 5, every `term` loss finite, and the mean of its last 5 values below the first
 * 5 by more than 0.1.
 */
export function assertTrainsOnClusters(model: SeqRecModel, config: Parameters<typeof createOptimizer>[0], term = 'total'): void {
  const r = lcg(42);
  const losses = trainSteps(model, config, () => syntheticBatch(r, 32), { steps: 40, firstStep: 1, baselineStep: 5 }).map((out) => out[term]);
  assert.ok(losses.every(Number.isFinite));
  assertDrops(losses, 0.1, 'loss ');
}
