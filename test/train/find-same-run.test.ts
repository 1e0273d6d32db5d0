// findSameRun: the demo and the result scripts reuse a run only when dataset, model, complete
// config and seed (and group, when asked) all match, and never a failed one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { requireRun, updateRun } from '../../src/main/store/runs.ts';
import { findSameRun, prepareRun } from '../../src/main/train/runner.ts';

test('findSameRun matches model, full config, seed and group; prefers finished runs; skips failed ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmi-same-'));
  const db = openDb(join(dir, 'studio.sqlite'));
  try {
    const datasetId = (await ensureDemoDataset(db)).id;
    const req = { datasetId, model: 'cmi', config: { batchSize: 64 }, seed: 3, group: 'g' };
    assert.equal(findSameRun(db, req), undefined);
    const first = prepareRun(db, req);
    assert.equal(findSameRun(db, req)?.id, first);
    // Defaults written out are the same request; another value, seed, model or group is not.
    assert.equal(findSameRun(db, { ...req, config: { batchSize: 64, interests: 8 } })?.id, first);
    assert.equal(findSameRun(db, { ...req, config: { batchSize: 128 } }), undefined);
    assert.equal(findSameRun(db, { ...req, seed: 4 }), undefined);
    assert.equal(findSameRun(db, { ...req, model: 'mind' }), undefined);
    assert.equal(findSameRun(db, { ...req, group: 'other' }), undefined);
    assert.equal(findSameRun(db, { ...req, group: undefined })?.id, first);
    // A run stored before a config key existed matches (the key's default was implied).
    const { target: _added, ...older } = requireRun(db, first).config;
    db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(older), first);
    assert.equal(findSameRun(db, req)?.id, first, 'a config without a later-added key still matches');
    const second = prepareRun(db, req);
    updateRun(db, second, { status: 'done' });
    assert.equal(findSameRun(db, req)?.id, second, 'a finished run wins over a queued one');
    updateRun(db, second, { status: 'failed' });
    assert.equal(findSameRun(db, req)?.id, first, 'a failed run is never reused');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
