// How the experiments list orders runs: one comparator for the store's listing (the API and the
// CLI) so `runs --sort steps` and a click on the Steps header give the same order.
import type { RunSummary } from './types.ts';

/** Columns a listing sorts by; a metric sorts as `valid:recall@50` or `test:ndcg@20`. */
export const RUN_SORT_COLUMNS = ['id', 'dataset', 'model', 'interests', 'seed', 'group', 'status', 'steps', 'time'] as const;
export type RunSortColumn = (typeof RUN_SORT_COLUMNS)[number];
export type RunSort = RunSortColumn | `${'valid' | 'test'}:${string}`;

const METRIC_SORT = /^(valid|test):[a-z]+@\d+$/;

export function isRunSort(v: unknown): v is RunSort {
  return typeof v === 'string' && ((RUN_SORT_COLUMNS as readonly string[]).includes(v) || METRIC_SORT.test(v));
}

export const RUN_SORT_HELP = `${RUN_SORT_COLUMNS.join(', ')}, or valid:METRIC / test:METRIC (e.g. test:recall@50)`;

type Key = number | string | null;

function key(r: RunSummary, sort: RunSort): Key {
  switch (sort) {
    case 'id': return r.id;
    case 'dataset': return r.datasetName;
    case 'model': return r.label;
    case 'interests': return r.interests;
    case 'seed': return r.seed;
    case 'group': return r.group;
    case 'status': return r.status;
    case 'steps': return r.steps;
    case 'time': return r.seconds;
    default: {
      const [phase, metric] = sort.split(':') as ['valid' | 'test', string];
      return r[phase]?.[metric] ?? null;
    }
  }
}

/** The runs in this order (a new array); ties by id. Runs without a value (a metric of an
 *  unfinished run, no set) come last in either direction: they are not the smallest. */
export function sortRuns(runs: readonly RunSummary[], sort: RunSort = 'id', desc = false): RunSummary[] {
  const keyed = runs.map((r) => ({ r, k: key(r, sort) }));
  keyed.sort((a, b) => {
    if (a.k === null || b.k === null) return a.k === b.k ? a.r.id - b.r.id : a.k === null ? 1 : -1;
    const c = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : String(a.k).localeCompare(String(b.k));
    return (desc ? -c : c) || a.r.id - b.r.id;
  });
  return keyed.map((x) => x.r);
}
