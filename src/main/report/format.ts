// One entry point for the exporters, and the JSON reader for saved tables.
import { toCsv } from './csv.ts';
import { toLatex } from './latex.ts';
import { toMarkdown } from './markdown.ts';
import type { ComparisonTable, TableFormat } from '../../shared/tables.ts';

export function formatComparison(table: ComparisonTable, format: TableFormat): string {
  switch (format) {
    case 'md':
      return toMarkdown(table);
    case 'csv':
      return toCsv(table);
    case 'latex':
      return toLatex(table);
    case 'json':
      // Every number in a table is finite or null, so JSON keeps it whole.
      return JSON.stringify(table, null, 2) + '\n';
  }
}

export function parseTableJson(text: string): ComparisonTable {
  const t = JSON.parse(text) as ComparisonTable;
  if (!Array.isArray(t.columns) || !Array.isArray(t.rows) || !Array.isArray(t.summary)) throw new Error('not a comparison table');
  return t;
}
