// Custom gradients the ops share: customGrad's argument unpacking, detaching, a permutation
// with its inverse as gradient, a gradient-free selection, and gradient checkpointing over rows.
import * as tf from '@tensorflow/tfjs';

/** Unpacks tf.customGrad's variadic arguments: the input tensors, then the save function. */
export function gradArgs(args: Array<tf.Tensor | tf.GradSaveFunc>): { inputs: tf.Tensor[]; save: tf.GradSaveFunc } {
  return { inputs: args.slice(0, -1) as tf.Tensor[], save: args[args.length - 1] as tf.GradSaveFunc };
}

/**
 * x's rows (axis 0) in the order `order`, whose inverse permutation is `inverse`. The same as
 * tf.gather(x, order), but its gradient is the inverse gather rather than gather's general
 * gradient (a scatter-add into zeros), which a permutation does not need.
 */
export function permuteRows<T extends tf.Tensor>(x: T, order: tf.Tensor1D, inverse: tf.Tensor1D): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { inputs: [xi], save } = gradArgs(args);
    save([inverse]); // kept for the backward pass, which may outlive the caller's scope
    return { value: tf.gather(xi, order), gradFunc: (dy: tf.Tensor, [inv]: tf.Tensor[]) => tf.gather(dy, inv) };
  });
  return op(x) as T;
}

/** Identity forward, zero gradient backward (tf.stop_gradient / torch's detach). */
export const stopGradient = tf.customGrad((...inputs) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as <T extends tf.Tensor>(x: T) => T;

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
