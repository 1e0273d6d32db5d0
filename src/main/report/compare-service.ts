// Comparison tables from stored runs, for the compare screen (through StudioApi) and for
// `cmi-studio compare`: the table, its row labels for the current selection, breakdowns by
// user activity or item popularity, and per-user distributions. Argument shapes are checked by
// their schemas (shared/api-args.ts, in dispatch() or by the CLI); what is checked here is
// what only the store can tell (the runs exist and finished) and what a shape cannot say.
import type { BreakdownRequest, BreakdownTable, CompareRequest, DistributionRequest } from '../../shared/api.ts';
import type { BreakdownKind, ComparisonTable, UserDistribution } from '../../shared/tables.ts';
import type { RunSummary } from '../../shared/types.ts';
import type { Db } from '../store/db.ts';
import { requireRun } from '../store/runs.ts';
import { loadSplit } from '../store/splits.ts';
import { breakdown, breakdownMetrics } from './breakdown.ts';
import { userDistributions } from './distribution.ts';
import { groupLabels, groupRuns, rowsFromRuns, type RowSelection } from './from-runs.ts';
import { buildTable, type TableOptions } from './table.ts';

/** Runs picked by hand: every one is a row of its own (no best-configuration pick). */
const PICKED: RowSelection = { bestPerLabel: false, selectBy: 'recall@50' };

const NOTHING_FINISHED = 'no finished runs to compare (train some with `cmi-studio train`)';

/** The chosen runs, each of which must have finished. */
function chosenRuns(db: Db, runIds: number[]): RunSummary[] {
  if (!runIds.length) throw new Error('pick at least one run to compare');
  return runIds.map((id) => {
    const run = requireRun(db, id);
    if (run.status !== 'done' || !run.test) throw new Error(`run ${run.id} (${run.label}) has no test metrics yet (status ${run.status})`);
    return run;
  });
}

function tableOptions(req: CompareRequest): TableOptions {
  if (!req.metrics.length) throw new TypeError('metrics must list at least one metric');
  if (!req.ks.length) throw new TypeError('give at least one K');
  return { metrics: req.metrics, ks: req.ks, significance: req.significance, ...(req.focus ? { focus: req.focus } : {}), ...(req.title ? { title: req.title } : {}) };
}

/** The table of `runs` (unfinished ones are left out). */
export function comparisonTable(db: Db, runs: RunSummary[], opts: TableOptions, sel: RowSelection): ComparisonTable {
  const rows = rowsFromRuns(db, runs, sel);
  if (!rows.length) throw new Error(NOTHING_FINISHED);
  return buildTable(rows, opts);
}

/** One table per bucket of users; each title names the bucket, after `title` when given. */
export function breakdownTables(db: Db, runs: RunSummary[], by: BreakdownKind, opts: TableOptions, sel: RowSelection, title?: string): BreakdownTable[] {
  const groups = groupRuns(runs, sel);
  if (!groups.length) throw new Error(NOTHING_FINISHED);
  const metrics = breakdownMetrics(by, opts.metrics);
  return breakdown(db, by, groups, groupLabels(groups), loadSplit(db, groups[0][0].splitId)).map((b) => ({
    bucket: b.label,
    users: b.users,
    table: buildTable(b.rows, { ...opts, metrics, title: `${title ? `${title}, ` : ''}${b.label} (${b.users} users)` }),
  }));
}

export function compareRuns(db: Db, req: CompareRequest): ComparisonTable {
  const opts = tableOptions(req); // a bad request fails before the store is read
  return comparisonTable(db, chosenRuns(db, req.runIds), opts, PICKED);
}

/** The row labels a table of these runs has: what the proposed-model choice offers. */
export function compareLabels(db: Db, runIds: number[]): string[] {
  return groupLabels(groupRuns(chosenRuns(db, runIds), PICKED));
}

export function compareBreakdown(db: Db, req: BreakdownRequest): BreakdownTable[] {
  const opts = tableOptions(req);
  return breakdownTables(db, chosenRuns(db, req.runIds), req.by, opts, PICKED);
}

export function compareDistributions(db: Db, req: DistributionRequest): UserDistribution[] {
  // The schema says a string; only its form is left to check.
  if (!/^[a-z]+@\d+$/.test(req.metric)) throw new TypeError('metric must be a name like recall@50');
  const groups = groupRuns(chosenRuns(db, req.runIds), PICKED);
  return userDistributions(db, groups, groupLabels(groups), req.metric);
}
