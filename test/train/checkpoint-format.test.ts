// The checkpoint format is stored data: checkpoints written before train/checkpoint.ts existed
// (test/fixtures/checkpoints-f85b872.sqlite, see write-checkpoints.mts there) must read back into
// the model and Adam, be written again byte for byte, and resume to the end.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TrainEvent } from '../../src/shared/types.ts';
import { initBackend } from '../../src/main/engine/backend.ts';
import { getModel } from '../../src/main/models/registry.ts';
import type { SeqRecModel } from '../../src/main/models/types.ts';
import { openDb, type Db } from '../../src/main/store/db.ts';
import { listRuns, loadCheckpoint, requireRun, runCurves } from '../../src/main/store/runs.ts';
import { loadSplit } from '../../src/main/store/splits.ts';
import { restoreBest, resume, resumePoint, unpackTensors, weightsAt } from '../../src/main/train/checkpoint.ts';
import { trainRun } from '../../src/main/train/loop.ts';
import { createOptimizer } from '../../src/main/train/optimizer.ts';

const FIXTURE = resolve('test/fixtures/checkpoints-f85b872.sqlite');

describe('checkpoints written before train/checkpoint.ts', () => {
  let dir: string;
  let db: Db;

  before(async () => {
    await initBackend('auto');
    dir = mkdtempSync(join(tmpdir(), 'cmi-ckpt-format-'));
    copyFileSync(FIXTURE, join(dir, 'studio.sqlite'));
    db = openDb(join(dir, 'studio.sqlite'));
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function modelOf(runId: number): SeqRecModel {
    const run = requireRun(db, runId);
    const split = loadSplit(db, run.splitId);
    return getModel(run.model).create({ numItems: split.numItems, config: run.config, seed: run.seed, itemCounts: split.itemCounts });
  }

  it('holds a cancelled gru4rec and a cancelled cmi run, each with a resume and a best checkpoint', () => {
    const runs = listRuns(db);
    assert.deepEqual(runs.map((r) => [r.model, r.status]), [['gru4rec', 'cancelled'], ['cmi', 'cancelled']]);
    for (const r of runs) {
      const last = loadCheckpoint(db, r.id, 'last');
      assert.ok(last && loadCheckpoint(db, r.id, 'best'));
      const names = Object.keys(unpackTensors(last.tensors));
      assert.ok(names.includes('o/step') && names.some((n) => n.startsWith('w/')) && names.some((n) => /^o\/.+\/m$/.test(n)), `run ${r.id}: weights and Adam slots`);
    }
  });

  it('reads every tensor and the loop state back and writes them again byte for byte', async () => {
    for (const r of listRuns(db)) {
      const last = loadCheckpoint(db, r.id, 'last')!;
      const model = modelOf(r.id);
      const optimizer = createOptimizer(r.config);
      try {
        const state = await resume(last, model, optimizer);
        assert.equal(state.step, last.step);
        assert.ok(optimizer.slots.size > 0, 'Adam has its moments back');
        const again = await resumePoint(model, optimizer, state);
        assert.equal(again.step, last.step);
        assert.equal(again.state, last.state, 'the loop state serialises as it was stored');
        assert.ok(again.tensors.equals(last.tensors), `run ${r.id}: the resume blob is identical`);

        const best = loadCheckpoint(db, r.id, 'best')!;
        restoreBest(model, best);
        const { stage } = JSON.parse(best.state) as { stage: number };
        const bestAgain = weightsAt(model, best.step, stage);
        assert.equal(bestAgain.state, best.state);
        assert.ok(bestAgain.tensors.equals(best.tensors), `run ${r.id}: the best blob is identical`);
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    }
  });

  it('resumes each run from its stored step to the end', async () => {
    for (const r of listRuns(db)) {
      const from = loadCheckpoint(db, r.id, 'last')!.step;
      const events: TrainEvent[] = [];
      const status = await trainRun(db, r.id, { onEvent: (e) => events.push(e), shouldStop: () => false });
      assert.equal(status, 'done');
      const started = events.find((e) => e.type === 'started');
      assert.equal(started?.type === 'started' && started.resumedFrom, from);
      const done = requireRun(db, r.id);
      assert.equal(done.steps, Number(r.config.maxSteps));
      assert.ok(done.test && done.test['recall@10'] >= 0 && done.test['recall@10'] <= 1);
      // Curves after the checkpoint were recorded again by the resumed run, none twice.
      const valid = runCurves(db, r.id).filter((c) => c.kind === 'valid').map((c) => c.step);
      assert.deepEqual(valid, [5, 10, 15, 20]);
      assert.equal(loadCheckpoint(db, r.id, 'last'), undefined);
    }
  });
});
