// Capsule routing and training readouts shared by the routing and attention baselines (MIND,
// ComiRec-DR, ComiRec-SA, Octopus). Plain TF.js ops, differentiable, any backend.
// Shapes: B = batch rows, m = interests (capsules), L = sequence length, d = vector size.
import * as tf from '@tensorflow/tfjs';
import type { LossOutput, TrainBatch } from '../types.ts';
import { stopGradient } from './grad.ts';
import { sampledSoftmaxLoss } from './losses.ts';
import { embed, maskedSoftmax } from './masks.ts';

/** Capsule squash along the last axis: z |z|^2 / (1 + |z|^2) / |z|, written with
 *  sqrt(|z|^2 + 1e-9) as ComiRec's code so a zero capsule stays zero with a finite gradient. */
export function squash<T extends tf.Tensor>(z: T): T {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(z), -1, true);
    return tf.mul(z, tf.div(sq, tf.mul(tf.add(sq, 1), tf.sqrt(tf.add(sq, 1e-9))))) as T;
  });
}

/** sum_i w[b,j,i] votes[b,j,i,:] -> [B, m, d]; votes [B, 1, L, d] is one vote shared by all
 *  capsules (MIND's shared map), [B, m, L, d] one per capsule (ComiRec-DR). */
function pool(w: tf.Tensor3D, votes: tf.Tensor4D): tf.Tensor3D {
  const [B, mv, L, d] = votes.shape;
  const m = w.shape[1];
  if (mv === 1) return tf.matMul(w, tf.reshape(votes, [B, L, d]));
  return tf.reshape(tf.matMul(tf.reshape(w, [B * m, 1, L]), tf.reshape(votes, [B * m, L, d])), [B, m, d]);
}

/** Agreement u_j . vote_ij -> [B, m, L]. */
function agreement(caps: tf.Tensor3D, votes: tf.Tensor4D): tf.Tensor3D {
  const [B, mv, L, d] = votes.shape;
  const m = caps.shape[1];
  if (mv === 1) return tf.matMul(caps, tf.reshape(votes, [B, L, d]), false, true);
  return tf.reshape(tf.matMul(tf.reshape(votes, [B * m, L, d]), tf.reshape(caps, [B * m, d, 1])), [B, m, L]);
}

export interface RoutingOptions {
  iterations: number;
  /** The softmax of the routing logits runs over capsules (axis 1: each behaviour splits
   *  itself among the interests, as the MIND and ComiRec papers and ComiRec's code) or over
   *  behaviours (axis 2: Wang-Yu-Qing/MIND's code). */
  axis: 1 | 2;
}

export type RoutingOutput = {
  /** [B, m, d] squashed interest capsules. */
  capsules: tf.Tensor3D;
  /** [B, m, L] coupling weights of the last iteration, 0 where masked. */
  coupling: tf.Tensor3D;
};

/**
 * Dynamic routing (Sabour et al. 2017 as adapted by MIND and ComiRec). votes [B, 1|m, L, d]
 * (behaviour i's prediction for capsule j); logits [1|B, m, L] the initial routing logits;
 * mask [B, m, L] (or broadcastable) 1 where behaviour i may route to capsule j (padding and
 * inactive capsules are 0). As both authors' codes, the logits are updated without gradient:
 * every iteration but the last reads detached votes, so only the last capsule computation
 * carries gradient (through the votes, not through the coupling weights).
 */
export function dynamicRouting(votes: tf.Tensor4D, logits: tf.Tensor3D, mask: tf.Tensor3D, opts: RoutingOptions): RoutingOutput {
  if (!(opts.iterations >= 1)) throw new Error(`dynamicRouting: iterations must be at least 1, got ${opts.iterations}`);
  return tf.tidy(() => {
    const detached = stopGradient(votes);
    // TF.js's softmax runs along the last axis only: a softmax over capsules transposes there.
    const couple = (b: tf.Tensor3D): tf.Tensor3D => opts.axis === 2
      ? maskedSoftmax(b, mask)
      : tf.transpose(maskedSoftmax(tf.transpose(b, [0, 2, 1]), tf.transpose(mask, [0, 2, 1])), [0, 2, 1]);
    let b: tf.Tensor3D = logits;
    for (let it = 0; ; it++) {
      const coupling = couple(b);
      if (it === opts.iterations - 1) return { capsules: squash(pool(coupling, votes)), coupling };
      const caps = squash(pool(coupling, detached));
      b = tf.add(b, agreement(caps, detached));
    }
  });
}

/** ComiRec's training readout: per row, the interest with the largest inner product with the
 *  target (argmax, no gradient through the choice), as [B, 1, d] for the sampled softmax. */
export function hardReadout(interests: tf.Tensor3D, target: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const m = interests.shape[1];
    const scores = tf.squeeze(tf.matMul(interests, tf.expandDims(target, -1)), [2]);
    const pick = tf.oneHot(tf.argMax(scores, 1), m);
    return tf.matMul(tf.expandDims(pick, 1), interests);
  });
}

/** ComiRec's training loss (both variants): the hard readout for the row's positive, then the
 *  in-batch sampled softmax over the item table. */
export function hardReadoutLoss(interests: tf.Tensor3D, item: tf.Tensor2D, batch: TrainBatch): LossOutput {
  const readout = hardReadout(interests, embed(item, batch.pos) as tf.Tensor2D);
  const main = sampledSoftmaxLoss(readout, batch.pos, batch.neg, item, 1);
  return { total: main, terms: { main } };
}

/** MIND's label-aware attention: v = sum_l softmax_l((u_l . target)^p) u_l over the interests
 *  where `active` [B, m] is 1, as [B, 1, d]. p = 0 is plain averaging. */
export function labelAwareAttention(interests: tf.Tensor3D, target: tf.Tensor2D, p: number, active: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const scores = tf.squeeze(tf.matMul(interests, tf.expandDims(target, -1)), [2]);
    const logits = p === 0 ? tf.zerosLike(scores) : tf.pow(scores, tf.scalar(p));
    const w = maskedSoftmax(logits, active);
    return tf.matMul(tf.expandDims(w, 1), interests);
  });
}
