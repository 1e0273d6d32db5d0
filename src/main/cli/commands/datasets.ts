import { deleteDataset, getDataset, listDatasets } from '../../store/datasets.ts';
import { resolveDbPath } from '../../store/db.ts';
import { datasetsTable } from '../datasets-table.ts';
import { JSON_OPTION, parseCommand, printHelp, withDb } from '../options.ts';

const HELP = `usage: cmi-studio datasets [--db PATH] [--json]
       cmi-studio datasets --delete NAME|ID [--db PATH]`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, { delete: { type: 'string' }, ...JSON_OPTION });
  if (values.help) return printHelp(HELP);
  return withDb(resolveDbPath(values.db), (db) => {
    if (values.delete !== undefined) {
      const d = getDataset(db, values.delete);
      if (!d) throw new Error(`no dataset '${values.delete}'`);
      deleteDataset(db, d.id);
      process.stderr.write(`deleted dataset ${d.id} '${d.name}' with its splits and runs\n`);
      return 0;
    }
    const datasets = listDatasets(db);
    if (values.json) process.stdout.write(JSON.stringify(datasets) + '\n');
    else process.stdout.write(datasets.length ? datasetsTable(datasets) + '\n' : 'no datasets (try `cmi-studio demo` or `cmi-studio import`)\n');
    return 0;
  });
}
