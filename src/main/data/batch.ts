// Host batch -> int32 tensors in the layout models read (TrainBatch). The only file in data/
// that touches TF.js, so the sampler stays testable and cheap without a backend.
import * as tf from '@tensorflow/tfjs';
import type { TrainBatch } from '../models/types.ts';
import type { HostBatch } from './sampler.ts';

/** The caller owns the tensors (dispose them, or build them inside tf.tidy). When the sampler
 *  ran without a future window, `future` is a [B, 0] tensor. */
export function toTensors(batch: HostBatch): TrainBatch {
  const B = batch.size;
  const out: TrainBatch = {
    size: B,
    history: tf.tensor2d(batch.history, [B, batch.maxlen], 'int32'),
    pos: tf.tensor1d(batch.pos, 'int32'),
    neg: tf.tensor1d(batch.neg, 'int32'),
    future: tf.tensor2d(batch.future, [B, batch.futureLen], 'int32'),
  };
  if (batch.views && batch.viewNegs && batch.viewLen !== undefined) {
    const L = batch.viewLen;
    out.views = [tf.tensor2d(batch.views[0], [B, L], 'int32'), tf.tensor2d(batch.views[1], [B, L], 'int32')];
    out.viewNegs = [tf.tensor1d(batch.viewNegs[0], 'int32'), tf.tensor1d(batch.viewNegs[1], 'int32')];
  }
  return out;
}
