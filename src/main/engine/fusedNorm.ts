// Layer norm over the last axis as one fused op (native/blas/norm.c) for models/ops/
// transformer.ts's layerNorm: one kernel forward and one backward instead of the composition's
// ~30 TF.js ops, two of them broadcasting, which is what DSSRec's step was made of. Null where
// the kernels are not registered (tfjs-node, an addon built before them, the fused ops off):
// the layer then runs its composition, which the kernel is tested against
// (test/engine/fusedNorm.test.ts).
import * as tf from '@tensorflow/tfjs';
import { LAYER_NORM } from './kernels/layerNorm.ts';
import { fusedEnabled } from './fused.ts';

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, attrs) as unknown as tf.Tensor[];

/** (x - mean) / sqrt(var + eps) * gamma + beta over the last axis of x, or null (see above). */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor | null {
  const backend = tf.getBackend();
  if (!fusedEnabled() || x.dtype !== 'float32' || x.size === 0) return null;
  if (!tf.getKernel(LAYER_NORM.forward, backend) || !tf.getKernel(LAYER_NORM.backward, backend)) return null;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, rstd] = run(LAYER_NORM.forward, { x: xi, gamma: g, beta: b }, { eps });
    save([xi, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, gs, ms, rs]: tf.Tensor[]) => run(LAYER_NORM.backward, { x: xs, gamma: gs, mean: ms, rstd: rs, dy }),
    };
  });
  return op(x, gamma, beta);
}
