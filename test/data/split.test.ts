import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../src/main/store/db.ts';
import { ensureSplit, ensureSplitInSteps, listSplits, loadSplit, readInteractions, readInteractionsInSteps, splitStats } from '../../src/main/store/splits.ts';
import { buildSplit, resolveSplitParams, splitParamsKey } from '../../src/main/data/split.ts';
import { insertDataset, randomPositives, type Positive } from './fixtures.ts';

const ids = (a: Int32Array, vocab: Int32Array): number[] => Array.from(a, (s) => vocab[s]);

test('day split on a hand-made log: filtering, vocabulary, targets, tie order', () => {
  const db = openDb(':memory:');
  // 5 days: train 1-3, validation 4, test 5.
  const P: Positive[] = [
    { user: 1, item: 10, day: 1 },
    { user: 1, item: 11, day: 2 },
    { user: 1, item: 12, day: 3 }, // same time as the next row: source order decides
    { user: 1, item: 10, day: 3 },
    { user: 1, item: 11, day: 4 },
    { user: 1, item: 99, day: 4 }, // never trained on: dropped from the validation target
    { user: 1, item: 12, day: 5 },
    { user: 2, item: 13, day: 1 }, // one training day only: user dropped, item 13 not in vocab
    { user: 2, item: 14, day: 4 },
    { user: 3, item: 14, day: 3 },
    { user: 3, item: 11, day: 2 },
    { user: 3, item: 13, day: 5 }, // out of vocabulary -> empty test target
  ];
  const id = insertDataset(db, 'hand', P);
  const summary = ensureSplit(db, id, { minTrainDays: 2 });
  const s = loadSplit(db, summary.id);
  assert.deepEqual(Array.from(s.vocab), [0, 10, 11, 12, 14]);
  assert.equal(s.numItems, 5);
  assert.deepEqual(Array.from(s.users), [1, 3]);
  assert.deepEqual(ids(s.train[0], s.vocab), [10, 11, 12, 10]);
  assert.deepEqual(ids(s.valid[0], s.vocab), [11]);
  assert.deepEqual(ids(s.test[0], s.vocab), [12]);
  assert.deepEqual(ids(s.train[1], s.vocab), [11, 14], 'time order, not row order');
  assert.equal(s.valid[1].length, 0);
  assert.equal(s.test[1].length, 0);
  assert.deepEqual(Array.from(s.itemCounts), [0, 2, 2, 1, 1]);
  assert.equal(summary.users, 2);
  assert.equal(summary.items, 4);
  assert.equal(summary.trainInteractions, 6);
  assert.equal(summary.validUsers, 1);
  assert.equal(summary.testUsers, 1);
  assert.deepEqual(summary.params, { kind: 'day', minTrainDays: 2, minTrainItems: 4, maxlen: 100 });
});

test('day split invariants on a random log match an independent derivation', () => {
  const db = openDb(':memory:');
  const P = randomPositives(7, 120, 300, 10, 40);
  const id = insertDataset(db, 'rand', P);
  const s = loadSplit(db, ensureSplit(db, id).id);
  const h = Math.max(...P.map((p) => p.day));
  const byUser = new Map<number, Positive[]>();
  P.forEach((p) => byUser.set(p.user, [...(byUser.get(p.user) ?? []), p]));
  for (const list of byUser.values()) list.sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  const kept = [...byUser.keys()].filter((u) => new Set(byUser.get(u)!.filter((p) => p.day <= h - 2).map((p) => p.day)).size >= 4).sort((a, b) => a - b);
  assert.ok(kept.length > 0 && kept.length < byUser.size, 'the fixture keeps some users and drops others');
  assert.deepEqual(Array.from(s.users), kept);
  const vocab = new Set(kept.flatMap((u) => byUser.get(u)!.filter((p) => p.day <= h - 2).map((p) => p.item)));
  assert.deepEqual(Array.from(s.vocab.subarray(1)), [...vocab].sort((a, b) => a - b));
  kept.forEach((u, k) => {
    const seq = byUser.get(u)!;
    assert.deepEqual(ids(s.train[k], s.vocab), seq.filter((p) => p.day <= h - 2).map((p) => p.item));
    assert.deepEqual(ids(s.valid[k], s.vocab), seq.filter((p) => p.day === h - 1 && vocab.has(p.item)).map((p) => p.item));
    assert.deepEqual(ids(s.test[k], s.vocab), seq.filter((p) => p.day === h && vocab.has(p.item)).map((p) => p.item));
  });
  assert.equal(s.itemCounts.reduce((a, b) => a + b, 0), s.train.reduce((a, t) => a + t.length, 0));
});

