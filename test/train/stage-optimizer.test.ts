// Multi-stage runs (DSSRec, OPAL) on the real bundled sample: at the stage switch the trainer
// starts a fresh Adam unless the run says stageOptimizer keep, and a run checkpointed after a
// fresh switch (whose optimiser has slots only for what it has stepped since) resumes to the end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb, type Db } from '../../src/main/store/db.ts';
import { loadCheckpoint, requireRun, runCurves } from '../../src/main/store/runs.ts';
import { prepareRun } from '../../src/main/train/runner.ts';
import { trainRun } from '../../src/main/train/loop.ts';
import { optimizerState, restoreOptimizer, unpackTensors } from '../../src/main/train/checkpoint.ts';
import { Adam } from '../../src/main/train/optimizer.ts';
import type { SeqRecModel } from '../../src/main/models/types.ts';

// lr 0 keeps validation flat, so the pre-train stage ends after `patience` evaluations: the
// switch comes at step 15 (evaluations at 5, 10, 15).
const tiny = { dim: 16, batchSize: 32, maxlen: 20, historyPool: 40, futureLen: 5, layers: 1, lr: 0, weightDecay: 0, evalEvery: 5, patience: 2, checkpointEvery: 1 };
const SWITCH = 15;
const STOP = 18;

describe('stage switch', () => {
  let dir: string;
  let db: Db;
  let datasetId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-stages-'));
    db = openDb(join(dir, 'studio.sqlite'));
    datasetId = (await ensureDemoDataset(db)).id;
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Trains until STOP steps are done, then cancels; returns the run id and its resume checkpoint. */
  async function stopAfterSwitch(stageOptimizer: 'fresh' | 'keep') {
    const runId = prepareRun(db, { datasetId, model: 'dssrec', config: { ...tiny, stageOptimizer }, seed: 3 });
    let polls = 0;
    const status = await trainRun(db, runId, { onEvent: () => {}, shouldStop: () => polls++ >= STOP });
    assert.equal(status, 'cancelled');
    const last = loadCheckpoint(db, runId, 'last');
    assert.ok(last);
    assert.equal(last.step, STOP);
    assert.equal((JSON.parse(last.state) as { stage: number }).stage, 1, 'the run is in the fine-tune stage');
    const tensors = unpackTensors(last.tensors);
    return { runId, optimizerStep: tensors['o/step'].data[0] };
  }

  it('fresh (the default): Adam starts again at the switch; keep: it carries on', async () => {
    const fresh = await stopAfterSwitch('fresh');
    assert.equal(fresh.optimizerStep, STOP - SWITCH, 'only the fine-tune steps count');
    const stages = runCurves(db, fresh.runId).filter((c) => c.kind === 'train').map((c) => c.stage);
    assert.deepEqual([...new Set(stages)], ['pretrain', 'finetune']);
    const kept = await stopAfterSwitch('keep');
    assert.equal(kept.optimizerStep, STOP);

    // The fresh run resumes from its post-switch checkpoint and finishes.
    const status = await trainRun(db, fresh.runId, { onEvent: () => {}, shouldStop: () => false });
    assert.equal(status, 'done');
    const done = requireRun(db, fresh.runId);
    assert.equal(done.status, 'done');
    assert.ok(done.steps > STOP);
    assert.equal(done.config.stageOptimizer, 'fresh');
  });
});

function twoVariableModel(): SeqRecModel {
  const variables = { a: tf.variable(tf.tensor1d([1, 2]), true, 'a'), b: tf.variable(tf.tensor1d([3]), true, 'b') };
  return { variables } as unknown as SeqRecModel;
}

test('optimiser state with slots for some variables only restores those and continues identically', async () => {
  const model = twoVariableModel();
  const opt = new Adam(0.1, 0);
  const grad = () => ({ a: tf.tensor1d([0.5, -1]) });
  for (let i = 0; i < 2; i++) {
    const g = grad();
    opt.apply(model.variables, g);
    tf.dispose(Object.values(g));
  }
  const state = await optimizerState(opt);
  assert.deepEqual(Object.keys(state).sort(), ['a/m', 'a/v', 'step'], 'b never had a gradient: no slot');

  const restored = new Adam(0.1, 0);
  await restoreOptimizer(restored, model, state);
  // The third step from the same weights, by the original optimiser and by the restored one.
  const start = Array.from(model.variables.a.dataSync());
  const thirdStep = (o: Adam): number[] => {
    model.variables.a.assign(tf.tensor1d(start));
    const g = grad();
    o.apply(model.variables, g);
    tf.dispose(Object.values(g));
    return Array.from(model.variables.a.dataSync());
  };
  assert.deepEqual(thirdStep(restored), thirdStep(opt));
  assert.equal(restored.step, 3);
  assert.equal(restored.slots.has('b'), false);

  await assert.rejects(
    restoreOptimizer(new Adam(0.1, 0), model, { ...state, 'gone/m': { shape: [1], data: Float32Array.of(0) } }),
    /'gone\/m', which is not a slot of this model's variables/,
  );
  const { 'a/v': _v, ...halfSlot } = state;
  await assert.rejects(restoreOptimizer(new Adam(0.1, 0), model, halfSlot), /no tensor 'a\/v'/);
  [opt, restored].forEach((o) => o.dispose());
  tf.dispose(Object.values(model.variables));
});
