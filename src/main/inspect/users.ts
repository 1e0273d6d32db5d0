// Which test-day users of a run the inspector lists: searched by raw id, filtered by hit or
// miss, ordered by a per-user metric or the history length. Read from what the evaluation
// stored (run_user_metrics), so no model is rebuilt to list them.
import { requireModelAction } from '../../shared/run-actions.ts';
import type { InspectableUser, InspectUserList, InspectUserQuery } from '../../shared/types.ts';
import { findUserByRaw, searchUsersByRaw } from '../store/datasets.ts';
import type { Db } from '../store/db.ts';
import { requireRun } from '../store/runs.ts';
import { loadSplit } from '../store/splits.ts';
import { loadUserMetrics, userMetricNames } from '../store/user-metrics.ts';

export const DEFAULT_USER_METRIC = 'recall@50';
const DEFAULT_LIMIT = 50;

interface Listing {
  all: InspectableUser[];
  metric: string;
  metrics: string[];
}

/** Every test-day user of the run with its value of `metric` and whether its top K hit. */
function listAll(db: Db, runId: number, wanted: string | undefined): Listing {
  const run = requireRun(db, runId);
  requireModelAction(run, 'inspect');
  const metrics = userMetricNames(db, runId, 'test');
  const metric = wanted ?? (metrics.includes(DEFAULT_USER_METRIC) || !metrics.length ? DEFAULT_USER_METRIC : metrics[0]);
  const stored = loadUserMetrics(db, runId, 'test', metric);
  if (!stored && metrics.length) throw new Error(`run ${runId} has no per-user '${metric}'; it stored ${metrics.join(', ')}`);
  const k = /@(\d+)$/.exec(metric)?.[1] ?? '50';
  const hits = loadUserMetrics(db, runId, 'test', `hitrate@${k}`);
  const hitOf = new Map<number, boolean>();
  hits?.users.forEach((uid, i) => hitOf.set(uid, hits.values[i] > 0));
  const valueOf = new Map<number, number>();
  stored?.users.forEach((uid, i) => valueOf.set(uid, stored.values[i]));

  const split = loadSplit(db, run.splitId);
  const raws = new Map(searchUsersByRaw(db, run.datasetId, '', -1).map((u) => [u.uid, u.raw]));
  const all: InspectableUser[] = [];
  split.users.forEach((uid, u) => {
    if (split.test[u].length === 0 || (stored && !valueOf.has(uid))) return;
    all.push({
      uid,
      raw: raws.get(uid) ?? String(uid),
      historyLength: split.train[u].length + split.valid[u].length,
      targets: new Set(split.test[u]).size,
      value: valueOf.get(uid) ?? null,
      hit: hitOf.get(uid) ?? null,
    });
  });
  return { all, metric, metrics };
}

const SORTS: Record<NonNullable<InspectUserQuery['sort']>, (a: InspectableUser, b: InspectableUser) => number> = {
  raw: (a, b) => a.raw.localeCompare(b.raw, undefined, { numeric: true }),
  'metric-desc': (a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity),
  'metric-asc': (a, b) => (a.value ?? Infinity) - (b.value ?? Infinity),
  'history-desc': (a, b) => b.historyLength - a.historyLength,
  'history-asc': (a, b) => a.historyLength - b.historyLength,
};

/** The test-day users the query selects, in its order; ties by raw id. */
export function inspectableUsers(db: Db, runId: number, query: InspectUserQuery = {}): InspectUserList {
  const { all, metric, metrics } = listAll(db, runId, query.metric);
  const prefix = query.search?.trim() ?? '';
  const filter = query.filter ?? 'all';
  if (filter !== 'all' && all.some((u) => u.hit === null)) throw new Error(`run ${runId} stored no per-user hit rate at the K of ${metric}; filter by hit or miss needs it`);
  const chosen = all.filter((u) => u.raw.startsWith(prefix) && (filter === 'all' || u.hit === (filter === 'hit')));
  const order = SORTS[query.sort ?? 'raw'];
  chosen.sort((a, b) => order(a, b) || SORTS.raw(a, b));
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
  return { users: chosen.slice(0, limit), total: chosen.length, metric, metrics };
}

/** The test-day user with this raw id; says whether the id is unknown to the dataset or known
 *  but not evaluated on this run's test day. */
export function findInspectUser(db: Db, runId: number, rawId: string): InspectableUser {
  const raw = rawId.trim();
  if (!raw) throw new Error('give a raw user id to find');
  const run = requireRun(db, runId);
  const uid = findUserByRaw(db, run.datasetId, raw);
  if (uid === undefined) throw new Error(`no user with raw id '${raw}' in dataset ${run.datasetName}`);
  const user = listAll(db, runId, undefined).all.find((u) => u.uid === uid);
  if (!user) throw new Error(`user '${raw}' is in dataset ${run.datasetName} but not evaluated on the test day of run ${runId} (no test-day positive, or left out by the split)`);
  return user;
}
