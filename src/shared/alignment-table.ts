// Interest-alignment results as one table, for the CLI's text and CSV output and the run page's
// download: the columns are spelled once here.
import type { AlignmentResult } from './attributes.ts';

export const ALIGNMENT_COLUMNS = ['run', 'label', 'model', 'attribute', 'assigned by', 'interests', 'users', 'items', 'unlabelled', 'labels', 'NMI', 'purity', 'user NMI', 'user purity', 'chance NMI', 'chance user NMI', 'baseline'] as const;

/** One row of cells per result, numbers at 4 decimals. */
export function alignmentRows(results: AlignmentResult[]): string[][] {
  const f = (v: number): string => v.toFixed(4);
  return results.map((r) => [String(r.runId), r.label, r.model, r.attribute, r.assignment, String(r.numInterests), String(r.users), String(r.items), String(r.unlabelled), String(r.labels), f(r.pooled.nmi), f(r.pooled.purity), f(r.perUser.nmi), f(r.perUser.purity), f(r.chance.pooled.nmi), f(r.chance.perUser.nmi), f(r.majorityShare)]);
}

/** RFC 4180 CSV with a header line. */
export function alignmentCsv(results: AlignmentResult[]): string {
  const cell = (c: string): string => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  return [[...ALIGNMENT_COLUMNS], ...alignmentRows(results)].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