test('splits are stored once per canonical params and reused', () => {
  const db = openDb(':memory:');
  const id = insertDataset(db, 'rand', randomPositives(3, 60, 100, 8, 30));
  const a = ensureSplit(db, id);
  assert.equal(ensureSplit(db, id, { kind: 'day', minTrainDays: 4 }).id, a.id);
  assert.equal(ensureSplit(db, id, { minTrainItems: 9 }).id, a.id, 'minTrainItems does not change a day split');
  const b = ensureSplit(db, id, { minTrainDays: 2 });
  assert.notEqual(b.id, a.id);
  assert.ok(b.users >= a.users);
  const c = ensureSplit(db, id, { kind: 'leave-last-out' });
  assert.deepEqual(listSplits(db, id).map((x) => x.id), [a.id, b.id, c.id]);
  assert.equal((db.prepare('SELECT count(*) AS n FROM splits').get() as { n: number }).n, 3);
  // What is stored is what buildSplit computes.
  const built = buildSplit(readInteractions(db, id), resolveSplitParams({ minTrainDays: 2 }));
  const loaded = loadSplit(db, b.id);
  assert.deepEqual(loaded.vocab, built.vocab);
  assert.deepEqual(loaded.users, built.users);
  assert.deepEqual(loaded.train, built.train);
  assert.deepEqual(loaded.test, built.test);
});

test('params are validated and canonicalised', () => {
  assert.throws(() => resolveSplitParams({ minTrainDays: 0 }), /minTrainDays/);
  assert.throws(() => resolveSplitParams({ kind: 'time-quantile', quantiles: [0.9, 0.8] }), /quantiles/);
  assert.deepEqual(resolveSplitParams({ kind: 'time-quantile' }).quantiles, [0.8, 0.9]);
  assert.equal(resolveSplitParams({ quantiles: [0.5, 0.6] }).quantiles, undefined, 'quantiles belong to time-quantile only');
  assert.equal(splitParamsKey(resolveSplitParams({ minTrainItems: 2 })), splitParamsKey(resolveSplitParams({})));
});

test('a day split needs three days', () => {
  const db = openDb(':memory:');
  const id = insertDataset(db, 'short', [
    { user: 1, item: 1, day: 1 },
    { user: 1, item: 2, day: 2 },
  ]);
  assert.throws(() => ensureSplit(db, id), /at least 3 days/);
});

test('time-quantile split cuts by global time', () => {
  const db = openDb(':memory:');
  const P = randomPositives(11, 80, 150, 10, 40);
  const id = insertDataset(db, 'tq', P);
  const s = loadSplit(db, ensureSplit(db, id, { kind: 'time-quantile', minTrainItems: 3 }).id);
  const times = P.map((p) => p.time!).sort((a, b) => a - b);
  const t1 = times[Math.floor(0.8 * times.length)];
  const t2 = times[Math.floor(0.9 * times.length)];
  const byUser = new Map<number, Positive[]>();
  P.forEach((p) => byUser.set(p.user, [...(byUser.get(p.user) ?? []), p]));
  const kept = [...byUser.keys()].filter((u) => byUser.get(u)!.filter((p) => p.time! < t1).length >= 3).sort((a, b) => a - b);
  assert.deepEqual(Array.from(s.users), kept);
  const vocab = new Set(Array.from(s.vocab.subarray(1)));
  kept.forEach((u, k) => {
    const seq = byUser.get(u)!.sort((a, b) => a.time! - b.time!);
    assert.deepEqual(ids(s.train[k], s.vocab), seq.filter((p) => p.time! < t1).map((p) => p.item));
    assert.deepEqual(ids(s.valid[k], s.vocab), seq.filter((p) => p.time! >= t1 && p.time! < t2 && vocab.has(p.item)).map((p) => p.item));
    assert.deepEqual(ids(s.test[k], s.vocab), seq.filter((p) => p.time! >= t2 && vocab.has(p.item)).map((p) => p.item));
  });
});

