// The trained item embeddings of a run as a table: `raw_item_id, v0..v{d-1}`, one row per item
// of the run's split vocabulary, rebuilt from the best checkpoint as the inspector does (the
// store keeps no separate copy, migration v9). Values at 9 significant digits: read back as
// float32 they are exactly the model's.
import Papa from 'papaparse';
import { requireModelAction, type EmbeddingFormat } from '../../shared/run-actions.ts';
import { getModel } from '../models/registry.ts';
import { rawItemIds } from '../store/datasets.ts';
import type { Db } from '../store/db.ts';
import { requireRun } from '../store/runs.ts';
import { loadRunModel } from './user.ts';

export async function itemEmbeddings(db: Db, runId: number, format: EmbeddingFormat = 'tsv'): Promise<string> {
  const run = requireRun(db, runId);
  requireModelAction(run, 'embeddings');
  if (getModel(run.model).trainable === false) throw new Error(`run ${runId} is ${run.label}, which learns no item embeddings (its item table is the training counts)`);
  const loaded = await loadRunModel(db, runId, 'embeddings');
  try {
    const table = loaded.model.itemTable();
    const [numItems, d] = table.shape;
    const flat = table.dataSync() as Float32Array;
    table.dispose();
    const vocab = loaded.split.vocab;
    // Row 0 is padding, not an item.
    const raws = rawItemIds(db, loaded.datasetId, Array.from({ length: numItems - 1 }, (_, i) => vocab[i + 1]));
    const rows: string[][] = [['raw_item_id', ...Array.from({ length: d }, (_, j) => `v${j}`)]];
    for (let i = 1; i < numItems; i++) {
      const row = [raws[i - 1] ?? String(vocab[i])];
      for (let j = 0; j < d; j++) row.push(String(Number(flat[i * d + j].toPrecision(9))));
      rows.push(row);
    }
    return Papa.unparse(rows, { delimiter: format === 'csv' ? ',' : '\t', newline: '\n' }) + '\n';
  } finally {
    loaded.model.dispose();
  }
}
