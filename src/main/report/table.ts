// Comparison tables in the style of the CMI paper's Table 1: one row per model, mean (± std over
// seeds) per metric column, best bold and second best underlined, an "Improv." row, and a
// significance marker on the best cell when it beats the runner-up under a paired test.
import { sampleStandardDeviation } from 'simple-statistics';
import type { Metrics } from '../../shared/types.ts';
import type { ColumnSummary, ComparisonTable, SignificanceTest, TableCell, TableColumn, TableMetric } from '../../shared/tables.ts';
import { pairByUser, pairedBootstrap, pairedTTest } from '../eval/significance.ts';

/** Per-user metric values of a model, aligned with `users` (dataset uids). */
export interface PerUserValues {
  users: Int32Array;
  values: Record<string, ArrayLike<number>>;
}

export interface TableRow {
  label: string;
  interests: number;
  /** The metrics of each run of this model (one per seed). */
  runs: Metrics[];
  /** For the significance test; with several seeds, their per-user mean (see meanPerUser). */
  perUser?: PerUserValues;
}

export interface TableOptions {
  metrics: TableMetric[];
  ks: number[];
  significance: SignificanceTest;
  /** The proposed model the Improv. row is about (the paper's CMI); default: each column's best. */
  focus?: string;
  /** Significance level of the marker (0.05). */
  alpha?: number;
  /** Decimals shown (4, as the paper); ranks compare the values as shown. */
  digits?: number;
  title?: string;
  /** Bootstrap resamples (10,000) and seed (0). */
  resamples?: number;
  seed?: number;
}

/** Marks the best cell of a column whose difference to the runner-up is significant. */
export const SIGNIFICANCE_MARK = '*';
/** Metrics where less is better (a Gini index near 0 spreads the recommendations evenly). */
export const lowerIsBetter: ReadonlySet<TableMetric> = new Set<TableMetric>(['gini']);
const testNames: Record<Exclude<SignificanceTest, 'none'>, string> = {
  ttest: 'two-sided paired t-test',
  bootstrap: 'two-sided paired bootstrap',
};

/** Dense ranks on the values as displayed: equal shown values share a rank, the next distinct
 *  value gets the next rank (two tied bests are both bold, the following value underlined). */
function denseRanks(values: (number | null)[], digits: number, sign: 1 | -1): (1 | 2 | null)[] {
  const shown = values.map((v) => (v === null ? null : Number(v.toFixed(digits))));
  const distinct = [...new Set(shown.filter((v): v is number => v !== null))].sort((a, b) => sign * (b - a));
  return shown.map((v) => (v === null ? null : v === distinct[0] ? 1 : v === distinct[1] ? 2 : null));
}

/** The row with the best mean among `candidates` (ties: earlier row); sign -1: lowest wins. */
function argBest(means: (number | null)[], candidates: number[], sign: 1 | -1): number | null {
  let best: number | null = null;
  for (const i of candidates) if (means[i] !== null && (best === null || sign * ((means[i] as number) - (means[best] as number)) > 0)) best = i;
  return best;
}

function testPair(a: PerUserValues | undefined, b: PerUserValues | undefined, key: string, opts: TableOptions): { p: number; users: number } | null {
  if (opts.significance === 'none' || !a || !b || !a.values[key] || !b.values[key]) return null;
  const pair = pairByUser({ users: a.users, values: a.values[key] }, { users: b.users, values: b.values[key] });
  const r = opts.significance === 'ttest' ? pairedTTest(pair.a, pair.b) : pairedBootstrap(pair.a, pair.b, { resamples: opts.resamples, seed: opts.seed });
  return Number.isNaN(r.p) ? null : { p: r.p, users: r.n };
}

