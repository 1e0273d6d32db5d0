// Breakdowns by user activity and by target-item popularity, against direct computations from the
// lists an outside system gave (imported through import-results' code path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importResults } from '../../src/main/eval/import-results.ts';
import { evalSet } from '../../src/main/eval/sets.ts';
import { loadUserMetrics } from '../../src/main/store/user-metrics.ts';
import { activityBreakdown, popularityBreakdown, popularityBuckets } from '../../src/main/report/breakdown.ts';
import { groupLabels, groupRuns } from '../../src/main/report/from-runs.ts';
import { openDb } from '../../src/main/store/db.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { insertDataset, lcg, randomPositives } from '../data/fixtures.ts';

test('activity and popularity buckets partition the users and items, with per-bucket metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmi-breakdown-'));
  try {
    const db = openDb(':memory:');
    const datasetId = insertDataset(db, 'rand', randomPositives(5, 150, 60, 10, 40));
    const split = loadSplit(db, ensureSplit(db, datasetId).id);
    const set = evalSet(split, 'test', split.params.maxlen);
    // Random lists of 20 split items per test user, written in raw ids (fixtures: u<uid>, v<iid>).
    const rand = lcg(11);
    const lists = Array.from(set.users, () => {
      const items = new Set<number>();
      while (items.size < 20) items.add(1 + Math.floor(rand() * (split.numItems - 1)));
      return [...items];
    });
    const file = join(dir, 'lists.csv');
    writeFileSync(file, ['user,item,rank', ...lists.flatMap((l, r) => l.map((sid, i) => `u${set.users[r]},v${split.vocab[sid]},${i + 1}`))].join('\n'));
    const { runId } = importResults(db, split, file, 'random');
    const groups = groupRuns(listRuns(db), { bestPerLabel: false, selectBy: 'recall@50' });
    const labels = groupLabels(groups);

    const activity = activityBreakdown(db, groups, labels, split);
    assert.equal(activity.reduce((s, b) => s + b.users, 0), set.users.length, 'every test user in one activity bucket');
    const recall = loadUserMetrics(db, runId, 'test', 'recall@10')!;
    const length = (uid: number) => {
      const u = Array.from(split.users).indexOf(uid);
      return split.train[u].length + split.valid[u].length;
    };
    for (const b of activity) {
      const [lo, hi] = b.label.match(/\d+/g)!.map(Number);
      const inBucket = Array.from(recall.users.keys()).filter((i) => length(recall.users[i]) >= lo && length(recall.users[i]) <= hi);
      assert.equal(inBucket.length, b.users, `${b.label}: its users are those with such histories`);
      const direct = inBucket.reduce((s, i) => s + recall.values[i], 0) / inBucket.length;
      assert.ok(Math.abs(b.rows[0].runs[0]['recall@10'] - direct) < 1e-9, `${b.label}: mean recall@10`);
    }

    const { bucket, items } = popularityBuckets(split);
    assert.equal(items.reduce((a, b) => a + b, 0), split.numItems - 1, 'every item in one popularity bucket');
    const counts = split.itemCounts;
    for (let i = 1; i < split.numItems; i++) for (let j = 1; j < split.numItems; j++) {
      if (counts[i] > counts[j]) assert.ok(bucket[i] <= bucket[j], 'a more popular item is never in a less popular bucket');
    }
    const popularity = popularityBreakdown(db, groups, labels, split);
    popularity.forEach((b, k) => {
      let sum = 0;
      let users = 0;
      set.targets.forEach((t, r) => {
        const tb = [...t].filter((i) => bucket[i] === k);
        if (!tb.length) return;
        users++;
        sum += lists[r].slice(0, 10).filter((i) => tb.includes(i)).length / tb.length;
      });
      assert.equal(b.users, users, `${b.label}: users with a target in it`);
      if (users) assert.ok(Math.abs(b.rows[0].runs[0]['recall@10'] - sum / users) < 1e-9, `${b.label}: recall@10 on its targets`);
    });
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
