// Results of another system (imported lists) stored as a finished run of model 'external', so
// they are rows of `compare` like any trained model, with per-user values for the paired tests.
import { EXTERNAL_MODEL } from '../../shared/run-actions.ts';
import type { Metrics } from '../../shared/types.ts';
import type { Db } from './db.ts';
import { createRun, listRuns, updateRun } from './runs.ts';

export interface NewExternalRun {
  datasetId: number;
  splitId: number;
  label: string;
  /** The file the lists came from. */
  source: string;
  test: Metrics;
}

/** An imported run with this label on this split, if any. */
export function findExternalRun(db: Db, splitId: number, label: string): number | undefined {
  return listRuns(db, { model: EXTERNAL_MODEL }).find((r) => r.splitId === splitId && r.label === label)?.id;
}

/** Creates the finished run; the caller stores its lists and per-user values in the same transaction. */
export function createExternalRun(db: Db, run: NewExternalRun): number {
  // The label is part of the config: two imports are two experiments, never seeds of one.
  const id = createRun(db, { datasetId: run.datasetId, splitId: run.splitId, model: EXTERNAL_MODEL, label: run.label, config: { source: run.source, label: run.label }, seed: 0 });
  updateRun(db, id, { status: 'done', device: `imported from ${run.source}`, test: run.test });
  return id;
}
