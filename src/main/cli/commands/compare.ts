import { writeFileSync } from 'node:fs';
import { isOneOf } from '../../../shared/one-of.ts';
import { BREAKDOWN_KINDS, SIGNIFICANCE_TESTS, TABLE_FORMATS, TABLE_METRICS, type TableMetric } from '../../../shared/tables.ts';
import { breakdown, breakdownMetrics } from '../../report/breakdown.ts';
import { buildTable } from '../../report/table.ts';
import { formatComparison } from '../../report/format.ts';
import { toBreakdownCsv } from '../../report/csv.ts';
import { groupLabels, groupRuns, rowsFromRuns } from '../../report/from-runs.ts';
import { loadSplit } from '../../store/splits.ts';
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
  const format = values.format;
  if (!isOneOf(TABLE_FORMATS, format)) throw new Error(`--format must be one of ${TABLE_FORMATS.join(', ')}`);
  const metrics = values.metrics.split(',');
  if (!metrics.every((m): m is TableMetric => isOneOf(TABLE_METRICS, m))) throw new Error(`--metrics takes ${TABLE_METRICS.join(', ')}`);
  const by = values.breakdown;
  if (by !== undefined && !isOneOf(BREAKDOWN_KINDS, by)) throw new Error(`--breakdown must be ${BREAKDOWN_KINDS.join(' or ')}`);
  const significance = values.significance;
  if (!isOneOf(SIGNIFICANCE_TESTS, significance)) throw new Error(`--significance must be ${SIGNIFICANCE_TESTS.join(', ')}`);
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
    const opts = { metrics, ks, significance, focus: values.focus };
    let text: string;
    if (by) {
      const groups = groupRuns(runs, sel);
      if (!groups.length) throw new Error('no finished runs to compare (train some with `cmi-studio train`)');
      const buckets = breakdown(db, by, groups, groupLabels(groups), loadSplit(db, groups[0][0].splitId));
      const shown = breakdownMetrics(by, metrics);
      const tables = buckets.map((b) => ({ bucket: b.label, users: b.users, table: buildTable(b.rows, { ...opts, metrics: shown, title: `${title}, ${b.label} (${b.users} users)` }) }));
      text = format === 'json' ? JSON.stringify(tables, null, 2) + '\n' : format === 'csv' ? toBreakdownCsv(tables) : tables.map((t) => formatComparison(t.table, format)).join('\n');
    } else {
      const rows = rowsFromRuns(db, runs, sel);
      if (!rows.length) throw new Error('no finished runs to compare (train some with `cmi-studio train`)');
      text = formatComparison(buildTable(rows, { ...opts, title }), format);
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
