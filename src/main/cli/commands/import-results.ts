import { importResults } from '../../eval/import-results.ts';
import { resolveDbPath } from '../../store/db.ts';
import { JSON_OPTION, parseCommandWithFiles, printHelp, stringOptions, withDb } from '../options.ts';
import { datasetAndSplit } from '../dataset-split.ts';

const HELP = `usage: cmi-studio import-results FILE --dataset NAME [--split ID] --label LABEL [--json] [--db PATH]
FILE: CSV or TSV with a header and columns user, item, rank (raw ids; rank 1 = best), one list
per test user of the split (e.g. from a system trained on \`cmi-studio export-split\` files).
The lists are scored as given (items of the user's history are not removed) at K = 10..200;
LABEL becomes a row of \`cmi-studio compare\`, with per-user values for the paired tests.
Without --split: the split with the default parameters.`;

export async function run(argv: string[]): Promise<number> {
  const { values, files: positionals } = parseCommandWithFiles(argv, { ...stringOptions('dataset', 'split', 'label'), ...JSON_OPTION });
  if (values.help) return printHelp(HELP);
  if (positionals.length !== 1) throw new Error(`give exactly one results FILE\n${HELP}`);
  if (!values.label) throw new Error(`--label is required\n${HELP}`);
  const file = positionals[0];
  return withDb(resolveDbPath(values.db), (db) => {
    const { split } = datasetAndSplit(db, values.dataset, values.split, HELP);
    const r = importResults(db, split, file, values.label!);
    if (r.withHistoryItems) process.stderr.write(`note: ${r.withHistoryItems} of ${r.users.length} lists hold items of the user's own history (scored as given)\n`);
    const summaryLine = { runId: r.runId, split: split.id, users: r.users.length, rows: r.rows, width: r.width, test: r.test };
    if (values.json) process.stdout.write(JSON.stringify(summaryLine) + '\n');
    else process.stdout.write(`run ${r.runId} '${values.label}': ${r.users.length} users, recall@50 ${r.test['recall@50']?.toFixed(4)}, hitrate@50 ${r.test['hitrate@50']?.toFixed(4)}, ndcg@50 ${r.test['ndcg@50']?.toFixed(4)}\n`);
    return 0;
  });
}
