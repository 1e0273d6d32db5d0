// Beyond-accuracy metrics of retrieved lists (docs/protocol.md, section 5): catalogue coverage,
// Gini index and tail share of the recommended items, novelty and intra-list diversity. They
// need the lists themselves, the training popularity and, for diversity, item embeddings.
import type { BeyondMetric } from '../../shared/tables.ts';
import type { Metrics } from '../../shared/types.ts';
import { defaultKs } from './metrics.ts';

/** The share of least popular items that are "tail" (RecBole's tail_ratio). */
export const TAIL_RATIO = 0.8;

export interface Popularity {
  /** Catalogue size: split items 1..numItems-1 (0 is padding). */
  numItems: number;
  /** Training interactions per split item id. */
  counts: Int32Array;
  /** Training users per split item id (a user counts once per item). */
  users: Int32Array;
  /** Users with a training part. */
  totalUsers: number;
}

/** Popularity of every split item over the training parts. */
export function trainingPopularity(numItems: number, train: readonly Int32Array[]): Popularity {
  const counts = new Int32Array(numItems);
  const users = new Int32Array(numItems);
  const last = new Int32Array(numItems).fill(-1);
  train.forEach((seq, u) => {
    for (const item of seq) {
      counts[item]++;
      if (last[item] !== u) (users[item]++, (last[item] = u));
    }
  });
  return { numItems, counts, users, totalUsers: train.length };
}

/** Tail items: the TAIL_RATIO least popular catalogue items by training interactions, ties
 *  broken by the lower item id (RecBole's TailPercentage ordering). */
export function tailItems(pop: Popularity, ratio = TAIL_RATIO): Uint8Array {
  const ids = Array.from({ length: pop.numItems - 1 }, (_, i) => i + 1).sort((a, b) => pop.counts[a] - pop.counts[b] || a - b);
  const tail = new Uint8Array(pop.numItems);
  const cut = Math.max(1, Math.floor(ids.length * ratio));
  for (let i = 0; i < cut; i++) tail[ids[i]] = 1;
  return tail;
}

export interface ItemVectors {
  rows: number;
  cols: number;
  /** Row-major; row = split item id. */
  data: Float32Array;
}

export interface BeyondScores {
  metrics: Metrics;
  /** Per-user values of the per-user kinds, aligned with the lists' rows. */
  perUser: Record<string, Float32Array>;
}

/** Unit-length rows (zero rows stay zero), so a dot product is the cosine. */
function unitRows(v: ItemVectors): Float64Array {
  const out = new Float64Array(v.rows * v.cols);
  for (let r = 0; r < v.rows; r++) {
    let norm = 0;
    for (let c = 0; c < v.cols; c++) norm += v.data[r * v.cols + c] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < v.cols; c++) out[r * v.cols + c] = v.data[r * v.cols + c] * scale;
  }
  return out;
}

/**
 * `lists` is [n, width] split item ids, best first, 0 in unfilled slots. With `vectors` (one row
 * per split item, at least 2 columns) intra-list diversity is computed; without, it is absent.
 * Each metric at K looks at the first K slots; unfilled slots are skipped.
 */
export function beyondAccuracy(lists: Int32Array, width: number, pop: Popularity, vectors?: ItemVectors, ks: readonly number[] = defaultKs): BeyondScores {
  const n = width > 0 ? lists.length / width : 0;
  if (!Number.isInteger(n) || n === 0) throw new Error(`lists hold ${lists.length} ids, not a whole number of rows of ${width}`);
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new Error(`K must be a positive integer, got ${k}`);
  if (vectors && vectors.rows < pop.numItems) throw new Error(`item vectors have ${vectors.rows} rows for ${pop.numItems} items`);
  const withIld = vectors !== undefined && vectors.cols >= 2;
  const unit = withIld ? unitRows(vectors!) : null;
  const d = vectors?.cols ?? 0;
  const tail = tailItems(pop);
  const selfInfo = Float64Array.from(pop.users, (c) => (c > 0 ? Math.log2(pop.totalUsers / c) : 0));
  const sorted = [...ks].sort((a, b) => a - b);
  const maxK = sorted[sorted.length - 1];

  const perUser: Record<string, Float32Array> = {};
  const kinds: BeyondMetric[] = withIld ? ['tail', 'novelty', 'ild'] : ['tail', 'novelty'];
  for (const kind of kinds) for (const k of ks) perUser[`${kind}@${k}`] = new Float32Array(n);
  // recommended[k][item]: how often the item is in a top k.
  const recommended = new Map<number, Int32Array>(ks.map((k) => [k, new Int32Array(pop.numItems)]));
  const sum = new Float64Array(d);

  for (let u = 0; u < n; u++) {
    let m = 0;
    let tails = 0;
    let info = 0;
    sum.fill(0);
    let selfDot = 0;
    let next = 0; // index into sorted Ks
    // Slots past the width are empty: a K beyond the list sees the whole list.
    for (let i = 0; i < maxK; i++) {
      const item = i < width ? lists[u * width + i] : 0;
      if (item > 0) {
        if (item >= pop.numItems) throw new Error(`list row ${u} holds item ${item}, outside the catalogue of ${pop.numItems - 1}`);
        m++;
        tails += tail[item];
        info += selfInfo[item];
        if (unit) {
          let sq = 0;
          for (let c = 0; c < d; c++) {
            const x = unit[item * d + c];
            sum[c] += x;
            sq += x * x;
          }
          selfDot += sq;
        }
        for (let j = next; j < sorted.length; j++) recommended.get(sorted[j])![item]++;
      }
      while (next < sorted.length && i + 1 === sorted[next]) {
        const k = sorted[next++];
        perUser[`tail@${k}`][u] = m ? tails / m : 0;
        perUser[`novelty@${k}`][u] = m ? info / m : 0;
        if (unit) {
          // Σ_{i≠j} cos(i, j) = |Σ ê|² - Σ |ê|²: the mean pairwise cosine in O(K d).
          let s2 = 0;
          for (let c = 0; c < d; c++) s2 += sum[c] * sum[c];
          perUser[`ild@${k}`][u] = m >= 2 ? 1 - (s2 - selfDot) / (m * (m - 1)) : 0;
        }
      }
    }
  }

  const metrics: Metrics = {};
  for (const [name, vals] of Object.entries(perUser)) metrics[name] = vals.reduce((a, b) => a + b, 0) / n;
  const catalogue = pop.numItems - 1;
  for (const k of ks) {
    const counts = recommended.get(k)!;
    let covered = 0;
    let total = 0;
    const nonZero: number[] = [];
    for (let item = 1; item < pop.numItems; item++) {
      if (counts[item] > 0) (covered++, (total += counts[item]), nonZero.push(counts[item]));
    }
    metrics[`coverage@${k}`] = covered / catalogue;
    // RecBole's GiniIndex: counts in non-decreasing order over the whole catalogue (never
    // recommended items count 0 and take the first ranks), Σ (2j - |I| - 1) c_j / (|I| Σ c).
    nonZero.sort((a, b) => a - b);
    let g = 0;
    nonZero.forEach((c, i) => (g += (2 * (catalogue - nonZero.length + i + 1) - catalogue - 1) * c));
    metrics[`gini@${k}`] = total > 0 ? g / (catalogue * total) : 0;
  }
  return { metrics, perUser };
}
