// The curve panels' arithmetic (src/renderer/src/lib/curves.ts) and the charts' text
// alternatives and legend room (lib/chart-text.ts), which run in the page; plain functions here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CurvePoint } from '../../src/shared/types.ts';
import { chartLabel, describeChart, withLegendRoom } from '../../src/renderer/src/lib/chart-text.ts';
import { ema, logScalable, points, secondsLabel, untimedRuns } from '../../src/renderer/src/lib/curves.ts';
import { exportName, slug } from '../../src/renderer/src/lib/format.ts';

test('smoothing is the debiased exponential moving average TensorBoard draws', () => {
  const ys = [3, 1, 4, 1, 5, 9, 2, 6];
  const w = 0.6;
  // The debiased EMA at n is the mean of the first n values weighted w^(n-1-i), written out.
  const explicit = ys.map((_, n) => {
    let num = 0;
    let den = 0;
    for (let i = 0; i <= n; i++) {
      num += w ** (n - i) * ys[i];
      den += w ** (n - i);
    }
    return num / den;
  });
  ema(ys, w).forEach((v, i) => assert.ok(Math.abs(v - explicit[i]) < 1e-12, `point ${i}: ${v} vs ${explicit[i]}`));
  assert.ok(Math.abs(ema(ys, w)[0] - ys[0]) < 1e-12, 'the first point is not pulled towards 0');
  assert.deepEqual(ema(ys, 0), ys, 'weight 0 leaves the curve raw');
  assert.deepEqual(ema([0.1, 0.1, 0.1], 0.9), [0.1, 0.1, 0.1], 'a constant curve stays exactly constant');
  const withNaN = ema([1, NaN, 3], 0.5);
  assert.ok(Number.isNaN(withNaN[1]), 'a non-finite value passes through');
  assert.ok(Math.abs(withNaN[2] - (0.5 * 1 + 3) / 1.5) < 1e-12, 'and does not enter the average');
  // Heavier smoothing moves less: the smoothed range shrinks as the weight grows.
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
  assert.ok(spread(ema(ys, 0.9)) < spread(ema(ys, 0.3)) && spread(ema(ys, 0.3)) < spread(ys));
});

test('each axis places the points that have a position on it; runs without times are named', () => {
  const timed: CurvePoint[] = [
    { step: 5, kind: 'train', values: { main: 2, unif: -1 }, seconds: 1.5, time: 1000 },
    { step: 10, kind: 'train', values: { main: 1.5, unif: -2 }, seconds: 3, time: 2500 },
    { step: 10, kind: 'valid', values: { 'recall@50': 0.1 }, seconds: 4, time: 3000 },
  ];
  const old: CurvePoint[] = [{ step: 5, kind: 'train', values: { main: 2.5 } }];
  assert.deepEqual(points(timed, 'train', 'main', 'step'), [[5, 2], [10, 1.5]]);
  assert.deepEqual(points(timed, 'train', 'main', 'relative'), [[1.5, 2], [3, 1.5]]);
  assert.deepEqual(points(timed, 'valid', 'recall@50', 'wall'), [[3000, 0.1]]);
  assert.deepEqual(points(old, 'train', 'main', 'wall'), [], 'an old point has no wall-clock position');
  const runs = [{ id: 1, label: 'new', curves: timed }, { id: 2, label: 'old', curves: old }];
  assert.deepEqual(untimedRuns(runs, 'step'), []);
  assert.deepEqual(untimedRuns(runs, 'relative').map((r) => r.label), ['old']);
  assert.equal(logScalable([points(timed, 'train', 'main', 'step')]), true);
  assert.equal(logScalable([points(timed, 'train', 'unif', 'step')]), false, 'uniformity loss is negative: no log axis');
  assert.equal(secondsLabel(42), '42 s');
  assert.equal(secondsLabel(185), '3 min 05 s');
  assert.equal(secondsLabel(3720), '1 h 02 min');
});

test('every chart has a text alternative built from its own series', () => {
  // A bar chart over few categories: one column per category.
  const bars = describeChart('Recall', {
    xAxis: { type: 'category', data: ['@10', '@20'] },
    series: [{ type: 'bar', name: 'CMI', data: [0.1234567, 0.2] }, { type: 'bar', name: 'MIND', data: [0.05, null] }],
  });
  assert.deepEqual(bars, { caption: 'Recall', columns: ['series', '@10', '@20'], rows: [['CMI', '0.1235', '0.2'], ['MIND', '0.05', '–']] });
  // A line chart of [x, y] points, a raw and a smoothed series of one run counted once.
  const line = describeChart('Loss', {
    xAxis: { type: 'value' },
    series: [
      { type: 'line', name: '#1 CMI', data: [[5, 3], [10, 1], [15, 2]] },
      { type: 'line', name: '#1 CMI', data: [[5, 3], [10, 2], [15, 2]] },
    ],
  }, (x) => `step ${x}`);
  assert.deepEqual(line.columns, ['series', 'points', 'from', 'to', 'first', 'last', 'min', 'max']);
  assert.deepEqual(line.rows, [['#1 CMI', '3', 'step 5', 'step 15', '3', '2', '1', '3']]);
  assert.equal(chartLabel(line), 'Loss. #1 CMI last 2 (3 points).');
  assert.equal(chartLabel(describeChart('Empty', { series: [] })), 'Empty: no data');
});

test('a legend gets its own line above a y axis named at its top', () => {
  const named = withLegendRoom({ legend: { top: 0 }, grid: { top: 40, left: 56 }, yAxis: { type: 'value', name: 'users' } });
  assert.deepEqual(named.legend, { type: 'scroll', top: 0 });
  assert.ok(named.grid.top >= 58, 'the axis name sits below the legend line');
  const middle = withLegendRoom({ legend: {}, grid: { top: 36 }, yAxis: { name: 'loss', nameLocation: 'middle' } });
  assert.equal(middle.grid.top, 36, 'a name at the middle of the axis needs no room above');
  const none = { grid: { top: 10 }, yAxis: { name: 'x' } };
  assert.equal(withLegendRoom(none), none, 'no legend, nothing changes');
});

test('exports are named after the dataset and the table', () => {
  const table = (title: string | null, metrics: string[]) => ({ title, columns: metrics.map((metric) => ({ metric })) }) as unknown as Parameters<typeof exportName>[1];
  assert.equal(exportName('kuairand-demo', table(null, ['recall', 'recall', 'hitrate']), 'md'), 'kuairand-demo-test-recall-hitrate.md');
  assert.equal(exportName('WeChat Channels', table('Table 2: Main results (#I = 4)', ['recall']), 'tex'), 'wechat-channels-table-2-main-results-i-4.tex');
  assert.equal(slug('Ünïcode / ünsafe:*?'), 'unicode-unsafe');
});
