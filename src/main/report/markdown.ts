// Markdown (GitHub flavour): **best**, <u>second best</u>, an escaped \* marker, notes below.
import { cellText, columnHeader, improvementText } from './cells.ts';
import type { ComparisonTable, TableCell } from '../../shared/tables.ts';
import { SIGNIFICANCE_MARK } from './table.ts';

function escapeMd(s: string): string {
  return s.replace(/([\\`*_|<>[\]])/g, '\\$1');
}

function mdCell(c: TableCell, digits: number): string {
  const text = cellText(c, digits);
  const styled = c.rank === 1 ? `**${text}**` : c.rank === 2 ? `<u>${text}</u>` : text;
  return c.significant ? `${styled}\\${SIGNIFICANCE_MARK}` : styled;
}

export function toMarkdown(t: ComparisonTable): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const out: string[] = [];
  if (t.title) out.push(`**${escapeMd(t.title)}**`, '');
  out.push(line(['Model', '#I', ...t.columns.map(columnHeader)]));
  out.push(line([':--', '--:', ...t.columns.map(() => '--:')]));
  for (const r of t.rows) out.push(line([escapeMd(r.label), String(r.interests), ...r.cells.map((c) => mdCell(c, t.digits))]));
  // The #I cell stays empty: the row is about the metric columns, not a number of interests.
  out.push(line(['Improv.', '', ...t.summary.map((s) => improvementText(s.improvement))]));
  out.push('', ...t.notes.map((n) => `_${escapeMd(n)}_  `));
  return out.join('\n') + '\n';
}
