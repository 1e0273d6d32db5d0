import type { DatasetSummary } from '../../../shared/types.ts';
import { deleteDataset, getDataset, listDatasets } from '../../store/datasets.ts';
import { resolveDbPath } from '../../store/db.ts';
import { JSON_OPTION, parseCommand, printHelp, withDb } from '../options.ts';

export const summary = 'list the imported datasets with their counts, or delete one';

const HELP = `usage: cmi-studio datasets [--db PATH] [--json]
       cmi-studio datasets --delete NAME|ID [--db PATH]`;

const COLUMNS: Array<[string, (d: DatasetSummary) => string]> = [
  ['id', (d) => String(d.id)],
  ['name', (d) => d.name],
  ['preset', (d) => d.preset],
  ['rows', (d) => d.rows.toLocaleString('en-US')],
  ['interactions', (d) => d.interactions.toLocaleString('en-US')],
  ['users', (d) => d.users.toLocaleString('en-US')],
  ['items', (d) => d.items.toLocaleString('en-US')],
  ['days', (d) => String(d.days)],
  ['time', (d) => d.timeKind],
  ['created', (d) => d.createdAt],
];
const NUMERIC = new Set(['id', 'rows', 'interactions', 'users', 'items', 'days']);

export function formatTable(datasets: DatasetSummary[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...datasets.map((d) => COLUMNS.map(([, f]) => f(d)))];
  const widths = COLUMNS.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  return cells
    .map((row) => row.map((cell, c) => (NUMERIC.has(COLUMNS[c][0]) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

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
    else process.stdout.write(datasets.length ? formatTable(datasets) + '\n' : 'no datasets (try `cmi-studio demo` or `cmi-studio import`)\n');
    return 0;
  });
}
