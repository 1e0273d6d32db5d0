// The authors' training sampler (model-and-protocol.md section 3): random users, a random split
// point t, the history before t, a positive drawn from the future part (future-item
// prediction), one random negative per row, optional contrastive views and future window.
// Seeded and resumable: the RNG state is the whole sampler state.
import { Rng, type RngState } from './rng.ts';
import type { SplitData } from './split.ts';

export interface SamplerOptions {
  batchSize: number;
  /** Columns of `history` (the last `maxlen` items of the pool). */
  maxlen: number;
  /** Items before t kept as the row's history pool (authors: 200). */
  historyPool: number;
  /** Earliest split index: t is drawn from [min(minSplit, n-1), n) (authors: 6). */
  minSplit: number;
  views: boolean;
  viewLen: number;
  future: boolean;
  futureLen: number;
  /** 'future' (the authors): a random item at or after t; 'next': the item at t (next-item
   *  prediction, OPAL's ablation F). */
  target?: 'future' | 'next';
  seed: number;
}

/** One batch on the host: [B, L] arrays row-major, LEFT-padded with 0. */
export interface HostBatch {
  size: number;
  maxlen: number;
  history: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  /** Width of `future`; 0 when the future window was not asked for. */
  futureLen: number;
  future: Int32Array;
  /** Width of each view; present with `views`. */
  viewLen?: number;
  views?: [Int32Array, Int32Array];
  viewNegs?: [Int32Array, Int32Array];
}

export interface SamplerState {
  splitId: number;
  rng: RngState;
  batches: number;
}

/** Rejection sampling of negatives gives up after this many draws (only possible when a row's
 *  history covers nearly the whole catalogue) and keeps the last draw. */
const NEGATIVE_TRIES = 64;
/** A history pool this short is used whole by both contrastive views (authors' rule). */
const WHOLE_POOL_FOR_VIEWS = 6;

export class Sampler {
  private readonly rng: Rng;
  /** Indices (into split.train) of users with >= 2 training items: a row needs at least one
   *  history item before t and one future item at t. Shorter users are never sampled for
   *  training (they are still evaluated). */
  private readonly eligible: Int32Array;
  private batches = 0;

  constructor(
    private readonly split: SplitData,
    private readonly opts: SamplerOptions,
  ) {
    for (const k of ['batchSize', 'maxlen', 'historyPool', 'minSplit', 'viewLen'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`sampler ${k} must be a positive integer, got ${opts[k]}`);
    }
    if (opts.future && (!Number.isInteger(opts.futureLen) || opts.futureLen < 1)) throw new Error(`sampler futureLen must be a positive integer, got ${opts.futureLen}`);
    if (split.numItems < 2) throw new Error('the split has no items');
    const eligible: number[] = [];
    split.train.forEach((seq, u) => {
      if (seq.length >= 2) eligible.push(u);
    });
    if (eligible.length === 0) throw new Error('no user has two or more training items; the sampler has nothing to draw');
    this.eligible = Int32Array.from(eligible);
    this.rng = new Rng(opts.seed);
  }

  /** Number of users the sampler draws from. */
  get users(): number {
    return this.eligible.length;
  }

  next(): HostBatch {
    const { batchSize: B, maxlen, views, viewLen, future } = this.opts;
    const futureLen = future ? this.opts.futureLen : 0;
    const batch: HostBatch = {
      size: B,
      maxlen,
      history: new Int32Array(B * maxlen),
      pos: new Int32Array(B),
      neg: new Int32Array(B),
      futureLen,
      future: new Int32Array(B * futureLen),
    };
    if (views) {
      batch.viewLen = viewLen;
      batch.views = [new Int32Array(B * viewLen), new Int32Array(B * viewLen)];
      batch.viewNegs = [new Int32Array(B), new Int32Array(B)];
    }
    for (let r = 0; r < B; r++) this.fillRow(batch, r);
    this.batches++;
    return batch;
  }

  private fillRow(batch: HostBatch, r: number): void {
    const { maxlen, historyPool, minSplit, viewLen } = this.opts;
    const rng = this.rng;
    const seq = this.split.train[this.eligible[rng.int(this.eligible.length)]];
    const n = seq.length;
    const lo = Math.min(minSplit, n - 1);
    const t = lo + rng.int(n - lo);
    const pool = seq.subarray(Math.max(0, t - historyPool), t);
    leftPad(batch.history, r, maxlen, pool);
    batch.pos[r] = this.opts.target === 'next' ? seq[t] : seq[t + rng.int(n - t)];
    batch.neg[r] = this.negative(pool);
    if (batch.futureLen > 0) leftPad(batch.future, r, batch.futureLen, seq.subarray(t, t + batch.futureLen));
    if (batch.views && batch.viewNegs) {
      const [a, b] = this.halves(pool);
      leftPad(batch.views[0], r, viewLen, a);
      leftPad(batch.views[1], r, viewLen, b);
      batch.viewNegs[0][r] = this.negative(a);
      batch.viewNegs[1][r] = this.negative(b);
    }
  }

  /** A random item in 1..numItems-1 that is not in `exclude`. */
  private negative(exclude: Int32Array): number {
    const seen = new Set(exclude);
    let item = 0;
    for (let tries = 0; tries < NEGATIVE_TRIES; tries++) {
      item = 1 + this.rng.int(this.split.numItems - 1);
      if (!seen.has(item)) break;
    }
    return item;
  }

  /** Two disjoint random halves of the pool, each in time order. A random permutation of
   *  positions (Fisher-Yates) sends the first floor(n/2) positions to the first view. */
  private halves(pool: Int32Array): [Int32Array, Int32Array] {
    const n = pool.length;
    if (n <= WHOLE_POOL_FOR_VIEWS) return [pool, pool];
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    const half = n >> 1;
    const first = order.subarray(0, half).sort();
    const second = order.subarray(half).sort();
    return [Int32Array.from(first, (i) => pool[i]), Int32Array.from(second, (i) => pool[i])];
  }

  getState(): SamplerState {
    return { splitId: this.split.id, rng: this.rng.getState(), batches: this.batches };
  }

  setState(state: SamplerState): void {
    if (state.splitId !== this.split.id) throw new Error(`sampler state belongs to split ${state.splitId}, not ${this.split.id}`);
    this.rng.setState(state.rng);
    this.batches = state.batches;
  }
}

/** Writes the last `width` items of `items` into row r of a [*, width] array, left-padded with 0. */
function leftPad(out: Int32Array, r: number, width: number, items: Int32Array): void {
  const take = Math.min(width, items.length);
  out.set(items.subarray(items.length - take), r * width + width - take);
}
