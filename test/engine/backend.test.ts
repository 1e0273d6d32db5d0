import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  delete process.env.CMI_STUDIO_BACKEND;
});

test('auto picks the best backend that loads and says why the others were skipped', async () => {
  const info = await initBackend('auto');
  assert.equal(tf.getBackend(), info.backend);
  if (!installed('@tensorflow/tfjs-node-gpu')) assert.ok(info.fallbacks.includes('tensorflow-gpu: package not installed'), info.fallbacks.join('; '));
  if (!installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu')) {
    assert.ok(info.fallbacks.includes('tensorflow: package not installed'), info.fallbacks.join('; '));
    assert.equal(info.backend, 'wasm');
    assert.match(info.device, /^CPU \(wasm SIMD, \d+ threads?\)(, matmul on OpenBLAS [\d.]+ \(.+\))?$/);
  }
});

test('a named backend is used, and asking again returns the same answer', async () => {
  const a = await initBackend('cpu');
  assert.equal(a.backend, 'cpu');
  assert.match(a.device, /^CPU \(plain JavaScript\)(, matmul on OpenBLAS .+)?$/);
  assert.deepEqual(a.fallbacks, []);
  assert.equal(await initBackend('cpu'), a);
  const w = await initBackend('wasm');
  assert.equal(w.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('a named backend that cannot load is an error naming the reason', async () => {
  if (installed('@tensorflow/tfjs-node-gpu')) return;
  await assert.rejects(initBackend('tensorflow-gpu'), /tensorflow-gpu: package not installed/);
});

test('CMI_STUDIO_BACKEND overrides the caller, and a bad value is rejected', async () => {
  process.env.CMI_STUDIO_BACKEND = 'cpu';
  assert.equal((await initBackend('wasm')).backend, 'cpu');
  process.env.CMI_STUDIO_BACKEND = 'gpu-please';
  await assert.rejects(initBackend(), /CMI_STUDIO_BACKEND='gpu-please'/);
});

test('our UnsortedSegmentSum replaces the stock kernel on wasm and cpu', async () => {
  await initBackend('wasm');
  await initBackend('cpu');
  const wasm = tf.getKernel('UnsortedSegmentSum', 'wasm');
  const cpu = tf.getKernel('UnsortedSegmentSum', 'cpu');
  assert.ok(wasm && cpu, 'registered on both');
  assert.equal(wasm.kernelFunc, cpu.kernelFunc, 'both backends run the same typed-array kernel');
});
