// Sequence building blocks that layers.ts does not have: dense layers, layer norm, a SASRec-style
// Transformer encoder layer over left-padded sequences, positions counted from the most recent
// item, and a gradient-free "n smallest" selection. Plain TF.js ops, any backend.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, initUniform } from './layers.ts';

// ---------------------------------------------------------------------------------------------
// Dense and layer norm

export interface DenseParams {
  /** [in, out] */
  w: tf.Variable<tf.Rank.R2>;
  /** [out] */
  b: tf.Variable<tf.Rank.R1>;
}

/** A dense layer drawn U(-1/sqrt(in), 1/sqrt(in)) (torch.nn.Linear's bound, layers.ts's init). */
export function denseParams(inDim: number, outDim: number, seed: number): DenseParams {
  return {
    w: initUniform([inDim, outDim], deriveSeed(seed, 'w'), inDim) as tf.Variable<tf.Rank.R2>,
    b: initUniform([outDim], deriveSeed(seed, 'b'), inDim) as tf.Variable<tf.Rank.R1>,
  };
}

/** x [..., in] -> [..., out]: one matMul over all leading dimensions. */
export function dense<T extends tf.Tensor>(p: DenseParams, x: T): T {
  return tf.tidy(() => {
    const [inDim, outDim] = p.w.shape;
    const flat = tf.matMul(tf.reshape(x, [-1, inDim]), p.w);
    return tf.reshape(tf.add(flat, p.b), [...x.shape.slice(0, -1), outDim]) as T;
  });
}

export interface LayerNormParams {
  gamma: tf.Variable<tf.Rank.R1>;
  beta: tf.Variable<tf.Rank.R1>;
}

export function layerNormParams(dim: number): LayerNormParams {
  return { gamma: tf.variable(tf.ones([dim])) as tf.Variable<tf.Rank.R1>, beta: tf.variable(tf.zeros([dim])) as tf.Variable<tf.Rank.R1> };
}

/** Layer norm over the last axis, epsilon inside the square root (BERT/SASRec style). */
export function layerNorm<T extends tf.Tensor>(p: LayerNormParams, x: T, eps = 1e-12): T {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), p.gamma), p.beta) as T;
  });
}

/** Variables of named dense / layer-norm parameter groups, for a model's `variables` record. */
export function paramVariables(groups: Record<string, DenseParams | LayerNormParams>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [name, p] of Object.entries(groups)) {
    if ('w' in p) Object.assign(out, { [`${name}.w`]: p.w, [`${name}.b`]: p.b });
    else Object.assign(out, { [`${name}.gamma`]: p.gamma, [`${name}.beta`]: p.beta });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Positions

/**
 * Position ids of a left-padded sequence of width L counted from the most recent item: column
 * L-1 is 0, column L-2 is 1, ... A sequence keeps its positions under any amount of extra left
 * padding, so outputs never depend on the padded width.
 */
export function positionsFromEnd(L: number): tf.Tensor1D {
  return tf.range(L - 1, -1, -1, 'int32') as tf.Tensor1D;
}

/** Rows of a position table [P, d] for a width-L sequence -> [L, d] (positionsFromEnd order). */
export function positionRows(table: tf.Tensor2D, L: number): tf.Tensor2D {
  if (L > table.shape[0]) throw new Error(`sequence width ${L} exceeds the ${table.shape[0]} positions the model was built for (maxlen)`);
  return tf.tidy(() => tf.gather(table, positionsFromEnd(L)) as tf.Tensor2D);
}

// ---------------------------------------------------------------------------------------------
// Transformer encoder layer (SASRec: causal self-attention, post-norm residuals, ReLU FFN)

export interface TransformerLayerParams {
  query: DenseParams;
  key: DenseParams;
  value: DenseParams;
  out: DenseParams;
  attnNorm: LayerNormParams;
  ff1: DenseParams;
  ff2: DenseParams;
  ffNorm: LayerNormParams;
}

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

export function transformerLayerVariables(prefix: string, p: TransformerLayerParams): Record<string, tf.Variable> {
  return paramVariables(Object.fromEntries(Object.entries(p).map(([k, v]) => [`${prefix}.${k}`, v])));
}

/** Applied to activations where the Transformer drops out; `site` names the place so each
 *  one draws its own mask. The identity at inference. */
export type Dropout = (x: tf.Tensor, site: string) => tf.Tensor;
export const noDropout: Dropout = (x) => x;

/**
 * One encoder layer over x [B, L, d] with mask [B, L] (left-padded). Attention is causal (a
 * position sees itself and earlier columns) and never reads padding, so every valid position's
 * output depends only on the valid items up to it; padding positions produce finite values the
 * caller masks out.
 */
export function transformerLayer(p: TransformerLayerParams, x: tf.Tensor3D, mask: tf.Tensor2D, heads: number, drop: Dropout = noDropout): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, L, d] = x.shape;
    if (d % heads !== 0) throw new Error(`embedding size ${d} is not a multiple of ${heads} attention heads`);
    const dh = d / heads;
    const split = (t: tf.Tensor3D) => tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
    const q = split(dense(p.query, x));
    const k = split(dense(p.key, x));
    const v = split(dense(p.value, x));
    // allowed[b, i, j] = 1 when j <= i and j is an item; -1e9 elsewhere underflows to exactly 0.
    const causal = tf.linalg.bandPart(tf.ones([L, L]), -1, 0);
    const allowed = tf.mul(tf.expandDims(causal, 0), tf.expandDims(mask, 1));
    const bias = tf.expandDims(tf.mul(tf.sub(1, allowed), -1e9), 1);
    const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), bias);
    const attn = drop(tf.softmax(scores, -1), 'attn');
    const ctx = tf.reshape(tf.transpose(tf.matMul(attn as tf.Tensor4D, v), [0, 2, 1, 3]), [B, L, d]) as tf.Tensor3D;
    const h = layerNorm(p.attnNorm, tf.add(drop(dense(p.out, ctx), 'attnOut'), x) as tf.Tensor3D);
    const ff = dense(p.ff2, drop(tf.relu(dense(p.ff1, h)), 'ffHidden') as tf.Tensor3D);
    return layerNorm(p.ffNorm, tf.add(drop(ff, 'ffOut'), h) as tf.Tensor3D);
  });
}

// ---------------------------------------------------------------------------------------------
// Selection

/**
 * 1 where values[i] is among the n smallest (ties at the n-th value kept), else 0, with a zero
 * gradient. Wrapped in customGrad because topk and lessEqual have no gradients in TF.js: the
 * selection itself is then never on the tape, only this node with its zero gradient.
 */
export function smallestMask(values: tf.Tensor1D, n: number): tf.Tensor1D {
  const count = Math.max(1, Math.min(n, values.shape[0]));
  const select = tf.customGrad((...inputs) => {
    const x = inputs[0] as tf.Tensor1D;
    const nth = tf.neg(tf.min(tf.topk(tf.neg(x), count).values));
    return { value: tf.cast(tf.lessEqual(x, nth), 'float32') as tf.Tensor1D, gradFunc: () => tf.zerosLike(x) };
  });
  return select(values) as tf.Tensor1D;
}
