// Precision and MRR beside Recall/HitRate/NDCG, and the beyond-accuracy metrics of lists
// (coverage, Gini, tail share, novelty, intra-list diversity) against direct computations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beyondAccuracy, tailItems, trainingPopularity } from '../../src/main/eval/beyond.ts';
import { scoreLists } from '../../src/main/eval/metrics.ts';
import { lcg } from '../data/fixtures.ts';

const close = (a: number | undefined, b: number, what: string, tol = 1e-6) => assert.ok(a !== undefined && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('precision@K counts hits over K and MRR@K is 1 / the first hit rank within K', () => {
  // User 0: hits at ranks 2 and 4; user 1: no hit; user 2: a hit at rank 5 only.
  const lists = Int32Array.from([5, 1, 6, 2, 7, 3, 4, 5, 6, 7, 9, 8, 7, 6, 2]);
  const s = scoreLists(lists, 5, [new Set([1, 2]), new Set([1]), new Set([2, 3])], [3, 5]);
  close(s.perUser['precision@3'][0], 1 / 3, 'one hit in the top 3');
  close(s.perUser['precision@5'][0], 2 / 5, 'two hits in the top 5');
  close(s.perUser['mrr@3'][0], 1 / 2, 'first hit at rank 2');
  assert.equal(s.perUser['mrr@5'][1], 0);
  assert.equal(s.perUser['mrr@3'][2], 0, 'the hit at rank 5 is outside the top 3');
  close(s.perUser['mrr@5'][2], 1 / 5, 'first hit at rank 5');
  close(s.metrics['precision@5'], (2 / 5 + 0 + 1 / 5) / 3, 'mean precision');
  close(s.metrics['mrr@5'], (1 / 2 + 0 + 1 / 5) / 3, 'mean MRR');
});

test('beyond-accuracy metrics equal their direct definitions on random lists', () => {
  const rand = lcg(7);
  const numItems = 40; // items 1..39
  const train = Array.from({ length: 30 }, () => Int32Array.from({ length: 5 + Math.floor(rand() * 20) }, () => 1 + Math.floor(rand() ** 2 * 39)));
  const pop = trainingPopularity(numItems, train);
  const n = 12;
  const width = 10;
  const lists = new Int32Array(n * width);
  for (let u = 0; u < n; u++) {
    const items = new Set<number>();
    // Only training items: the split's vocabulary is made of them.
    while (items.size < width) {
      const i = 1 + Math.floor(rand() * 39);
      if (pop.users[i] > 0) items.add(i);
    }
    lists.set([...items], u * width);
  }
  lists[width - 1] = 0; // an unfilled slot is skipped
  const dim = 4;
  const vectors = { rows: numItems, cols: dim, data: Float32Array.from({ length: numItems * dim }, () => rand() * 2 - 1) };
  const ks = [5, 10, 20];
  const got = beyondAccuracy(lists, width, pop, vectors, ks);

  const tail = tailItems(pop);
  const byCount = Array.from({ length: numItems - 1 }, (_, i) => i + 1).sort((a, b) => pop.counts[a] - pop.counts[b] || a - b);
  assert.equal(byCount.filter((i) => tail[i]).length, Math.floor(0.8 * 39), 'the 80% least popular items are tail');
  assert.ok(byCount.slice(0, 31).every((i) => tail[i] === 1), 'the tail is the bottom of the popularity order');

  const cos = (a: number, b: number): number => {
    let dot = 0, na = 0, nb = 0;
    for (let c = 0; c < dim; c++) {
      const x = vectors.data[a * dim + c], y = vectors.data[b * dim + c];
      dot += x * y; na += x * x; nb += y * y;
    }
    return dot / Math.sqrt(na * nb);
  };
  for (const k of ks) {
    const rows = Array.from({ length: n }, (_, u) => Array.from(lists.subarray(u * width, u * width + Math.min(k, width))).filter((i) => i > 0));
    const distinct = new Set(rows.flat());
    close(got.metrics[`coverage@${k}`], distinct.size / 39, `coverage@${k}`);
    // Gini as the mean absolute difference over the whole catalogue, G = Σ_i Σ_j |c_i - c_j| / (2 n Σ c).
    const c = Array.from({ length: 39 }, (_, i) => rows.flat().filter((x) => x === i + 1).length);
    let mad = 0;
    for (const a of c) for (const b of c) mad += Math.abs(a - b);
    close(got.metrics[`gini@${k}`], mad / (2 * 39 * c.reduce((x, y) => x + y, 0)), `gini@${k}`);
    rows.forEach((r, u) => {
      close(got.perUser[`tail@${k}`][u], r.filter((i) => tail[i]).length / r.length, `tail@${k} user ${u}`);
      close(got.perUser[`novelty@${k}`][u], r.reduce((s, i) => s + Math.log2(30 / train.filter((t) => t.includes(i)).length), 0) / r.length, `novelty@${k} user ${u}`);
      let pairs = 0, dist = 0;
      for (let a = 0; a < r.length; a++) for (let b = a + 1; b < r.length; b++) (pairs++, (dist += 1 - cos(r[a], r[b])));
      close(got.perUser[`ild@${k}`][u], dist / pairs, `ild@${k} user ${u}`, 1e-5);
    });
  }
});

test('without item vectors (or with one column) there is no intra-list diversity', () => {
  const pop = trainingPopularity(4, [Int32Array.from([1, 2, 3]), Int32Array.from([1])]);
  const lists = Int32Array.from([1, 2, 3, 1]);
  assert.ok(!('ild@2' in beyondAccuracy(lists, 2, pop, undefined, [2]).metrics), 'no vectors: no ILD');
  assert.ok(!('ild@2' in beyondAccuracy(lists, 2, pop, { rows: 4, cols: 1, data: new Float32Array(4) }, [2]).metrics), 'popularity scores are not embeddings');
  assert.throws(() => beyondAccuracy(Int32Array.from([1, 9]), 2, pop, undefined, [2]), /outside the catalogue/);
});
