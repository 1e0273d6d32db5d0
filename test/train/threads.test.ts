// How a training worker's threads are chosen: the cores shared among the runs training at once,
// and a user's OPENBLAS_NUM_THREADS left as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadsPerRun, workerEnv } from '../../src/main/train/threads.ts';

test('a lone run gets the cores (up to 4), runs at once share them, never fewer than one thread', () => {
  assert.equal(threadsPerRun(1, 2), 2, 'a lone run on 2 cores');
  assert.equal(threadsPerRun(2, 2), 1, 'two at once on 2 cores: one each');
  assert.equal(threadsPerRun(2, 1), 1, 'never zero');
  assert.equal(threadsPerRun(1, 16), 4, 'capped');
  assert.equal(threadsPerRun(2, 6), 3);
});

test("the worker's environment sets OPENBLAS_NUM_THREADS unless the user did", () => {
  assert.equal(workerEnv({ PATH: '/bin' }, 2).OPENBLAS_NUM_THREADS, '2');
  assert.equal(workerEnv({ OPENBLAS_NUM_THREADS: '1' }, 2).OPENBLAS_NUM_THREADS, '1');
  assert.equal(workerEnv({ PATH: '/bin' }, 2).PATH, '/bin');
});
