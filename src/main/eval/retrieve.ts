// Exact multi-interest retrieval (model-and-protocol.md section 6). Every interest scores the
// whole catalogue; an item's merged score is its best score over the interests, which is the
// same ranking as merging exact per-interest top lists by score and dropping duplicates, but
// without the authors' cut of 100 candidates per interest. Padding and the user's (truncated)
// history are excluded, as are NaN and -Infinity scores; the top k remain, equal scores in item
// id order.
//
// Where the backend's matMul is the OpenBLAS addon's, scoring and top-K run in one native call
// (native/blas/retrieve.c): the same sgemm on tiles of items, so the same float scores, and the
// same lists as the TF.js ops of retrieve-tfjs.ts, without [users, items] ever held
// (docs/protocol.md, Retrieval). Elsewhere those ops run.
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import type { SeqRecModel } from '../models/types.ts';
import { nativeBlas, type NativeBlas, type RetrievalJob } from '../engine/blas.ts';
import { matMulOnBlas } from '../engine/kernels/batchMatMul.ts';
import { retrieveTfjs } from './retrieve-tfjs.ts';

export interface Retrieved {
  k: number;
  /** [n, k] split item ids, best first; 0 fills the tail when fewer than k items qualify. */
  items: Int32Array;
  /** [n, k] merged scores; -Infinity in unfilled slots. */
  scores: Float32Array;
  /** [n, k] index of the interest that scored each item best; -1 in unfilled slots. */
  interest: Int32Array;
}

/** Called after each block of users: users done so far, and all of them. */
export type Progress = (done: number, total: number) => void;

/** Users per interests() forward pass on the native path: enough work per native call for
 *  both threads, little memory ([users, maxlen, d] activations). */
const USERS_PER_CALL = 1024;

interface Fused {
  start: NonNullable<NativeBlas['retrieveTopKStart']>;
  join: NonNullable<NativeBlas['retrieveTopKJoin']>;
}

/** The native kernel when it computes exactly what the TF.js ops would on this backend. */
export function fusedRetrieval(): Fused | null {
  const { blas } = nativeBlas();
  if (!blas?.retrieveTopKStart || !blas.retrieveTopKJoin || !matMulOnBlas(tf.getBackend())) return null;
  return { start: blas.retrieveTopKStart.bind(blas), join: blas.retrieveTopKJoin.bind(blas) };
}

export function retrieve(model: SeqRecModel, histories: Int32Array, n: number, maxlen: number, k: number, onProgress?: Progress): Retrieved {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  if (histories.length !== n * maxlen) throw new Error(`histories hold ${histories.length} ids, expected ${n} x ${maxlen}`);
  const fused = fusedRetrieval();
  return fused ? retrieveNative(fused, model, histories, n, maxlen, k, onProgress) : retrieveTfjs(model, histories, n, maxlen, k, onProgress);
}

/** The next batch's interest vectors are computed (TF.js, one thread) while the native threads
 *  score the current one: the forward pass no longer leaves a core idle. */
function retrieveNative(native: Fused, model: SeqRecModel, histories: Int32Array, n: number, maxlen: number, k: number, onProgress?: Progress): Retrieved {
  const out: Retrieved = { k, items: new Int32Array(n * k), scores: new Float32Array(n * k), interest: new Int32Array(n * k) };
  const tableTensor = model.itemTable();
  const [numItems, d] = tableTensor.shape;
  // Copies: a view into the wasm heap would detach when later forward passes grow it.
  const table = (tableTensor.dataSync() as Float32Array).slice();
  tableTensor.dispose();
  const threads = Math.max(1, availableParallelism());
  let running: RetrievalJob | null = null;
  try {
    for (let start = 0; start < n; start += USERS_PER_CALL) {
      const b = Math.min(USERS_PER_CALL, n - start);
      const hist = histories.subarray(start * maxlen, (start + b) * maxlen);
      const u = tf.tidy(() => model.interests(tf.tensor2d(hist, [b, maxlen], 'int32')));
      const [, m, du] = u.shape;
      const vectors = (u.dataSync() as Float32Array).slice();
      u.dispose();
      if (du !== d) throw new Error(`interest vectors have ${du} dimensions, the item table ${d}`);
      if (running) {
        native.join(running);
        onProgress?.(start, n); // every user before this block is scored
      }
      running = null;
      const at = [start * k, (start + b) * k] as const;
      running = native.start(vectors, b, m, d, table, numItems, hist, maxlen, k, threads, out.items.subarray(...at), out.scores.subarray(...at), out.interest.subarray(...at));
    }
  } finally {
    // Also after an error: the threads write into `out` until joined.
    if (running) native.join(running);
  }
  onProgress?.(n, n);
  return out;
}
