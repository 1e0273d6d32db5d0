import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Sampler, type HostBatch, type SamplerOptions } from '../../src/main/data/sampler.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import { lcg, splitOf } from './fixtures.ts';

// Users own disjoint item ranges and never repeat an item, so every item names its user and
// its position in that user's sequence: the tests can recover each row's split point t.
const lengths = [1, 2, 3, 7, 12, 40, 150, 260];
const owner = new Map<number, { u: number; pos: number }>();
let nextItem = 1;
const train = lengths.map((n, u) =>
  Array.from({ length: n }, (_, pos) => {
    owner.set(nextItem, { u, pos });
    return nextItem++;
  }),
);
const numItems = nextItem + 500; // items never trained on exist too
const split = splitOf(numItems, train);
const base: SamplerOptions = { batchSize: 64, maxlen: 100, historyPool: 200, minSplit: 6, views: true, viewLen: 100, future: true, futureLen: 20, seed: 42 };

function row(a: Int32Array, r: number, width: number): number[] {
  return Array.from(a.subarray(r * width, (r + 1) * width));
}
function unpad(xs: number[]): number[] {
  const first = xs.findIndex((x) => x !== 0);
  const items = first < 0 ? [] : xs.slice(first);
  assert.ok(items.every((x) => x !== 0), 'padding only on the left');
  return items;
}

function checkBatch(b: HostBatch, opts: SamplerOptions): void {
  for (let r = 0; r < b.size; r++) {
    const { u, pos: posIndex } = owner.get(b.pos[r])!;
    const seq = train[u];
    const n = seq.length;
    assert.ok(n >= 2, 'users with fewer than two training items are never drawn');
    const history = unpad(row(b.history, r, b.maxlen));
    assert.ok(history.length > 0);
    const t = owner.get(history[history.length - 1])!.pos + 1;
    assert.equal(owner.get(history[0])!.u, u);
    assert.ok(t >= Math.min(opts.minSplit, n - 1) && t < n, `t=${t} in [min(minSplit, n-1), n)`);
    const pool = seq.slice(Math.max(0, t - opts.historyPool), t);
    assert.deepEqual(history, pool.slice(-opts.maxlen));
    assert.ok(posIndex >= t, 'the positive comes from the future part');
    assert.deepEqual(unpad(row(b.future, r, b.futureLen)), seq.slice(t, t + opts.futureLen));
    assert.ok(b.neg[r] >= 1 && b.neg[r] < numItems && !pool.includes(b.neg[r]), 'negative not in the history');
    if (!opts.views) continue;
    const L = b.viewLen!;
    const [va, vb] = [unpad(row(b.views![0], r, L)), unpad(row(b.views![1], r, L))];
    if (pool.length <= 6) {
      assert.deepEqual(va, pool.slice(-L));
      assert.deepEqual(vb, pool.slice(-L));
    } else {
      const half = Math.floor(pool.length / 2);
      assert.equal(va.length, Math.min(L, half));
      assert.equal(vb.length, Math.min(L, pool.length - half));
      assert.ok(!va.some((x) => vb.includes(x)), 'views are disjoint');
      if (L >= pool.length) assert.deepEqual([...va, ...vb].sort((x, y) => x - y), pool, 'uncut views cover the pool');
    }
    for (const [v, neg] of [[va, b.viewNegs![0][r]], [vb, b.viewNegs![1][r]]] as const) {
      const positions = v.map((x) => owner.get(x)!.pos);
      assert.ok(positions.every((p, i) => i === 0 || p > positions[i - 1]), 'view in time order');
      assert.ok(v.every((x) => pool.includes(x)));
      assert.ok(!v.includes(neg) && neg >= 1 && neg < numItems, 'view negative not in its view');
    }
  }
}

test('rows follow the authors’ sampler rules', () => {
  const s = new Sampler(split, base);
  assert.equal(s.users, lengths.filter((n) => n >= 2).length);
  for (let i = 0; i < 5; i++) checkBatch(s.next(), base);
  const short: SamplerOptions = { ...base, maxlen: 30, historyPool: 50, viewLen: 10, futureLen: 3, minSplit: 2, seed: 3 };
  const s2 = new Sampler(split, short);
  for (let i = 0; i < 5; i++) checkBatch(s2.next(), short);
});

