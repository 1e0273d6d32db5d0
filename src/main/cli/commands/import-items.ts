import { importItemAttributes } from '../../import/items.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { JSON_OPTION, parseCommandWithFiles, printHelp, stringOptions, withDb } from '../options.ts';

const HELP = `usage: cmi-studio import-items FILE --dataset NAME [--id-column C] [--columns A,B] [--delimiter D] [--json] [--db PATH]
Imports item attributes onto an existing dataset: WeChat's feed_info.csv (authorid,
videoplayseconds, bgm ids, keyword and tag lists) or any CSV/TSV with an item id column and
attribute columns. The id column defaults to feedid (feed_info.csv), else the dataset's item
column when the file has it, else the first column; every other column is an attribute unless
--columns names them. Lists are ';'-separated ('token weight' entries allowed); an attribute
imported again is replaced. Rows of items the dataset does not know are counted, not fatal.`;

export async function run(argv: string[]): Promise<number> {
  const { values, files: positionals } = parseCommandWithFiles(argv, { ...stringOptions('dataset', 'id-column', 'columns', 'delimiter'), ...JSON_OPTION });
  if (values.help) return printHelp(HELP);
  if (positionals.length !== 1) throw new Error(`give exactly one item FILE\n${HELP}`);
  const name = values.dataset;
  if (!name) throw new Error(`--dataset is required\n${HELP}`);
  return withDb(resolveDbPath(values.db), async (db) => {
    const dataset = getDataset(db, name);
    if (!dataset) throw new Error(`no dataset named '${name}'`);
    const r = await importItemAttributes(db, {
      datasetId: dataset.id,
      file: positionals[0],
      ...(values['id-column'] !== undefined ? { idColumn: values['id-column'] } : {}),
      ...(values.columns !== undefined ? { columns: values.columns.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
      ...(values.delimiter !== undefined ? { delimiter: values.delimiter === '\\t' ? '\t' : values.delimiter } : {}),
    });
    if (values.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return 0;
    }
    const out = [
      `${r.rows} rows, ${r.matched} items of '${dataset.name}' (id column ${r.idColumn}); ${r.missing} of its items have no row`,
      ...r.attributes.map((a) => `  ${a.name.padEnd(22)} ${a.kind.padEnd(13)} ${a.items} items, ${a.labels} labels${r.replaced.includes(a.name) ? ' (replaced)' : ''}`),
    ];
    if (r.unknown) out.push(`note: ${r.unknown} rows name items the dataset does not know (skipped), e.g. ${r.unknownExamples.join(', ')}`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  });
}