test('leave-last-out: last positive is the test target, the one before validation', () => {
  const db = openDb(':memory:');
  const P = randomPositives(5, 50, 40, 6, 12);
  const id = insertDataset(db, 'llo', P);
  const s = loadSplit(db, ensureSplit(db, id, { kind: 'leave-last-out', minTrainItems: 4 }).id);
  const byUser = new Map<number, Positive[]>();
  P.forEach((p) => byUser.set(p.user, [...(byUser.get(p.user) ?? []), p]));
  const kept = [...byUser.keys()].filter((u) => byUser.get(u)!.length - 2 >= 4).sort((a, b) => a - b);
  assert.deepEqual(Array.from(s.users), kept);
  const vocab = new Set(Array.from(s.vocab.subarray(1)));
  kept.forEach((u, k) => {
    const seq = byUser.get(u)!.sort((a, b) => a.time! - b.time!).map((p) => p.item);
    assert.deepEqual(ids(s.train[k], s.vocab), seq.slice(0, -2));
    assert.deepEqual(ids(s.valid[k], s.vocab), seq.slice(-2, -1).filter((i) => vocab.has(i)));
    assert.deepEqual(ids(s.test[k], s.vocab), seq.slice(-1).filter((i) => vocab.has(i)));
  });
});

test('splitStats agrees with the loaded split', async () => {
  const db = openDb(':memory:');
  const id = insertDataset(db, 'rand', randomPositives(9, 80, 120, 9, 50));
  const summary = ensureSplit(db, id);
  const s = loadSplit(db, summary.id);
  const st = await splitStats(db, summary.id);
  assert.equal(st.users, summary.users);
  assert.equal(st.train.interactions, summary.trainInteractions);
  assert.equal(st.valid.users, summary.validUsers);
  assert.equal(st.test.users, summary.testUsers);
  assert.equal(st.lengthHistogram.counts.reduce((a, b) => a + b, 0), s.users.length);
  s.train.forEach((t) => {
    const b = Math.floor(Math.log2(t.length));
    assert.ok(st.lengthHistogram.lo[b] <= t.length && t.length <= st.lengthHistogram.hi[b]);
  });
  assert.equal(st.popularityHistogram.counts.reduce((a, b) => a + b, 0), st.items);
  const max = Math.max(...s.itemCounts);
  assert.equal(st.topItems[0].count, max);
  for (let i = 1; i < st.topItems.length; i++) assert.ok(st.topItems[i - 1].count >= st.topItems[i].count);
});

test('the stepwise build (for the host) reads and stores the same split as the one-go build, letting other work run meanwhile', async () => {
  const P = randomPositives(21, 2500, 900, 9, 60);
  const once = openDb(':memory:');
  const stepwise = openDb(':memory:');
  const a = insertDataset(once, 'rand', P);
  const b = insertDataset(stepwise, 'rand', P);
  assert.deepEqual(await readInteractionsInSteps(stepwise, b), readInteractions(once, a), 'the same sorted columns');
  for (const params of [{}, { kind: 'leave-last-out' as const }, { kind: 'time-quantile' as const, minTrainItems: 3 }]) {
    const ran: string[] = [];
    const building = ensureSplitInSteps(stepwise, b, params).then((s) => (ran.push('split'), s));
    const other = Promise.resolve().then(() => new Promise((r) => setImmediate(r))).then(() => ran.push('other'));
    const [summary] = await Promise.all([building, other]);
    assert.deepEqual(ran, ['other', 'split'], `other work runs while the split is built (${JSON.stringify(params)})`);
    const reference = ensureSplit(once, a, params);
    const { id: _x, createdAt: _y, ...got } = summary;
    const { id: _z, createdAt: _w, ...want } = reference;
    assert.deepEqual(got, want);
    const [sa, sb] = [loadSplit(once, reference.id), loadSplit(stepwise, summary.id)];
    assert.deepEqual({ ...sb, id: 0 }, { ...sa, id: 0 }, 'identical stored sequences');
    assert.equal((await ensureSplitInSteps(stepwise, b, params)).id, summary.id, 'found again, not rebuilt');
  }
});
