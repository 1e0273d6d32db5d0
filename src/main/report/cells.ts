// Text of table cells, shared by the exporters so every format shows the same numbers.
import { METRIC_LABELS, type TableCell, type TableColumn } from '../../shared/tables.ts';

/** Shown for a metric a model does not have. */
export const MISSING = '-';
/** Shown where Improv. is undefined, as in the paper. */
export const UNDEFINED = '/';

export function numberText(v: number | null, digits: number): string {
  return v === null ? MISSING : v.toFixed(digits);
}

/** "0.1342", or "0.1342 ± 0.0021" over several runs; `pm` is the plus-minus sign of the format. */
export function cellText(cell: TableCell, digits: number, pm = '±'): string {
  const mean = numberText(cell.mean, digits);
  return cell.std === null || cell.mean === null ? mean : `${mean} ${pm} ${cell.std.toFixed(digits)}`;
}

export function improvementText(v: number | null, percent = '%'): string {
  return v === null ? UNDEFINED : `${v.toFixed(2)}${percent}`;
}

export function columnHeader(c: TableColumn): string {
  return `${METRIC_LABELS[c.metric]}@${c.k}`;
}

export function pText(p: number | null): string {
  return p === null ? MISSING : p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}
