// Training CMI: the optimiser step, its bookkeeping and resumable state; and the registry.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { cmi } from '../../src/main/models/cmi.ts';
import { getModel, modelInfos, models } from '../../src/main/models/registry.ts';
import { resolveConfig, sharedFields } from '../../src/main/models/config.ts';
import { Adam, createOptimizer } from '../../src/main/train/optimizer.ts';
import { modelWeights, optimizerState, restoreOptimizer, restoreWeights } from '../../src/main/train/checkpoint.ts';
import { trainStep } from '../../src/main/train/step.ts';
import type { Config, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';

before(async () => {
  await initBackend('wasm');
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const N = 30, B = 6, L = 8;
const CONFIG: Config = { dim: 8, interests: 3, maxlen: L, viewLen: 5 };

/** A deterministic random batch: left-padded histories and views, positives, negatives. */
function makeBatch(seed: number): TrainBatch {
  const r = lcg(seed);
  const id = (): number => 1 + Math.floor(r() * (N - 1));
  const seqs = (rows: number, len: number): tf.Tensor2D =>
    tf.tensor2d(Array.from({ length: rows }, () => {
      const pad = Math.floor(r() * (len - 1));
      return Array.from({ length: len }, (_, k) => (k < pad ? 0 : id()));
    }), undefined, 'int32');
  const ids = (): tf.Tensor1D => tf.tensor1d(Array.from({ length: B }, id), 'int32');
  return { size: B, history: seqs(B, L), pos: ids(), neg: ids(), future: seqs(B, 3), views: [seqs(B, 5), seqs(B, 5)], viewNegs: [ids(), ids()] };
}

function disposeBatch(b: TrainBatch): void {
  tf.dispose([b.history, b.pos, b.neg, b.future, ...(b.views ?? []), ...(b.viewNegs ?? [])]);
}

function newModel(seed = 1, overrides: Config = {}): { model: SeqRecModel; config: Config } {
  const config = resolveConfig(cmi, { ...CONFIG, ...overrides });
  return { model: cmi.create({ numItems: N, config, seed, itemCounts: new Int32Array(N) }), config };
}

test('trainStep returns every term and the total, learns, and leaks no tensors', () => {
  const { model, config } = newModel();
  const opt = createOptimizer(config);
  const batch = makeBatch(7);
  const first = trainStep(model, opt, batch, 0);
  assert.deepEqual(Object.keys(first).sort(), ['cl', 'main', 'orth', 'total', 'unif']);
  assert.ok(Math.abs(first.total - (first.main + first.cl + first.orth + first.unif)) < 1e-4, 'terms add up to the total');
  const tensors = tf.memory().numTensors;
  let last = first;
  for (let s = 1; s < 25; s++) {
    last = trainStep(model, opt, batch, s);
    assert.equal(tf.memory().numTensors, tensors, `tensor count stable at step ${s}`);
  }
  assert.ok(last.main < first.main - 0.3, `main loss falls on a repeated batch: ${first.main} -> ${last.main}`);
  assert.ok(last.orth < first.orth, `orthogonality improves: ${first.orth} -> ${last.orth}`);
  disposeBatch(batch);
  opt.dispose();
  model.dispose();
});

test('after each step item and category rows are unit length again and padding stays zero', () => {
  const { model, config } = newModel(2);
  const opt = createOptimizer(config);
  const batch = makeBatch(8);
  trainStep(model, opt, batch, 0);
  for (const name of ['item', 'category']) {
    const rows = model.variables[name].arraySync() as number[][];
    rows.forEach((row, i) => {
      const n = Math.hypot(...row);
      if (name === 'item' && i === 0) assert.equal(n, 0);
      else assert.ok(Math.abs(n - 1) < 1e-5, `${name}[${i}] has norm ${n}`);
    });
  }
  disposeBatch(batch);
  opt.dispose();
  model.dispose();
});

test('Adam follows torch.optim.Adam: L2 weight decay in the gradient, bias correction, eps 1e-8', () => {
  const p0 = [1, -2, 0.5];
  const w = tf.variable(tf.tensor1d(p0));
  const opt = new Adam(0.01, 0.1);
  const grads = [[0.5, 0.1, -0.3], [-0.2, 0.4, 0.0]];
  // Reference: torch's update written out in plain numbers.
  const p = [...p0], m = [0, 0, 0], v = [0, 0, 0];
  grads.forEach((g, t) => {
    opt.apply({ w }, { w: tf.tensor1d(g) });
    for (let i = 0; i < 3; i++) {
      const gi = g[i] + 0.1 * p[i];
      m[i] = 0.9 * m[i] + 0.1 * gi;
      v[i] = 0.999 * v[i] + 0.001 * gi * gi;
      const bc1 = 1 - 0.9 ** (t + 1), bc2 = 1 - 0.999 ** (t + 1);
      p[i] -= (0.01 / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-8);
    }
    const got = w.dataSync();
    p.forEach((x, i) => assert.ok(Math.abs(got[i] - x) < 1e-6, `step ${t + 1} [${i}]: ${got[i]} vs ${x}`));
  });
  assert.equal(opt.step, 2);
  opt.dispose();
  w.dispose();
});

test('a run resumed from saved weights and optimiser state continues identically', async () => {
  const batches = [11, 12, 13, 14, 15].map(makeBatch);
  const { model, config } = newModel(4);
  const opt = createOptimizer(config);
  for (let s = 0; s < 3; s++) trainStep(model, opt, batches[s], s);
  const weights = modelWeights(model);
  const state = await optimizerState(opt);
  assert.equal(state.step.data[0], 3);
  assert.deepEqual(state['item/m'].shape, [N, 8]);
  const straight = [3, 4].map((s) => trainStep(model, opt, batches[s], s));

  // A fresh process would build the model from another seed before restoring: weights must win.
  const { model: resumed } = newModel(99);
  const opt2 = createOptimizer(config);
  restoreWeights(resumed, weights);
  await restoreOptimizer(opt2, resumed, state);
  const again = [3, 4].map((s) => trainStep(resumed, opt2, batches[s], s));
  assert.deepEqual(again, straight);
  assert.deepEqual(Array.from(resumed.variables.item.dataSync()), Array.from(model.variables.item.dataSync()));

  assert.throws(() => restoreWeights(resumed, { ...weights, item: { shape: [N + 1, 8], data: new Float32Array((N + 1) * 8) } }), /'item' has shape \[31,8\], the model expects \[30,8\]/);
  const { category: _dropped, ...partial } = weights;
  assert.throws(() => restoreWeights(resumed, partial), /no tensor 'category'/);
  batches.forEach(disposeBatch);
  [opt, opt2].forEach((o) => o.dispose());
  [model, resumed].forEach((m) => m.dispose());
});

test('CMI-CL (lambdaCl 0) trains on histories without views; its cl term is 0', () => {
  const { model, config } = newModel(5, { lambdaCl: 0 });
  const opt = createOptimizer(config);
  const { views, viewNegs, ...batch } = makeBatch(21);
  tf.dispose([...views!, ...viewNegs!]);
  const out = trainStep(model, opt, batch, 0);
  assert.equal(out.cl, 0);
  assert.ok(Number.isFinite(out.main) && out.main > 0, `main ${out.main}`);
  disposeBatch(batch);
  opt.dispose();
  model.dispose();
});

test('registry: CMI by name, a clear error for unknown names, infos carry shared and own fields', () => {
  assert.equal(getModel('cmi'), cmi);
  assert.throws(() => getModel('nope'), new RegExp(`unknown model 'nope'; known: .*cmi`));
  const info = modelInfos().find((i) => i.name === 'cmi');
  assert.ok(info, 'cmi listed');
  assert.equal(info.multiInterest, true);
  const keys = info.fields.map((f) => f.key);
  for (const f of sharedFields) assert.ok(keys.includes(f.key), `shared field ${f.key}`);
  const own = Object.fromEntries(info.fields.map((f) => [f.key, f.default]));
  assert.deepEqual(
    { epsilon: own.epsilon, tau: own.tau, lambdaCl: own.lambdaCl, lambdaOrth: own.lambdaOrth, lambdaUnif: own.lambdaUnif, interestType: own.interestType, useGeneral: own.useGeneral },
    { epsilon: 0.1, tau: 0.1, lambdaCl: 0.01, lambdaOrth: 10, lambdaUnif: 1, interestType: 'plus', useGeneral: true },
  );
  assert.equal(new Set(models.map((m) => m.name)).size, models.length, 'names are unique');
});
