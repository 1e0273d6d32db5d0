// One optimisation step: loss and gradients on the tape, Adam, then the model's post-update
// hook. Everything is tidied; only numbers leave.
import * as tf from '@tensorflow/tfjs';
import type { SeqRecModel, TrainBatch } from '../models/types.ts';
import type { Adam } from './optimizer.ts';

/** Runs one step and returns each loss term and `total` as numbers. */
export function trainStep(model: SeqRecModel, optimizer: Adam, batch: TrainBatch, step: number): Record<string, number> {
  const names = Object.keys(model.variables);
  const vars = Object.values(model.variables);
  let termNames: string[] = [];
  const values = tf.tidy(() => {
    let readout: tf.Tensor | null = null;
    const { grads } = tf.variableGrads(() => {
      const out = model.loss(batch, step);
      termNames = Object.keys(out.terms);
      // One tensor for all terms so reading them back is a single transfer.
      readout = tf.keep(tf.stack([out.total, ...Object.values(out.terms)]));
      return out.total;
    }, vars);
    const byName: Record<string, tf.Tensor> = {};
    names.forEach((name, i) => {
      const g = grads[vars[i].name];
      if (g) byName[name] = g;
    });
    optimizer.apply(model.variables, byName);
    return readout as unknown as tf.Tensor;
  });
  model.afterStep?.();
  const data = values.dataSync();
  values.dispose();
  const result: Record<string, number> = { total: data[0] };
  termNames.forEach((name, i) => (result[name] = data[i + 1]));
  return result;
}
