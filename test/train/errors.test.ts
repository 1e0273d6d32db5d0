// A run that dies of wasm's 4 GB heap says so and what to change, instead of a bare trap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeTrainingError } from '../../src/main/train/errors.ts';

test('a wasm out-of-bounds trap is reported as running out of the 4 GB heap, with what to lower', () => {
  const text = describeTrainingError(new WebAssembly.RuntimeError('memory access out of bounds'));
  assert.match(text, /out of memory on the wasm backend/);
  assert.match(text, /4 GB/);
  assert.match(text, /batchSize/);
});

test('other errors keep their message', () => {
  assert.equal(describeTrainingError(new Error('config key lr must be > 0')), 'config key lr must be > 0');
  assert.equal(describeTrainingError(new WebAssembly.RuntimeError('unreachable')), 'unreachable');
  assert.equal(describeTrainingError('plain text'), 'plain text');
});
