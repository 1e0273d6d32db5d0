// The text alternative of a chart (its aria-label and a visually hidden table), derived from
// the chart's own option so every chart has one, and the layout rule that keeps a legend off
// the axis names. Plain functions over the option's data, tested under Node.

/** A chart's content as a table: a caption, column heads and one row per series. */
export interface ChartText {
  caption: string;
  columns: string[];
  rows: string[][];
}

interface SeriesLike {
  name?: unknown;
  data?: unknown;
}

/** Categories up to this many become columns of the table; longer axes are summarised. */
const MAX_CATEGORY_COLUMNS = 12;

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** The y value of a data item: a number, [x, y], or { value: number | [x, y] }. */
function yOf(item: unknown): number | null {
  const v = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as { value?: unknown }).value : item;
  const y = Array.isArray(v) ? v[1] : v;
  return typeof y === 'number' && Number.isFinite(y) ? y : null;
}

function xOf(item: unknown): number | null {
  const v = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as { value?: unknown }).value : item;
  return Array.isArray(v) && typeof v[0] === 'number' ? v[0] : null;
}

/** A number as a table shows it: 4 significant digits, thousands grouped for large ones. */
export function num(v: number | null): string {
  if (v === null) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(4)).toString();
}

/**
 * The table behind a chart. Series come from `option.series`; a category x axis with few
 * categories gives one column per category, anything else first, last, min and max per series.
 * `formatX` writes x values (a step, a time) where the table gives a range.
 */
export function describeChart(title: string, option: object, formatX: (x: number) => string = num): ChartText {
  const o = option as { series?: unknown; xAxis?: unknown };
  const series = asArray(o.series) as SeriesLike[];
  const categories = asArray(asArray(o.xAxis)[0] && (asArray(o.xAxis)[0] as { data?: unknown }).data).map(String);
  const named = series.filter((s) => s.name !== undefined);
  // Series of one name are one entry (a faint raw curve beside its smoothed one): keep the first.
  const seen = new Set<string>();
  const unique = named.filter((s) => !seen.has(String(s.name)) && (seen.add(String(s.name)), true));
  if (categories.length && categories.length <= MAX_CATEGORY_COLUMNS) {
    return {
      caption: title,
      columns: ['series', ...categories],
      rows: unique.map((s) => [String(s.name), ...categories.map((_, i) => num(yOf(asArray(s.data)[i])))]),
    };
  }
  return {
    caption: title,
    columns: ['series', 'points', 'from', 'to', 'first', 'last', 'min', 'max'],
    rows: unique.map((s) => {
      const data = asArray(s.data);
      const ys = data.map(yOf).filter((y): y is number => y !== null);
      const xs = data.map(xOf).filter((x): x is number => x !== null);
      const first = xs.length ? formatX(xs[0]) : categories[0] ?? '–';
      const last = xs.length ? formatX(xs[xs.length - 1]) : categories[data.length - 1] ?? '–';
      return [
        String(s.name),
        String(data.length),
        first,
        last,
        num(ys[0] ?? null),
        num(ys[ys.length - 1] ?? null),
        num(ys.length ? Math.min(...ys) : null),
        num(ys.length ? Math.max(...ys) : null),
      ];
    }),
  };
}

/** One sentence for aria-label: the title, then each series' last (or only) values. */
export function chartLabel(text: ChartText): string {
  if (!text.rows.length) return `${text.caption}: no data`;
  const lastCol = text.columns.indexOf('last');
  const parts = text.rows.map((r) =>
    lastCol >= 0 ? `${r[0]} last ${r[lastCol]} (${r[1]} points)` : `${r[0]}: ${text.columns.slice(1).map((c, i) => `${c} ${r[i + 1]}`).join(', ')}`,
  );
  return `${text.caption}. ${parts.join('; ')}.`;
}

interface AxisLike {
  name?: unknown;
  nameLocation?: unknown;
}

/**
 * Keeps a legend clear of the axis names: the legend is one scrolling line at the top, and a
 * y axis named at its top end gets the room above the plot below that line.
 */
export function withLegendRoom<T extends object>(option: T): T {
  const o = option as { legend?: unknown; yAxis?: unknown; grid?: unknown };
  if (!o.legend || Array.isArray(o.legend) || Array.isArray(o.grid)) return option;
  const namedAtTop = (asArray(o.yAxis) as AxisLike[]).some((a) => a.name && (a.nameLocation === undefined || a.nameLocation === 'end'));
  const grid = (o.grid ?? {}) as { top?: unknown };
  const top = typeof grid.top === 'number' ? grid.top : 60;
  return {
    ...option,
    legend: { type: 'scroll', top: 0, ...(o.legend as object) },
    grid: { ...grid, top: namedAtTop ? Math.max(top, 58) : top },
  } as T;
}
