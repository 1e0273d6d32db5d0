// Curve points keep their training seconds and wall-clock time (the run page's time axes) in the
// points' JSON column; points stored before that read as they always did, without times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { addCurvePoint, runCurves, truncateCurves } from '../../src/main/store/runs.ts';
import { prepareRun } from '../../src/main/train/runner.ts';

test('curve points keep their times; points without times still read', async () => {
  const db = openDb(':memory:');
  try {
    const { id: datasetId } = await ensureDemoDataset(db);
    const runId = prepareRun(db, { datasetId, model: 'cmi', config: { dim: 16 }, seed: 1 });
    // A point as runs recorded before times were kept: values only.
    addCurvePoint(db, runId, { step: 5, kind: 'train', values: { main: 2.5, cl: 0.1 } });
    addCurvePoint(db, runId, { step: 10, kind: 'train', stage: 'a', values: { main: 2.25, unif: -3.5 }, seconds: 12.5, time: 1_764_000_000_000 });
    addCurvePoint(db, runId, { step: 10, kind: 'valid', values: { 'recall@50': 0.125 }, seconds: 14, time: 1_764_000_001_500 });
    assert.deepEqual(runCurves(db, runId), [
      { step: 5, kind: 'train', values: { main: 2.5, cl: 0.1 } },
      { step: 10, kind: 'train', stage: 'a', values: { main: 2.25, unif: -3.5 }, seconds: 12.5, time: 1_764_000_000_000 },
      { step: 10, kind: 'valid', values: { 'recall@50': 0.125 }, seconds: 14, time: 1_764_000_001_500 },
    ]);
    truncateCurves(db, runId, 5);
    assert.deepEqual(runCurves(db, runId).map((p) => p.step), [5]);
  } finally {
    db.close();
  }
});
