import { resolve } from 'node:path';
import type { DatasetSummary } from '../../../shared/types.ts';
import { recboleName, exportRecbole } from '../../eval/recbole-export.ts';
import { resolveDbPath, type Db } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { ensureSplit, getSplitSummary, loadSplit } from '../../store/splits.ts';
import type { SplitData } from '../../data/split.ts';
import { parseCommand, printHelp, withDb } from '../options.ts';

export const summary = "write a dataset's stored split as RecBole atomic files (train/valid/test .inter, raw ids)";

const HELP = `usage: cmi-studio export-split --dataset NAME [--split ID] --format recbole --out DIR [--db PATH]
Writes DIR/NAME.train.inter, NAME.valid.inter and NAME.test.inter (user_id:token, item_id:token,
timestamp:float; raw ids; the stored time) so another system trains on exactly this split.
Without --split: the split with the default parameters (day split; built if missing).
RecBole: dataset NAME, data_path the folder above DIR (name DIR after NAME),
benchmark_filename [train, valid, test], MAX_ITEM_LIST_LENGTH 100.`;

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

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    dataset: { type: 'string' },
    split: { type: 'string' },
    format: { type: 'string', default: 'recbole' },
    out: { type: 'string' },
  });
  if (values.help) return printHelp(HELP);
  if (values.format !== 'recbole') throw new Error(`--format must be recbole (got '${values.format}')`);
  if (!values.out) throw new Error(`--out DIR is required\n${HELP}`);
  const out = resolve(values.out);
  return withDb(resolveDbPath(values.db), (db) => {
    const { dataset, split } = datasetAndSplit(db, values.dataset, values.split, HELP);
    const written = exportRecbole(db, split, out, recboleName(dataset.name));
    for (const p of ['train', 'valid', 'test'] as const) process.stderr.write(`wrote ${written.files[p]} (${written.rows[p]} interactions)\n`);
    process.stdout.write(JSON.stringify({ split: split.id, ...written }) + '\n');
    return 0;
  });
}
