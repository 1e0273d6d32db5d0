import { writeFileSync } from 'node:fs';
import { array, oneOf, optional } from '../../../shared/schema.ts';
import { BREAKDOWN_KINDS, SIGNIFICANCE_TESTS, TABLE_FORMATS, TABLE_METRICS } from '../../../shared/tables.ts';
import { breakdownTables, comparisonTable } from '../../report/compare-service.ts';
import { formatComparison } from '../../report/format.ts';
import { toBreakdownCsv } from '../../report/csv.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { listRuns, requireRun } from '../../store/runs.ts';
import { parseList } from '../../train/sets.ts';
import { parseCommand, printHelp, withDb } from '../options.ts';

const HELP = `usage: cmi-studio compare --dataset NAME [--k 10,20,50] [--metrics recall,hitrate,ndcg]
         [--format md|csv|latex|json] [--out FILE] [--runs ID,ID,...] [--group NAME]
         [--significance ttest|bootstrap|none] [--focus LABEL] [--all-configs]
         [--breakdown activity|popularity] [--db PATH]
One row per model: runs with the same model and config are one experiment; its distinct seeds are
averaged (mean ± std); by default each model is shown at its configuration with the best
validation recall@50 (--all-configs shows every one).
Metrics: ${TABLE_METRICS.join(', ')} (coverage, gini, tail, novelty, ild: beyond accuracy).
--breakdown: one table per bucket of users by test-history length (activity) or of target items
by training popularity (popularity); csv adds Bucket and Users columns; json prints an array
of {bucket, users, table}.`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    dataset: { type: 'string' },
    k: { type: 'string', default: '10,20,50' },
    metrics: { type: 'string', default: 'recall,hitrate,ndcg' },
    format: { type: 'string', default: 'md' },
    out: { type: 'string' },
    runs: { type: 'string' },
    group: { type: 'string' },
    significance: { type: 'string', default: 'ttest' },
    focus: { type: 'string' },
    'all-configs': { type: 'boolean', default: false },
    'select-by': { type: 'string', default: 'recall@50' },
    breakdown: { type: 'string' },
  });
  if (values.help) return printHelp(HELP);
  // The flags are checked by the schemas the API's compare methods use (shared/schema.ts).
  const format = oneOf(TABLE_FORMATS).parse(values.format, '--format');
  const metrics = array(oneOf(TABLE_METRICS)).parse(values.metrics.split(','), '--metrics');
  const by = optional(oneOf(BREAKDOWN_KINDS)).parse(values.breakdown, '--breakdown');
  const significance = oneOf(SIGNIFICANCE_TESTS).parse(values.significance, '--significance');
  const ks = parseList('--k', values.k)!;

  return withDb(resolveDbPath(values.db), (db) => {
    const runIds = parseList('--runs', values.runs);
    let runs;
    let title: string;
    if (runIds) {
      runs = runIds.map((id) => requireRun(db, id));
      title = `Runs ${runIds.join(', ')}`;
    } else {
      if (!values.dataset) throw new Error(`--dataset (or --runs) is required\n${HELP}`);
      const dataset = getDataset(db, values.dataset);
      if (!dataset) throw new Error(`no dataset named '${values.dataset}'`);
      runs = listRuns(db, { datasetId: dataset.id, group: values.group });
      title = `${dataset.name}: test day`;
    }
    const sel = { bestPerLabel: !values['all-configs'] && !runIds, selectBy: values['select-by'] };
    const opts = { metrics, ks, significance, ...(values.focus ? { focus: values.focus } : {}) };
    let text: string;
    if (by) {
      const tables = breakdownTables(db, runs, by, opts, sel, title);
      text = format === 'json' ? JSON.stringify(tables, null, 2) + '\n' : format === 'csv' ? toBreakdownCsv(tables) : tables.map((t) => formatComparison(t.table, format)).join('\n');
    } else {
      text = formatComparison(comparisonTable(db, runs, { ...opts, title }, sel), format);
    }
    if (values.out) {
      writeFileSync(values.out, text);
      process.stderr.write(`wrote ${values.out}\n`);
    } else {
      process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
    return 0;
  });
}