export function buildTable(rows: TableRow[], opts: TableOptions): ComparisonTable {
  const digits = opts.digits ?? 4;
  const alpha = opts.alpha ?? 0.05;
  const focusIndex = opts.focus === undefined ? null : rows.findIndex((r) => r.label === opts.focus);
  if (focusIndex === -1) throw new Error(`focus model '${opts.focus}' is not a row of the table`);
  const columns: TableColumn[] = opts.metrics.flatMap((metric) => opts.ks.map((k) => ({ key: `${metric}@${k}`, metric, k })));
  const cells: TableCell[][] = rows.map(() => []);
  const summary: ColumnSummary[] = [];

  columns.forEach(({ key, metric }) => {
    const sign = lowerIsBetter.has(metric) ? -1 : 1;
    const means: (number | null)[] = rows.map((row) => {
      const vals = row.runs.map((m) => m[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    });
    const ranks = denseRanks(means, digits, sign);
    const top = ranks.flatMap((r, i) => (r === 1 ? [i] : []));
    const best = top.length === 1 ? top[0] : null;
    const others = (i: number | null) => rows.map((_, j) => j).filter((j) => j !== i);
    const runnerUp = best === null ? null : argBest(means, others(best), sign);
    // Improv. is about the focus model when there is one, wherever it stands (negative when it
    // trails the best other model); without one, about the single best model.
    const subject = focusIndex ?? best;
    const bestOther = subject === null ? null : argBest(means, others(subject), sign);
    const improvement =
      subject !== null && means[subject] !== null && bestOther !== null && (means[bestOther] as number) > 0
        ? ((sign * ((means[subject] as number) - (means[bestOther] as number))) / (means[bestOther] as number)) * 100
        : null;
    const tested = best !== null && runnerUp !== null ? testPair(rows[best].perUser, rows[runnerUp].perUser, key, opts) : null;
    summary.push({ best, runnerUp, improvement, p: tested?.p ?? null, users: tested?.users ?? null });
    rows.forEach((row, i) => {
      const vals = row.runs.map((m) => m[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      cells[i].push({
        mean: means[i],
        std: vals.length >= 2 ? sampleStandardDeviation(vals) : null,
        rank: ranks[i],
        significant: i === best && tested !== null && tested.p < alpha,
      });
    });
  });

  const notes = ['Bold: best in each column; underlined: second best; values equal at the shown precision share a rank.'];
  if (rows.some((r) => r.runs.length > 1)) notes.push('Mean ± sample standard deviation over the runs (seeds) of a model.');
  notes.push(
    focusIndex !== null
      ? `Improv.: ${rows[focusIndex].label} over the best other model (negative where ${rows[focusIndex].label} trails it).`
      : 'Improv.: the best model over the best other model; / where no single model is best.',
  );
  if (columns.some((c) => lowerIsBetter.has(c.metric))) notes.push('Gini: lower is better (bold = lowest; Improv. counts a lower value as a gain).');
  if (opts.significance !== 'none') {
    notes.push(`${SIGNIFICANCE_MARK}: the best model differs from the runner-up at p < ${alpha} (${testNames[opts.significance]} over per-user values; several seeds: per-user means).`);
  }
  return {
    title: opts.title ?? null,
    columns,
    rows: rows.map((r, i) => ({ label: r.label, interests: r.interests, runs: r.runs.length, cells: cells[i] })),
    summary,
    significance: opts.significance,
    alpha,
    digits,
    focus: focusIndex === null ? null : rows[focusIndex].label,
    notes,
  };
}

/** Per-user mean over several runs (seeds) of one model, on the users all of them evaluated. */
export function meanPerUser(runs: PerUserValues[]): PerUserValues | undefined {
  if (runs.length === 0) return undefined;
  if (runs.length === 1) return runs[0];
  const common = runs
    .slice(1)
    .reduce((users, r) => {
      const has = new Set(r.users);
      return users.filter((u) => has.has(u));
    }, Array.from(runs[0].users))
    .sort((a, b) => a - b);
  const keys = Object.keys(runs[0].values).filter((k) => runs.every((r) => r.values[k] !== undefined));
  const values: Record<string, Float64Array> = {};
  for (const key of keys) {
    const sum = new Float64Array(common.length);
    for (const r of runs) {
      const at = new Map<number, number>();
      r.users.forEach((u, i) => at.set(u, i));
      common.forEach((u, j) => (sum[j] += r.values[key][at.get(u)!]));
    }
    values[key] = sum.map((s) => s / runs.length);
  }
  return { users: Int32Array.from(common), values };
}
