import { resolve } from 'node:path';
import { recboleName, exportRecbole } from '../../eval/recbole-export.ts';
import { resolveDbPath } from '../../store/db.ts';
import { datasetAndSplit } from '../dataset-split.ts';
import { parseCommand, printHelp, withDb } from '../options.ts';

const HELP = `usage: cmi-studio export-split --dataset NAME [--split ID] --format recbole --out DIR [--db PATH]
Writes DIR/NAME.train.inter, NAME.valid.inter and NAME.test.inter (user_id:token, item_id:token,
timestamp:float; raw ids; the stored time) so another system trains on exactly this split.
Without --split: the split with the default parameters (day split; built if missing).
RecBole: dataset NAME, data_path the folder above DIR (name DIR after NAME),
benchmark_filename [train, valid, test], MAX_ITEM_LIST_LENGTH 100.`;

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
