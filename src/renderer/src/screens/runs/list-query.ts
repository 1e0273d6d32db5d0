// The experiments list's filters as the address holds them (#/runs?model=cmi&sort=test:recall@50
// &desc=1): read back on load, so a reload or a shared link shows the same list. Unknown or
// malformed values are dropped, never sent to the host.
import { isOneOf } from '../../../../shared/one-of.ts';
import { isRunSort, type RunSort } from '../../../../shared/run-order.ts';
import { RUN_STATUSES, type RunQuery } from '../../../../shared/types.ts';

export const DEFAULT_METRIC = 'recall@50';

export interface ListView {
  query: RunQuery;
  /** The metric the two metric columns show (and a metric sort uses). */
  metric: string;
}

export function viewFromParams(p: Readonly<Record<string, string>>): ListView {
  const query: RunQuery = {};
  if (p.dataset !== undefined && /^\d+$/.test(p.dataset)) query.datasetId = Number(p.dataset);
  if (p.model) query.model = p.model;
  if (p.status !== undefined && isOneOf(RUN_STATUSES, p.status)) query.status = p.status;
  if (p.group) query.group = p.group;
  if (p.tag) query.tag = p.tag;
  if (p.q) query.search = p.q;
  if (p.sort !== undefined && isRunSort(p.sort)) query.sort = p.sort;
  if (p.desc === '1' && query.sort !== undefined) query.desc = true;
  return { query, metric: p.metric && /^[a-z]+@\d+$/.test(p.metric) ? p.metric : DEFAULT_METRIC };
}

export function paramsFromView(v: ListView): Record<string, string> {
  const q = v.query;
  const p: Record<string, string> = {};
  if (q.datasetId !== undefined) p.dataset = String(q.datasetId);
  if (q.model) p.model = q.model;
  if (q.status) p.status = q.status;
  if (q.group) p.group = q.group;
  if (q.tag) p.tag = q.tag;
  if (q.search) p.q = q.search;
  if (q.sort !== undefined && q.sort !== 'id') p.sort = q.sort;
  if (q.desc) p.desc = '1';
  if (v.metric !== DEFAULT_METRIC) p.metric = v.metric;
  return p;
}

/** A click on a column header: the same column flips the direction; another starts ascending,
 *  or descending for a metric (best first). */
export function nextSort(q: RunQuery, column: RunSort): Pick<RunQuery, 'sort' | 'desc'> {
  if ((q.sort ?? 'id') === column) return { sort: column, desc: !q.desc };
  return { sort: column, desc: column.includes(':') };
}