test('every eligible user and every allowed split point gets drawn', () => {
  const opts = { ...base, views: false, future: false, seed: 9 };
  const s = new Sampler(split, opts);
  const ts = new Map<number, Set<number>>();
  for (let i = 0; i < 40; i++) {
    const b = s.next();
    assert.equal(b.future.length, 0);
    assert.equal(b.views, undefined);
    for (let r = 0; r < b.size; r++) {
      const { u } = owner.get(b.pos[r])!;
      const h = unpad(row(b.history, r, b.maxlen));
      ts.set(u, (ts.get(u) ?? new Set()).add(owner.get(h[h.length - 1])!.pos + 1));
    }
  }
  // Users with 2, 3 and 7 items: t ranges over [1,2), [2,3) and [6,7).
  assert.deepEqual([...ts.get(1)!], [1]);
  assert.deepEqual([...ts.get(2)!], [2]);
  assert.deepEqual([...ts.get(3)!], [6]);
  assert.deepEqual([...ts.get(4)!].sort((a, b) => a - b), [6, 7, 8, 9, 10, 11]);
  assert.equal(ts.has(0), false);
});

test('same seed, same stream; another seed, another stream', () => {
  const a = new Sampler(split, base);
  const b = new Sampler(split, base);
  const c = new Sampler(split, { ...base, seed: 43 });
  for (let i = 0; i < 3; i++) {
    const [x, y, z] = [a.next(), b.next(), c.next()];
    assert.deepEqual(x, y);
    assert.notDeepEqual(x.history, z.history);
  }
});

test('a sampler resumed from JSON state continues the same stream', () => {
  const a = new Sampler(split, base);
  a.next();
  a.next();
  const state = JSON.parse(JSON.stringify(a.getState()));
  const expected = [a.next(), a.next()];
  const b = new Sampler(split, { ...base, seed: 1234 });
  b.setState(state);
  assert.deepEqual([b.next(), b.next()], expected);
  assert.equal(b.getState().batches, 4);
  assert.throws(() => b.setState({ ...state, splitId: 99 }), /split 99/);
});

test('negatives avoid the history on a catalogue barely larger than it', () => {
  const r = lcg(5);
  const small = splitOf(31, [Array.from({ length: 20 }, (_, i) => i + 1), Array.from({ length: 25 }, () => 1 + Math.floor(r() * 30))]);
  const opts = { ...base, batchSize: 200, minSplit: 1 };
  const b = new Sampler(small, opts).next();
  for (let i = 0; i < b.size; i++) {
    const h = row(b.history, i, b.maxlen);
    assert.ok(!h.includes(b.neg[i]));
  }
});

test('toTensors lays the batch out as int32 [B, L] tensors', () => {
  const b = new Sampler(split, { ...base, batchSize: 8 }).next();
  const t = toTensors(b);
  try {
    assert.deepEqual(t.history.shape, [8, 100]);
    assert.equal(t.history.dtype, 'int32');
    assert.deepEqual(t.future.shape, [8, 20]);
    assert.deepEqual(t.views![1].shape, [8, 100]);
    assert.deepEqual(Array.from(t.history.dataSync()), Array.from(b.history));
    assert.deepEqual(Array.from(t.pos.dataSync()), Array.from(b.pos));
    assert.deepEqual(Array.from(t.viewNegs![0].dataSync()), Array.from(b.viewNegs![0]));
  } finally {
    tf.dispose([t.history, t.pos, t.neg, t.future, ...(t.views ?? []), ...(t.viewNegs ?? [])]);
  }
});

test("target 'next' makes the positive the item right after the history (next-item prediction)", () => {
  const opts: SamplerOptions = { ...base, views: false, target: 'next', seed: 9 };
  const b = new Sampler(split, opts).next();
  for (let r = 0; r < b.size; r++) {
    const history = unpad(row(b.history, r, b.maxlen));
    const last = owner.get(history[history.length - 1])!;
    const pos = owner.get(b.pos[r])!;
    assert.equal(pos.u, last.u, 'positive from the same user');
    assert.equal(pos.pos, last.pos + 1, 'the positive is the next item, not any future one');
  }
});
