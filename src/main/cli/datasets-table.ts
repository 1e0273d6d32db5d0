// The datasets as a plain-text table (cmi-studio datasets, demo): numbers right-aligned.
import type { DatasetSummary } from '../../shared/types.ts';

const COLUMNS: Array<[string, (d: DatasetSummary) => string]> = [
  ['id', (d) => String(d.id)],
  ['name', (d) => d.name],
  ['preset', (d) => d.preset],
  ['rows', (d) => d.rows.toLocaleString('en-US')],
  ['interactions', (d) => d.interactions.toLocaleString('en-US')],
  ['users', (d) => d.users.toLocaleString('en-US')],
  ['items', (d) => d.items.toLocaleString('en-US')],
  ['days', (d) => String(d.days)],
  ['time', (d) => d.timeKind],
  ['created', (d) => d.createdAt],
];
const NUMERIC = new Set(['id', 'rows', 'interactions', 'users', 'items', 'days']);

export function datasetsTable(datasets: DatasetSummary[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...datasets.map((d) => COLUMNS.map(([, f]) => f(d)))];
  const widths = COLUMNS.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  return cells
    .map((row) => row.map((cell, c) => (NUMERIC.has(COLUMNS[c][0]) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd())
    .join('\n');
}
