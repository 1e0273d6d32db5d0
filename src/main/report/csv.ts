// CSV for spreadsheets: plain numbers at the table's precision (the JSON export keeps full
// precision), a std column per metric when a model has several runs, then the Improv. row and,
// with a test, the p-value row. Bold/underline have no CSV form.
import Papa from 'papaparse';
import { columnHeader, improvementText, numberText, pText } from './cells.ts';
import type { ComparisonTable } from '../../shared/tables.ts';

export function toCsv(t: ComparisonTable): string {
  const withStd = t.rows.some((r) => r.runs > 1);
  const header = ['Model', '#I', 'Runs', ...t.columns.flatMap((c) => (withStd ? [columnHeader(c), `${columnHeader(c)} std`] : [columnHeader(c)]))];
  const body = t.rows.map((r) => [
    r.label,
    String(r.interests),
    String(r.runs),
    ...r.cells.flatMap((c) => (withStd ? [numberText(c.mean, t.digits), c.std === null ? '' : c.std.toFixed(t.digits)] : [numberText(c.mean, t.digits)])),
  ]);
  const pad = (cells: string[]): string[] => (withStd ? cells.flatMap((c) => [c, '']) : cells);
  const extra = [['Improv.', '', '', ...pad(t.summary.map((s) => improvementText(s.improvement)))]];
  if (t.significance !== 'none') extra.push([`p (${t.significance})`, '', '', ...pad(t.summary.map((s) => pText(s.p)))]);
  return Papa.unparse([header, ...body, ...extra], { newline: '\n' }) + '\n';
}

/** Breakdown tables as one CSV: a Bucket and a Users column before each table's columns, one
 *  header for all (every bucket has the same columns). */
export function toBreakdownCsv(tables: { bucket: string; users: number; table: ComparisonTable }[]): string {
  const out: string[][] = [];
  tables.forEach(({ bucket, users, table }, i) => {
    const [header, ...rows] = Papa.parse<string[]>(toCsv(table).trim(), { skipEmptyLines: true }).data;
    if (i === 0) out.push(['Bucket', 'Users', ...header]);
    for (const r of rows) out.push([bucket, String(users), ...r]);
  });
  return Papa.unparse(out, { newline: '\n' }) + '\n';
}
