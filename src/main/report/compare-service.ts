// What the compare screen asks of the core (through StudioApi): the table, its row labels for
// the current selection, breakdowns and per-user distributions. Arguments come from a transport,
// so their shapes are checked here.
import type { BreakdownRequest, BreakdownTable, CompareRequest, DistributionRequest } from '../../shared/api.ts';
import {
  BREAKDOWN_KINDS,
  SIGNIFICANCE_TESTS,
  TABLE_METRICS,
  type ComparisonTable,
  type UserDistribution,
} from '../../shared/tables.ts';
import { isOneOf } from '../../shared/one-of.ts';
import type { Db } from '../store/db.ts';
import { requireRun } from '../store/runs.ts';
import { loadSplit } from '../store/splits.ts';
import { breakdown, breakdownMetrics } from './breakdown.ts';
import { userDistributions } from './distribution.ts';
import { groupLabels, groupRuns, rowsFromRuns, type RunGroup } from './from-runs.ts';
import { buildTable, type TableOptions, type TableRow } from './table.ts';

const SELECTION = { bestPerLabel: false, selectBy: 'recall@50' };

function int(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** The chosen runs, each of which must have finished. */
function chosenRuns(db: Db, runIds: unknown) {
  if (!Array.isArray(runIds) || !runIds.length) throw new Error('pick at least one run to compare');
  return runIds.map((id) => {
    const run = requireRun(db, int(id, 'run id'));
    if (run.status !== 'done' || !run.test) throw new Error(`run ${run.id} (${run.label}) has no test metrics yet (status ${run.status})`);
    return run;
  });
}

function tableOptions(req: CompareRequest): TableOptions {
  const metrics = Array.isArray(req.metrics) ? req.metrics : [];
  if (!metrics.length || !metrics.every((m) => isOneOf(TABLE_METRICS, m))) throw new TypeError(`metrics must list some of ${TABLE_METRICS.join(', ')}`);
  const ks = (Array.isArray(req.ks) ? req.ks : []).map((k) => int(k, 'K'));
  if (!ks.length) throw new TypeError('give at least one K');
  if (!isOneOf(SIGNIFICANCE_TESTS, req.significance)) throw new TypeError(`significance must be ${SIGNIFICANCE_TESTS.join(', ')}`);
  if (req.focus !== undefined && typeof req.focus !== 'string') throw new TypeError('focus must be a string');
  if (req.title !== undefined && typeof req.title !== 'string') throw new TypeError('title must be a string');
  return { metrics, ks, significance: req.significance, ...(req.focus ? { focus: req.focus } : {}), ...(req.title ? { title: req.title } : {}) };
}

function tableRows(db: Db, runIds: unknown): TableRow[] {
  return rowsFromRuns(db, chosenRuns(db, runIds), SELECTION);
}

export function compareRuns(db: Db, req: CompareRequest): ComparisonTable {
  const opts = tableOptions(req);
  return buildTable(tableRows(db, req.runIds), opts);
}

function groupsOf(db: Db, runIds: unknown): { groups: RunGroup[]; labels: string[] } {
  const groups = groupRuns(chosenRuns(db, runIds), SELECTION);
  return { groups, labels: groupLabels(groups) };
}

/** The row labels a table of these runs has: what the proposed-model choice offers. */
export function compareLabels(db: Db, runIds: unknown): string[] {
  return groupsOf(db, runIds).labels;
}

export function compareBreakdown(db: Db, req: BreakdownRequest): BreakdownTable[] {
  if (!isOneOf(BREAKDOWN_KINDS, req.by)) throw new TypeError(`by must be ${BREAKDOWN_KINDS.join(' or ')}`);
  const opts = tableOptions(req);
  opts.metrics = breakdownMetrics(req.by, opts.metrics);
  const { groups, labels } = groupsOf(db, req.runIds);
  return breakdown(db, req.by, groups, labels, loadSplit(db, groups[0][0].splitId)).map((b) => ({
    bucket: b.label,
    users: b.users,
    table: buildTable(b.rows, { ...opts, title: `${b.label} (${b.users} users)` }),
  }));
}

export function compareDistributions(db: Db, req: DistributionRequest): UserDistribution[] {
  if (typeof req.metric !== 'string' || !/^[a-z]+@\d+$/.test(req.metric)) throw new TypeError('metric must be a name like recall@50');
  const { groups, labels } = groupsOf(db, req.runIds);
  return userDistributions(db, groups, labels, req.metric);
}
