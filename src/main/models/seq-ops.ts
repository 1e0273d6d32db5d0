// Sequence building blocks that layers.ts does not have: dense layers, layer norm, a SASRec-style
// Transformer encoder layer over left-padded sequences, positions counted from the most recent
// item, a gradient-free "n smallest" selection, and gradient checkpointing over batch rows for
// the parts whose tape would not fit the wasm heap. Plain TF.js ops, any backend.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../data/rng.ts';
import { deriveSeed, initUniform, packByStart } from './layers.ts';

// ---------------------------------------------------------------------------------------------
// Dense and layer norm

export type DenseParams = {
  /** [in, out] */
  w: tf.Variable<tf.Rank.R2>;
  /** [out] */
  b: tf.Variable<tf.Rank.R1>;
};

/** A dense layer drawn U(-1/sqrt(in), 1/sqrt(in)) (torch.nn.Linear's bound, layers.ts's init). */
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

/** A nested record / array of tensors: a model's parameters. */
export type ParamTree = tf.Tensor | readonly ParamTree[] | { readonly [key: string]: ParamTree };

/** The tensors of a parameter tree by dotted path ("layer0.query.w"), in a stable order. */
export function flattenParams(tree: ParamTree, prefix = ''): [string, tf.Tensor][] {
  if (tree instanceof tf.Tensor) return [[prefix, tree]];
  const entries: [string, ParamTree][] = Array.isArray(tree) ? tree.map((t, i) => [String(i), t]) : Object.entries(tree);
  return entries.flatMap(([k, t]) => flattenParams(t, prefix ? `${prefix}.${k}` : k));
}

/** The variables of a parameter tree by dotted path, for a model's `variables` record. */
export function treeVariables(tree: ParamTree): Record<string, tf.Variable> {
  return Object.fromEntries(
    flattenParams(tree).map(([name, t]) => {
      if (!(t instanceof tf.Variable)) throw new Error(`parameter '${name}' is not a variable`);
      return [name, t];
    }),
  );
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
  return (x) => {
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : scale;
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

// ---------------------------------------------------------------------------------------------
// Left padding: sorting rows by length and trimming the padding all rows of a chunk share

/** Rows of left-padded ids [B, L] sorted by the column their first item is in (layers.ts's
 *  packByStart: longest first, stable), and the inverse permutation, as int32 tensors: chunked
 *  passes over the sorted rows can trim each chunk to its longest row (usedWidth, lastColumns). */
export function lengthOrder(ids: tf.Tensor2D): { order: tf.Tensor1D; inverse: tf.Tensor1D } {
  const [B, L] = ids.shape;
  const { order, inverse } = packByStart(ids.dataSync(), B, L);
  return { order: tf.tensor1d(order, 'int32'), inverse: tf.tensor1d(inverse, 'int32') };
}

/** How many trailing columns of a left-padded [B, L] mask or id matrix hold every row's items
 *  (at least 1). Models whose positions count from the most recent item and that never read
 *  padding give the same valid outputs on those columns alone. */
export function usedWidth(maskOrIds: tf.Tensor2D): number {
  const [B, L] = maskOrIds.shape;
  const v = maskOrIds.dataSync();
  let first = L - 1;
  for (let r = 0; r < B; r++) {
    for (let t = 0; t < first; t++) {
      if (v[r * L + t] !== 0) {
        first = t;
        break;
      }
    }
  }
  return L - first;
}

/** The last `width` entries of `axis` (a left-padded sequence axis). */
export function lastColumns<T extends tf.Tensor>(x: T, width: number, axis: number): T {
  const begin = x.shape.map((n, i) => (i === axis ? n - width : 0));
  const size = x.shape.map((n, i) => (i === axis ? width : n));
  return (x.shape[axis] === width ? x : tf.slice(x, begin, size)) as T;
}

// ---------------------------------------------------------------------------------------------
// Gradient checkpointing

/**
 * Runs `f` over batch rows so that the gradient tape keeps only its inputs and its output.
 * `f(rows, chunk)` maps row-aligned inputs (axis 0 = rows, each row computed independently of
 * the others) to a row-aligned output, reading whatever of `weights` it needs. The forward pass
 * runs f chunk by chunk off the tape; the backward pass recomputes each chunk under its own
 * tape and sums the weight gradients. TF.js keeps every intermediate of a tape alive until the
 * backward pass ends, so without this a Transformer or an L x L decoder over a whole batch
 * outgrows the wasm heap; with it the peak is one chunk. Costs one extra forward pass. `f` must
 * give the same result when recomputed: derive any randomness from `chunk`. Gradients flow to
 * the float tensors of `rows` and to `weights`; integer rows (ids) get none.
 */
export function checkpointRows(
  f: (rows: tf.Tensor[], chunk: number) => tf.Tensor,
  rows: tf.Tensor[],
  weights: tf.Tensor[],
  rowsPerChunk: number,
): tf.Tensor {
  const R = rows[0].shape[0];
  const starts = Array.from({ length: Math.ceil(R / rowsPerChunk) }, (_, i) => i * rowsPerChunk);
  const chunkOf = (ts: tf.Tensor[], start: number) => ts.map((t) => tf.slice(t, [start], [Math.min(rowsPerChunk, R - start)]));
  const run = tf.customGrad((...args) => {
    // customGrad hands back the same tensor objects, so f may read the weights directly.
    const rowIn = args.slice(0, rows.length) as tf.Tensor[];
    // Saved, so the rows outlive the caller's tidy scopes until the backward pass.
    (args[args.length - 1] as tf.GradSaveFunc)(rowIn);
    const parts = starts.map((start, c) => tf.tidy(() => f(chunkOf(rowIn, start), c)));
    const value = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    const gradFunc = (dy: tf.Tensor, savedRows: tf.Tensor[]): tf.Tensor[] => {
      const engine = tf.engine();
      // A nested tape clears the engine's active tape when it ends; the enclosing backward pass
      // still has to release it, so it is handed back afterwards.
      const outer = engine.state.activeTape;
      const rowGrads: tf.Tensor[][] = savedRows.map(() => []);
      let weightGrads = weights.map((w) => tf.zerosLike(w));
      try {
        starts.forEach((start, c) => {
          const chunkRows = chunkOf(savedRows, start);
          const diff = chunkRows.filter((t) => t.dtype === 'float32');
          const { value: y, grads } = engine.gradients(() => f(chunkRows, c), [...diff, ...weights], tf.slice(dy, [start], [chunkRows[0].shape[0]]), true);
          y.dispose();
          let k = 0;
          chunkRows.forEach((t, i) => rowGrads[i].push(t.dtype === 'float32' ? grads[k++] ?? tf.zerosLike(t) : tf.zerosLike(t)));
          const next = weightGrads.map((g, i) => {
            const gi = grads[diff.length + i];
            return gi ? tf.add(g, gi) : g;
          });
          tf.dispose([...weightGrads.filter((g, i) => next[i] !== g), ...grads.slice(diff.length).filter((g) => g)]);
          weightGrads = next;
        });
      } finally {
        engine.state.activeTape = outer;
      }
      return [...rowGrads.map((g) => (g.length === 1 ? g[0] : tf.concat(g, 0))), ...weightGrads];
    };
    return { value, gradFunc };
  });
  return run(...rows, ...weights);
}
