// Scores and losses: max over interests, log-sum-exp and cross-entropy as single ops with
// hand-written gradients (docs/engine.md), the sampled softmax every model trains with, and the
// category-table losses CMI and OPAL share. Shapes: B = batch rows, m = interests, d = embedding
// size, C = candidate items.
import * as tf from '@tensorflow/tfjs';
import { fusedLogSumExp, fusedMaxOverInterests } from '../../engine/fused.ts';
import { gradArgs } from './grad.ts';
import { embed } from './masks.ts';

/**
 * max over interests of u_l^T v: interests [B, m, d], items [C, d] -> [B, C]. Forward picks each
 * candidate's winning interest with argMax + gather; the gradient scatters dy into the winners
 * (a segment sum) and multiplies back, instead of tf.max's equality mask over all m interests,
 * and keeps only the winners' positions, not the [B, m, C] scores. Scores are laid out
 * interest-major, [m, B, C], so the winner's flat position is best * B*C + (b*C + c) and the
 * argMax runs over whole contiguous blocks. maxOverInterests runs the fused kernel instead where
 * the backend has it (engine/fused.ts); this composition is the reference it is tested against.
 */
export const maxOverInterestsOps = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const { inputs: [interests, items], save } = gradArgs(args);
  const [B, m, d] = interests.shape;
  const C = items.shape[0];
  const u = tf.reshape(tf.transpose(interests, [1, 0, 2]), [m * B, d]);
  const scores = tf.matMul(u, items, false, true); // [m*B, C]
  const best = tf.argMax(tf.reshape(scores, [m, B * C]), 0); // [B*C], no gradient
  const flat = tf.add(tf.mul(best, tf.scalar(B * C, 'int32')), tf.range(0, B * C, 1, 'int32'));
  save([u, items, flat]);
  return {
    value: tf.reshape(tf.gather(tf.reshape(scores, [-1]), flat), [B, C]),
    gradFunc: (dy: tf.Tensor, [us, vs, where]: tf.Tensor[]) => {
      const dScores = tf.reshape(tf.unsortedSegmentSum(tf.reshape(dy, [-1]), where as tf.Tensor1D, m * B * C), [m * B, C]);
      // d items = dScoresᵀ u, computed as (uᵀ dScores)ᵀ so only the small u is transposed.
      const dU = tf.transpose(tf.reshape(tf.matMul(dScores, vs), [m, B, d]), [1, 0, 2]);
      return [dU, tf.transpose(tf.matMul(us, dScores, true, false))];
    },
  };
}) as (interests: tf.Tensor3D, items: tf.Tensor2D) => tf.Tensor2D;

/** max over interests of u_l^T v (maxOverInterestsOps), fused where the backend has the kernel. */
export function maxOverInterests(interests: tf.Tensor3D, items: tf.Tensor2D): tf.Tensor2D {
  return fusedMaxOverInterests(interests, items) ?? maxOverInterestsOps(interests, items);
}

/**
 * log sum exp over the last axis of x [R, C] -> [R]. Computed from softmax, which every backend
 * implements as one fast kernel: the softmax at the row's maximum is exp(0)/S, so
 * lse = max - log(max(softmax)); its gradient is softmax itself. logSumExp runs the fused
 * kernel instead where the backend has it; this is the reference it is tested against.
 */
export const logSumExpOps = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const { inputs: [x], save } = gradArgs(args);
  const p = tf.softmax(x);
  save([p]);
  return {
    value: tf.sub(tf.max(x, 1), tf.log(tf.max(p, 1))),
    gradFunc: (dy: tf.Tensor, [probs]: tf.Tensor[]) => tf.mul(tf.expandDims(dy, 1), probs),
  };
}) as (x: tf.Tensor2D) => tf.Tensor1D;

/** log sum exp over the last axis of x [R, C] -> [R] (logSumExpOps), fused where the backend
 *  has the kernel. */
export function logSumExp(x: tf.Tensor2D): tf.Tensor1D {
  return fusedLogSumExp(x) ?? logSumExpOps(x);
}

/** log(exp(u) + exp(v)) elementwise, without overflow. */
export function logAddExp(u: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const m = tf.maximum(u, v);
  return tf.add(m, tf.log(tf.add(tf.exp(tf.sub(u, m)), tf.exp(tf.sub(v, m)))));
}

