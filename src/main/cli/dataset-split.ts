// The --dataset NAME [--split ID] pair the split-based commands (export-split, import-results) take.
import type { DatasetSummary } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import type { Db } from '../store/db.ts';
import { getDataset } from '../store/datasets.ts';
import { ensureSplit, getSplitSummary, loadSplit } from '../store/splits.ts';

/** The dataset by name, and its split: --split ID (of that dataset) or the default one. */
export function datasetAndSplit(db: Db, name: string | undefined, splitId: string | undefined, help: string): { dataset: DatasetSummary; split: SplitData } {
  if (!name) throw new Error(`--dataset is required\n${help}`);
  const dataset = getDataset(db, name);
  if (!dataset) throw new Error(`no dataset named '${name}'`);
  let id: number;
  if (splitId !== undefined) {
    id = Number(splitId);
    if (!Number.isInteger(id)) throw new Error(`--split expects a split id, got '${splitId}'`);
    if (getSplitSummary(db, id).datasetId !== dataset.id) throw new Error(`split ${id} is not a split of dataset '${dataset.name}'`);
  } else {
    id = ensureSplit(db, dataset.id).id;
  }
  return { dataset, split: loadSplit(db, id) };
}
