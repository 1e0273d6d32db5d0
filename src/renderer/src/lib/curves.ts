// What the curve panels plot, as plain functions (tested under Node): TensorBoard's smoothing,
// the x value of a point on each axis, and which runs and values an axis or a log scale can show.
import type { CurvePoint } from '../../../shared/types.ts';

export const X_AXES = ['step', 'relative', 'wall'] as const;
export type XAxis = (typeof X_AXES)[number];
export const X_AXIS_LABELS: Record<XAxis, string> = { step: 'step', relative: 'training time', wall: 'wall clock' };

/** One run's curves as the panels take them. */
export interface RunCurves {
  id: number;
  label: string;
  curves: CurvePoint[];
}

/**
 * TensorBoard's scalar smoothing: an exponential moving average with weight `w` in [0, 1),
 * debiased so the first points are not pulled towards 0 (TensorBoard's `classicSmoothing`,
 * webapp/widgets/line_chart_v2/data_transformer.ts: `last = last * w + (1 - w) * y`, shown as
 * `last / (1 - w^n)`). Non-finite values, and a constant series, pass through as they are.
 */
export function ema(values: number[], w: number): number[] {
  if (w <= 0 || values.every((v) => v === values[0])) return [...values];
  let last = 0;
  let n = 0;
  return values.map((y) => {
    if (!Number.isFinite(y)) return y;
    last = last * w + (1 - w) * y;
    n++;
    return last / (1 - w ** n);
  });
}

/** The point's position on the axis, or undefined when the point has no time recorded. */
export function xOf(p: CurvePoint, axis: XAxis): number | undefined {
  return axis === 'step' ? p.step : axis === 'relative' ? p.seconds : p.time;
}

/** [x, y] pairs of one term or metric of one run, points without a position on the axis left out. */
export function points(curves: CurvePoint[], kind: CurvePoint['kind'], name: string, axis: XAxis): [number, number][] {
  const out: [number, number][] = [];
  for (const p of curves) {
    if (p.kind !== kind || !(name in p.values)) continue;
    const x = xOf(p, axis);
    if (x !== undefined) out.push([x, p.values[name]]);
  }
  return out;
}

/** Runs that recorded no times (trained before times were kept): they have no time axis. */
export function untimedRuns(runs: RunCurves[], axis: XAxis): RunCurves[] {
  if (axis === 'step') return [];
  return runs.filter((r) => r.curves.length > 0 && r.curves.every((p) => xOf(p, axis) === undefined));
}

/** A log axis shows only positive values: false when any plotted value is 0 or below. */
export function logScalable(series: [number, number][][]): boolean {
  return series.every((s) => s.every(([, y]) => y > 0));
}

/** "1 h 02 min", "3 min 05 s", "42 s": an axis label for training seconds. */
export function secondsLabel(s: number): string {
  const t = Math.round(s);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${pad(t % 60)} s`;
  return `${Math.floor(t / 3600)} h ${pad(Math.floor((t % 3600) / 60))} min`;
}
