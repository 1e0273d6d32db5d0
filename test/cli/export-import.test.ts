// export-split then import-results, end to end on the bundled sample: a most-popular list computed
// here in plain JS from the exported training file must get, through our import and metrics,
// exactly the Recall@50 computed here from the exported test file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { cli } from './helpers.ts';

/** Rows of a RecBole .inter file after its header. */
function readInter(path: string): { header: string; rows: string[][] } {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  return { header, rows: lines.map((l) => l.split('\t')) };
}

describe('export-split and import-results', () => {
  let dir: string;
  let dbPath: string;
  let out: string;
  let testUsers: string[];
  let popular: string[];
  const run = (args: string[]) => cli([...args, '--db', dbPath]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-export-'));
    dbPath = join(dir, 'studio.sqlite');
    out = join(dir, 'kuairand-demo');
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('export-split writes the split as RecBole atomic files in raw ids', async () => {
    const r = await run(['export-split', '--dataset', 'kuairand-demo', '--format', 'recbole', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const db = openDb(dbPath);
    const split = db.prepare('SELECT id, users, items, train_interactions, test_users FROM splits').get() as { users: number; items: number; train_interactions: number; test_users: number };
    const rawUsers = new Set((db.prepare('SELECT raw FROM users').pluck().all() as string[]));
    db.close();
    const train = readInter(join(out, 'kuairand-demo.train.inter'));
    const test = readInter(join(out, 'kuairand-demo.test.inter'));
    assert.equal(train.header, 'user_id:token\titem_id:token\ttimestamp:float');
    assert.equal(train.rows.length, split.train_interactions, 'every training interaction of the split');
    assert.equal(new Set(train.rows.map((x) => x[0])).size, split.users, 'every kept user trains');
    assert.equal(new Set(train.rows.map((x) => x[1])).size, split.items, 'the vocabulary is the training items');
    assert.equal(new Set(test.rows.map((x) => x[0])).size, split.test_users, 'the evaluated test users');
    assert.ok(train.rows.every((x) => rawUsers.has(x[0])), 'raw user ids');
    // Time order within a user, train before test.
    const lastTrain = new Map<string, number>();
    for (const [u, , t] of train.rows) lastTrain.set(u, Math.max(lastTrain.get(u) ?? -Infinity, Number(t)));
    assert.ok(test.rows.every(([u, , t]) => Number(t) >= (lastTrain.get(u) ?? -Infinity)), 'test interactions come after training');

    testUsers = [...new Set(test.rows.map((x) => x[0]))];
    const counts = new Map<string, number>();
    for (const [, item] of train.rows) counts.set(item, (counts.get(item) ?? 0) + 1);
    popular = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0)).slice(0, 100);
  });

  it('import-results of an outside popularity list gives exactly its Recall@50 on the exported test file', async () => {
    const file = join(dir, 'pop.tsv');
    writeFileSync(file, ['user\titem\trank', ...testUsers.flatMap((u) => popular.map((item, i) => `${u}\t${item}\t${i + 1}`))].join('\n') + '\n');
    const r = await run(['import-results', file, '--dataset', 'kuairand-demo', '--label', 'Pop (outside)', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const imported = JSON.parse(r.stdout) as { runId: number; users: number; test: Record<string, number> };

    // Recall@50 from the exported test file, independently of our metrics code.
    const targets = new Map<string, Set<string>>();
    for (const [u, item] of readInter(join(out, 'kuairand-demo.test.inter')).rows) targets.set(u, (targets.get(u) ?? new Set()).add(item));
    const top50 = new Set(popular.slice(0, 50));
    let sum = 0;
    for (const t of targets.values()) sum += [...t].filter((i) => top50.has(i)).length / t.size;
    const expected = sum / targets.size;
    assert.equal(imported.users, targets.size);
    assert.ok(expected > 0, 'popular items do hit on the test day');
    assert.ok(Math.abs(imported.test['recall@50'] - expected) < 1e-12, `recall@50 ${imported.test['recall@50']} vs ${expected}`);

    // The label is a row of compare, with the same number.
    const table = JSON.parse((await run(['compare', '--dataset', 'kuairand-demo', '--metrics', 'recall,coverage,novelty', '--k', '50', '--format', 'json'])).stdout) as {
      rows: { label: string; cells: { mean: number | null }[] }[];
    };
    const row = table.rows.find((x) => x.label === 'Pop (outside)');
    assert.ok(row, 'the imported label is a row');
    assert.ok(Math.abs((row.cells[0].mean ?? NaN) - expected) < 1e-12, 'compare shows the same Recall@50');
    // One list for everyone: 50 items of the catalogue are covered.
    const db = openDb(dbPath);
    const items = (db.prepare('SELECT items FROM splits').get() as { items: number }).items;
    db.close();
    assert.ok(Math.abs((row.cells[1].mean ?? NaN) - 50 / items) < 1e-12, 'coverage@50 of one shared list is 50 / catalogue');
    assert.ok((row.cells[2].mean ?? 0) > 0, 'novelty is computed for imported lists');
  });

  it('rejects a second import under the same label', async () => {
    const file = join(dir, 'pop.tsv');
    const r = await run(['import-results', file, '--dataset', 'kuairand-demo', '--label', 'Pop (outside)']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exist/);
  });

  it('names file, line and field for unknown users or items and duplicate ranks, and lists missing users', async () => {
    const body = testUsers.flatMap((u) => popular.slice(0, 3).map((item, i) => `${u},${item},${i + 1}`));
    const cases: { name: string; lines: string[]; error: RegExp }[] = [
      { name: 'user.csv', lines: [...body, `no-such-user,${popular[0]},1`], error: new RegExp(`user\\.csv:${body.length + 2}:1: field 1: unknown user 'no-such-user'`) },
      { name: 'item.csv', lines: [`${testUsers[0]},no-such-item,9`, ...body], error: /item\.csv:2:2: field 2: unknown item 'no-such-item'/ },
      { name: 'rank.csv', lines: [...body, `${testUsers[0]},${popular[5]},2`], error: new RegExp(`rank\\.csv:${body.length + 2}:3: field 3: duplicate rank 2 for user '${testUsers[0]}' \\(also on line 3\\)`) },
      { name: 'missing.csv', lines: body.slice(3), error: new RegExp(`1 of ${testUsers.length} test users of split \\d+ have no list \\('${testUsers[0]}'\\)`) },
    ];
    for (const c of cases) {
      const file = join(dir, c.name);
      writeFileSync(file, ['user,item,rank', ...c.lines].join('\n') + '\n');
      const r = await run(['import-results', file, '--dataset', 'kuairand-demo', '--label', c.name]);
      assert.equal(r.code, 1, `${c.name} is rejected`);
      assert.match(r.stderr, c.error, c.name);
    }
  });
});
