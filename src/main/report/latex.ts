// LaTeX, ready to paste (needs \usepackage{booktabs}): a table float with grouped metric headers
// as in the paper, \textbf best, \underline second best, $^{*}$ significance marker, notes below.
import { cellText, improvementText } from './cells.ts';
import { METRIC_LABELS, type ComparisonTable, type TableCell } from '../../shared/tables.ts';
import { SIGNIFICANCE_MARK } from './table.ts';

/** Escapes LaTeX's special characters in free text (model labels, titles, notes). */
export function escapeLatex(s: string): string {
  const named: Record<string, string> = { '\\': '\\textbackslash{}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}', '<': '\\textless{}', '>': '\\textgreater{}' };
  return s.replace(/[\\&%$#_{}~^<>]/g, (c) => named[c] ?? `\\${c}`);
}

function texCell(c: TableCell, digits: number): string {
  const text = cellText(c, digits, '$\\pm$');
  const styled = c.rank === 1 ? `\\textbf{${text}}` : c.rank === 2 ? `\\underline{${text}}` : text;
  return c.significant ? `${styled}$^{${SIGNIFICANCE_MARK}}$` : styled;
}

function texNote(n: string): string {
  const text = escapeLatex(n).replace('±', '$\\pm$');
  return text.startsWith(SIGNIFICANCE_MARK) ? `$^{${SIGNIFICANCE_MARK}}$${text.slice(SIGNIFICANCE_MARK.length)}` : text;
}

export function toLatex(t: ComparisonTable): string {
  const groups: { label: string; from: number; to: number }[] = [];
  t.columns.forEach((c, i) => {
    const col = i + 3; // after Model and #I
    const last = groups[groups.length - 1];
    if (last && last.label === METRIC_LABELS[c.metric]) last.to = col;
    else groups.push({ label: METRIC_LABELS[c.metric], from: col, to: col });
  });
  const row = (cells: string[]): string => `    ${cells.join(' & ')} \\\\`;
  const caption = t.title ?? 'Recommendation accuracy. \\#I denotes the number of interests.';
  return [
    '% Requires \\usepackage{booktabs}',
    '\\begin{table}[t]',
    '  \\centering',
    `  \\caption{${t.title ? escapeLatex(caption) : caption}}`,
    `  \\begin{tabular}{l${'r'.repeat(t.columns.length + 1)}}`,
    '    \\toprule',
    row(['Model', '\\#I', ...groups.map((g) => `\\multicolumn{${g.to - g.from + 1}}{c}{${g.label}}`)]),
    `    ${groups.map((g) => `\\cmidrule(lr){${g.from}-${g.to}}`).join(' ')}`,
    row(['', '', ...t.columns.map((c) => `@${c.k}`)]),
    '    \\midrule',
    ...t.rows.map((r) => row([escapeLatex(r.label), String(r.interests), ...r.cells.map((c) => texCell(c, t.digits))])),
    '    \\midrule',
    row(['Improv.', '', ...t.summary.map((s) => improvementText(s.improvement, '\\%'))]),
    '    \\bottomrule',
    '  \\end{tabular}',
    '',
    `  \\vspace{2pt}{\\footnotesize ${t.notes.map(texNote).join(' ')}}`,
    '\\end{table}',
    '',
  ].join('\n');
}
