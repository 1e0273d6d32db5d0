import { ALIGNMENT_COLUMNS, alignmentCsv, alignmentRows } from '../../../shared/alignment-table.ts';
import type { AlignmentResult } from '../../../shared/attributes.ts';
import { runAlignment } from '../../inspect/alignment.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { EXTERNAL_MODEL } from '../../../shared/run-actions.ts';
import { listRuns } from '../../store/runs.ts';
import { JSON_OPTION, parseCommand, printHelp, withDb } from '../options.ts';

const HELP = `usage: cmi-studio alignment (--run ID ... | --dataset NAME) --attribute NAME ... [--json | --csv] [--db PATH]
Interest alignment of finished runs against item attributes (import them with import-items):
each test user's history item gets one interest (CMI/OPAL: its implicit category; other models:
the interest whose vector scores the item highest), and NMI (arithmetic-mean normalisation) and
purity compare those interests with the items' labels, pooled over all users and averaged per
user. --dataset: every finished run of the dataset. See docs/protocol.md "## Interest alignment".`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    run: { type: 'string', multiple: true },
    dataset: { type: 'string' },
    attribute: { type: 'string', multiple: true },
    csv: { type: 'boolean', default: false },
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  const attributes = values.attribute ?? [];
  if (!attributes.length) throw new Error(`--attribute is required\n${HELP}`);
  return withDb(resolveDbPath(values.db), async (db) => {
    let ids: number[];
    if (values.run?.length) {
      ids = values.run.map((r) => {
        const id = Number(r);
        if (!Number.isInteger(id)) throw new Error(`--run expects a run id, got '${r}'`);
        return id;
      });
    } else if (values.dataset !== undefined) {
      const dataset = getDataset(db, values.dataset);
      if (!dataset) throw new Error(`no dataset named '${values.dataset}'`);
      ids = listRuns(db, { datasetId: dataset.id, status: 'done' }).filter((r) => r.model !== EXTERNAL_MODEL).map((r) => r.id);
      if (!ids.length) throw new Error(`dataset '${dataset.name}' has no finished run`);
    } else {
      throw new Error(`give --run ID or --dataset NAME\n${HELP}`);
    }
    const results: AlignmentResult[] = [];
    for (const id of ids) for (const attribute of attributes) results.push(await runAlignment(db, id, attribute));
    if (values.json) {
      process.stdout.write(JSON.stringify(results) + '\n');
      return 0;
    }
    if (values.csv) {
      process.stdout.write(alignmentCsv(results));
      return 0;
    }
    const head = [...ALIGNMENT_COLUMNS];
    const rows = alignmentRows(results);
    const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join('  ').trimEnd();
    process.stdout.write([line(head), ...rows.map(line)].join('\n') + '\n');
    return 0;
  });
}
