// Number and time formatting shared by the screens.
import type { ComparisonTable } from '../../../shared/tables.ts';
import type { Metrics } from '../../../shared/types.ts';

export function int(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US');
}

export function metric(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function bytes(n: number | null): string {
  if (n === null) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Metric names in reading order: recall, hitrate, ndcg, then others; by K within a family. */
export function metricNames(...sets: (Metrics | null | undefined)[]): string[] {
  const names = new Set<string>();
  for (const m of sets) for (const k of Object.keys(m ?? {})) names.add(k);
  const family = (n: string) => n.split('@')[0];
  const rank = (n: string) => {
    const r = ['recall', 'hitrate', 'ndcg'].indexOf(family(n));
    return r < 0 ? 99 : r;
  };
  const k = (n: string) => Number(n.split('@')[1] ?? 0);
  return [...names].sort((a, b) => rank(a) - rank(b) || family(a).localeCompare(family(b)) || k(a) - k(b));
}

/** "recall@50" -> "R@50", "hitrate@50" -> "HR@50", as the papers' tables write them. */
export function metricLabel(name: string): string {
  const [fam, k] = name.split('@');
  const short: Record<string, string> = { recall: 'R', hitrate: 'HR', ndcg: 'NDCG' };
  return k ? `${short[fam] ?? fam}@${k}` : name;
}

/** Lower-case words joined by '-', safe in a file name on every system. */
export function slug(s: string): string {
  return s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'table';
}

/** "kuairand-demo-test-recall-hitrate.md": the dataset, then the table's caption, or the test
 *  phase and its metrics, so exports of several tables do not all land as comparison.md. */
export function exportName(dataset: string, table: ComparisonTable, ext: string): string {
  const what = table.title ?? `test ${[...new Set(table.columns.map((c) => c.metric))].join(' ')}`;
  return `${slug(dataset)}-${slug(what)}.${ext}`;
}
