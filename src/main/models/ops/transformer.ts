// Dense layers, layer norm and a SASRec-style Transformer encoder layer over left-padded
// sequences (causal, never reading padding), with host-side dropout. TF.js ops; layer norm
// runs as a fused kernel where the backend has it.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../data/rng.ts';
import { nativeDropoutMask } from '../../engine/blas.ts';
import { fusedLayerNorm } from '../../engine/fusedNorm.ts';
import { deriveSeed, initConstant, initUniform } from './init.ts';

export type DenseParams = {
  /** [in, out] */
  w: tf.Variable<tf.Rank.R2>;
  /** [out] */
  b: tf.Variable<tf.Rank.R1>;
};

/** A dense layer drawn U(-1/sqrt(in), 1/sqrt(in)) (torch.nn.Linear's bound, the shared init). */
export function denseParams(inDim: number, outDim: number, seed: number): DenseParams {
  return {
    w: initUniform([inDim, outDim], deriveSeed(seed, 'w'), inDim) as tf.Variable<tf.Rank.R2>,
    b: initUniform([outDim], deriveSeed(seed, 'b'), inDim) as tf.Variable<tf.Rank.R1>,
  };
}

/** x [..., in] -> [..., out]: one fused matMul + bias over all leading dimensions (one
 *  activation-sized tensor on the gradient tape instead of two). */
export function dense<T extends tf.Tensor>(p: DenseParams, x: T): T {
  return tf.tidy(() => {
    const [inDim, outDim] = p.w.shape;
    const flat = tf.fused.matMul({ a: tf.reshape(x, [-1, inDim]) as tf.Tensor2D, b: p.w, bias: p.b });
    return tf.reshape(flat, [...x.shape.slice(0, -1), outDim]) as T;
  });
}

export type LayerNormParams = {
  gamma: tf.Variable<tf.Rank.R1>;
  beta: tf.Variable<tf.Rank.R1>;
};

export function layerNormParams(dim: number): LayerNormParams {
  return { gamma: initConstant([dim], 1) as tf.Variable<tf.Rank.R1>, beta: initConstant([dim], 0) as tf.Variable<tf.Rank.R1> };
}

/** Layer norm over the last axis, epsilon inside the square root (BERT/SASRec style): one fused
 *  op where the backend has it (engine/fusedNorm.ts), else this composition. */
export function layerNorm<T extends tf.Tensor>(p: LayerNormParams, x: T, eps = 1e-12): T {
  const fused = fusedLayerNorm(x, p.gamma, p.beta, eps);
  if (fused) return fused as T;
  return layerNormOps(p, x, eps);
}

/** The composition: the reference the fused kernel is tested against. */
export function layerNormOps<T extends tf.Tensor>(p: LayerNormParams, x: T, eps = 1e-12): T {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), p.gamma), p.beta) as T;
  });
}

export type TransformerLayerParams = {
  query: DenseParams;
  key: DenseParams;
  value: DenseParams;
  out: DenseParams;
  attnNorm: LayerNormParams;
  ff1: DenseParams;
  ff2: DenseParams;
  ffNorm: LayerNormParams;
};

export function transformerLayerParams(dim: number, seed: number): TransformerLayerParams {
  const dp = (name: string) => denseParams(dim, dim, deriveSeed(seed, name));
  return {
    query: dp('query'),
    key: dp('key'),
    value: dp('value'),
    out: dp('out'),
    attnNorm: layerNormParams(dim),
    ff1: dp('ff1'),
    ff2: dp('ff2'),
    ffNorm: layerNormParams(dim),
  };
}

/** Applied to activations where the Transformer drops out; the identity at inference. */
export type Dropout = (x: tf.Tensor) => tf.Tensor;
export const noDropout: Dropout = (x) => x;

/**
 * Inverted dropout whose masks come from `rng` on the host: one mask tensor and one product
 * per call (tf.dropout leaves four activation-sized intermediates on the gradient tape, which
 * is what bounds the batch a Transformer fits in the wasm heap). TF.js draws random tensors on
 * the host too, so this costs no backend a device round trip it would not pay anyway.
 */
export function hostDropout(rate: number, rng: Rng): Dropout {
  if (rate === 0) return noDropout;
  const scale = 1 / (1 - rate);
  const native = nativeDropoutMask();
  return (x) => {
    const mask = new Float32Array(x.size);
    if (native) {
      // The same draws in C (native/blas/dropout.c), continuing the generator's state.
      const state = Uint32Array.from(rng.getState());
      native(state, rate * 4294967296, scale, mask);
      rng.setState([state[0], state[1], state[2], state[3]]);
    } else rng.fillDropoutMask(mask, rate, scale);
    return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
  };
}

/** Additive attention bias [B, 1, L, L] for left-padded rows: 0 where query i may read key j
 *  (j <= i and j is an item), -1e9 elsewhere, which underflows to exactly 0 weight. Computed
 *  once per sequence batch and shared by every layer. */
export function causalBias(mask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const L = mask.shape[1];
    const allowed = tf.mul(tf.expandDims(tf.linalg.bandPart(tf.ones([L, L]), -1, 0), 0), tf.expandDims(mask, 1));
    return tf.expandDims(tf.mul(tf.sub(1, allowed), -1e9), 1) as tf.Tensor4D;
  });
}

/**
 * One encoder layer over x [B, L, d] with `bias` from causalBias(mask). Attention is causal (a
 * position sees itself and earlier columns) and never reads padding, so every valid position's
 * output depends only on the valid items up to it; padding positions produce finite values the
 * caller masks out.
 */
export function transformerLayer(p: TransformerLayerParams, x: tf.Tensor3D, bias: tf.Tensor4D, heads: number, drop: Dropout = noDropout): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, L, d] = x.shape;
    if (d % heads !== 0) throw new Error(`embedding size ${d} is not a multiple of ${heads} attention heads`);
    const dh = d / heads;
    // [B, L, d] <-> [B, heads, L, dh]; with one head a reshape, no copy.
    const split = (t: tf.Tensor3D): tf.Tensor4D =>
      heads === 1 ? tf.reshape(t, [B, 1, L, d]) : tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]);
    const merge = (t: tf.Tensor4D): tf.Tensor3D =>
      tf.reshape(heads === 1 ? t : tf.transpose(t, [0, 2, 1, 3]), [B, L, d]);
    // Scaling the queries (L x dh) is cheaper than scaling the scores (L x L).
    const q = split(tf.mul(dense(p.query, x), 1 / Math.sqrt(dh)));
    const k = split(dense(p.key, x));
    const v = split(dense(p.value, x));
    const attn = drop(tf.softmax(tf.add(tf.matMul(q, k, false, true), bias), -1)) as tf.Tensor4D;
    const ctx = merge(tf.matMul(attn, v));
    const h = layerNorm(p.attnNorm, tf.add(drop(dense(p.out, ctx)), x) as tf.Tensor3D);
    const ff = dense(p.ff2, drop(tf.relu(dense(p.ff1, h))) as tf.Tensor3D);
    return layerNorm(p.ffNorm, tf.add(drop(ff), h) as tf.Tensor3D);
  });
}
