// The demo's budget (cli/demo-setup.ts) does what README's demo section promises: each model's
// config accepts it, the default list is every registered model, and a run at demo settings ends by early stopping, far below the safety cap,
// so the table shows stopped runs rather than a step budget. One real run of MIND (the quickest
// multi-interest model to stop) on the bundled sample; no timing assertions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_MODELS, demoConfig, demoModels, ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { getModel, models } from '../../src/main/models/registry.ts';
import { openDb } from '../../src/main/store/db.ts';
import { launchRun, prepareRun } from '../../src/main/train/runner.ts';

test('demo models: the default list, --models all and a comma list', () => {
  const all = models.map((m) => m.name);
  assert.deepEqual(demoModels('all'), all);
  assert.deepEqual(demoModels(undefined), [...DEMO_MODELS]);
  assert.deepEqual([...demoModels(undefined)].sort(), [...all].sort(), 'the default list is every registered model');
  assert.deepEqual(demoModels('cmi, mind'), ['cmi', 'mind']);
  assert.throws(() => demoModels('cmi,nope'), /nope/);
  // Every model's own fields accept the budget (readFields checks min and max).
  for (const name of all) resolveConfig(getModel(name), demoConfig);
});

test('at demo settings a run stops early, far below the safety cap', async () => {
  const cap = Number(demoConfig.maxSteps);
  const patience = Number(demoConfig.patience);
  const every = Number(demoConfig.evalEvery);
  assert.ok(cap >= 20 * patience * every, `the cap (${cap}) is a guard, far above the patience window (${patience} x ${every} steps)`);
  const dir = mkdtempSync(join(tmpdir(), 'cmi-demo-config-'));
  try {
    const dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    let id: number;
    try {
      const datasetId = (await ensureDemoDataset(db)).id;
      id = prepareRun(db, { datasetId, model: 'mind', config: { ...demoConfig }, seed: 42 });
    } finally {
      db.close();
    }
    const done = await launchRun(dbPath, id, () => {}).done;
    assert.equal(done.status, 'done');
    assert.equal(done.stopped, 'early', 'early stopping ended the run, not the cap');
    assert.ok(done.bestStep !== null && done.bestStep > every, `the best checkpoint (step ${done.bestStep}) is not the first evaluation`);
    assert.equal(done.steps, done.bestStep + patience * every, 'stopped after patience evaluations without a better validation Recall@50');
    assert.ok(done.steps * 5 < cap, `${done.steps} steps: the cap is at least 5x above where it stopped`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
