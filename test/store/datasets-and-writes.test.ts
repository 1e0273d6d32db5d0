// Store-level guards: dataset names are checked and a taken name is reported as such (also when
// two imports race for it); the worker's write queue keeps writes in order while another
// connection holds the lock, replaces a superseded keyed write, and commits once the lock frees.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkDatasetName, insertDataset, MAX_DATASET_NAME, type NewDataset } from '../../src/main/store/datasets.ts';
import { openDb } from '../../src/main/store/db.ts';
import { WriteQueue } from '../../src/main/store/write-queue.ts';

const dataset = (name: string): NewDataset => ({
  name,
  preset: 'csv',
  positiveRule: 'true',
  timeKind: 'day',
  files: [],
  columns: [],
  keptColumns: [],
  mapping: { user: 'u', item: 'i', day: 'd' },
});

test('dataset names: trimmed, 1..100 characters, no control or bidi-control characters', () => {
  assert.equal(checkDatasetName('  WeChat 2021  '), 'WeChat 2021');
  assert.equal(checkDatasetName('数据集 é'.padEnd(MAX_DATASET_NAME, 'x')).length, MAX_DATASET_NAME);
  assert.throws(() => checkDatasetName(''), /needs a name/);
  assert.throws(() => checkDatasetName('x'.repeat(MAX_DATASET_NAME + 1)), /101 characters long; at most 100/);
  for (const [name, code] of [
    ['a\nb', 'U+000A'],
    ['a\tb', 'U+0009'],
    ['a\u001b[31mb', 'U+001B'],
    ['a\u202eb', 'U+202E'],
    ['a\u2066b', 'U+2066'],
    ['a\u200fb', 'U+200F'],
  ]) {
    assert.throws(() => checkDatasetName(name), new RegExp(`control character \\(${code.replace('+', '\\+')}\\) at character 2`), JSON.stringify(name));
  }
});

test('a taken name is reported as taken, not as a constraint failure', () => {
  const db = openDb(':memory:');
  insertDataset(db, dataset('logs'));
  assert.throws(() => insertDataset(db, dataset('logs')), /^Error: a dataset named 'logs' already exists$/);
  assert.throws(() => insertDataset(db, dataset('bad\nname')), /control character/);
  db.close();
});

test('the write queue waits out another writer in order, replaces superseded keyed writes, then commits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmi-queue-'));
  try {
    const path = join(dir, 'q.sqlite');
    const db = openDb(path);
    db.exec('CREATE TABLE log (n INTEGER)');
    const other = openDb(path);
    const queue = new WriteQueue(db);
    const done: string[] = [];
    const add = (n: number) => () => void db.prepare('INSERT INTO log (n) VALUES (?)').run(n);

    queue.write(add(1), { done: () => done.push('1') });
    assert.equal(queue.waiting, 0, 'written at once while the lock is free');
    other.exec('BEGIN IMMEDIATE');
    queue.write(add(2), { done: () => done.push('2') });
    queue.write(add(3), { key: 'checkpoint', done: () => done.push('3') });
    queue.write(add(4));
    queue.write(add(5), { key: 'checkpoint', done: () => done.push('5') });
    assert.equal(queue.waiting, 3, 'queued while another connection holds the lock; the newer keyed write replaced the older');
    assert.equal(queue.flush(true), false, 'still locked');
    assert.deepEqual(done, ['1']);
    other.exec('COMMIT');
    assert.equal(queue.flush(true), true);
    assert.deepEqual(db.prepare('SELECT n FROM log ORDER BY rowid').pluck().all(), [1, 2, 5, 4], 'in order, the replaced write in its place');
    assert.deepEqual(done, ['1', '2', '5']);
    other.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