/** Row r's entry at column labels[r]: x [R, C] -> [R], differentiable in x (a gather). */
function pick(x: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [R, C] = x.shape;
  const flat = tf.add(tf.mul(tf.range(0, R, 1, 'int32'), tf.scalar(C, 'int32')), tf.cast(labels, 'int32'));
  return tf.gather(tf.reshape(x, [-1]), flat) as tf.Tensor1D;
}

/** Mean cross-entropy of logits [R, C] against integer labels [R]: mean(lse - logit[label]). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(logSumExp(logits), pick(logits, labels))) as tf.Scalar);
}

/**
 * Sampled softmax over explicit candidates: row r scores every candidate item with max over
 * its interests, divides by `temperature`, and takes cross-entropy against candidate
 * labels[r]. interests [R, m, d], candidates [C] item ids, labels [R] indices into candidates.
 */
export function candidateSoftmaxLoss(
  interests: tf.Tensor3D,
  candidates: tf.Tensor1D,
  labels: tf.Tensor1D,
  itemTable: tf.Tensor2D,
  temperature: number,
): tf.Scalar {
  return tf.tidy(() => {
    const logits = tf.div(maxOverInterests(interests, embed(itemTable, candidates) as tf.Tensor2D), temperature);
    return crossEntropy(logits as tf.Tensor2D, labels);
  });
}

export interface SampledSoftmaxOptions {
  /**
   * true (default; CMI paper eq. 7): candidates are every row's positive and every sampled
   * negative, concat(pos, neg), so other rows' positives act as negatives too.
   * false (the authors' code): a row's own positive plus all sampled negatives of the batch.
   */
  inBatchPositives?: boolean;
}

/**
 * The in-batch sampled softmax with shared negatives every model trains with.
 * interests [B, m, d]; pos [B] (the row's positive); neg [N] the batch's sampled negatives.
 */
export function sampledSoftmaxLoss(
  interests: tf.Tensor3D,
  pos: tf.Tensor1D,
  neg: tf.Tensor1D,
  itemTable: tf.Tensor2D,
  temperature: number,
  opts: SampledSoftmaxOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const B = pos.shape[0];
    if (opts.inBatchPositives ?? true) {
      return candidateSoftmaxLoss(interests, tf.concat([pos, neg]), tf.range(0, B, 1, 'int32'), itemTable, temperature);
    }
    const posVec = embed(itemTable, pos) as tf.Tensor2D;
    const posScore = tf.max(tf.sum(tf.mul(interests, tf.expandDims(posVec, 1)), 2), 1, true);
    const negScore = maxOverInterests(interests, embed(itemTable, neg) as tf.Tensor2D);
    const logits = tf.div(tf.concat([posScore, negScore], 1), temperature) as tf.Tensor2D;
    return crossEntropy(logits, tf.zeros([B], 'int32'));
  });
}

/** ||G G^T - I||^2 / m^2 over the category rows G [m, d] (unweighted). */
export function orthogonalityLoss(category: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const m = category.shape[0];
    const gram = tf.matMul(category, category, false, true);
    return tf.div(tf.sum(tf.square(tf.sub(gram, tf.eye(m)))), m * m) as tf.Scalar;
  });
}

/** Uniformity: std/mean of the batch's average assignment per category (unbiased std, as
 *  torch.Tensor.std), pushing items to spread over all categories (unweighted). With one
 *  category there is nothing to spread over: 0 (torch's std of one value is NaN, and so was the
 *  gradient of sqrt at 0 here, which made a one-interest CMI fail at its second step). The
 *  variance is floored at 1e-12 for the same reason when usage is exactly uniform. */
export function uniformityLoss(assignment: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const m = assignment.shape[2];
    if (m < 2) return tf.scalar(0);
    const usage = tf.div(tf.sum(tf.reshape(assignment, [-1, m]), 0), tf.maximum(tf.sum(mask), 1));
    const meanUsage = tf.mean(usage);
    const std = tf.sqrt(tf.maximum(tf.div(tf.sum(tf.square(tf.sub(usage, meanUsage))), m - 1), 1e-12));
    return tf.div(std, meanUsage) as tf.Scalar;
  });
}
