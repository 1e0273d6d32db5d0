// The dataset screen's charts: positives and active users per day, sequence lengths, item
// popularity. Computed in user-range chunks off the covering sequence index (cache.ts says why)
// and cached per dataset.
import type { DatasetCharts } from '../../shared/api.ts';
import { CHUNK_ROWS, DAY_SHIFT, readCache, writeCache, yieldToLoop } from './cache.ts';
import type { Db } from './db.ts';

const SEQ_BINS = 30;
const POPULARITY_POINTS = 2000;

export async function datasetCharts(db: Db, datasetId: number): Promise<DatasetCharts> {
  const cached = readCache<DatasetCharts>(db, 'charts', datasetId);
  if (cached) return cached;
  const counts = db.prepare('SELECT interactions FROM datasets WHERE id = ?').get(datasetId) as { interactions: number } | undefined;
  if (!counts) throw new Error(`no dataset with id ${datasetId}`);
  const maxId = (table: 'users' | 'items', col: 'uid' | 'iid'): number =>
    (db.prepare(`SELECT coalesce(max(${col}), 0) FROM ${table} WHERE dataset_id = ?`).pluck().get(datasetId) as number);
  const users = maxId('users', 'uid');

  const perUser = new Int32Array(users + 1);
  const perItem = new Int32Array(maxId('items', 'iid') + 1);
  const perDay: number[] = [];
  const usersPerDay: number[] = [];
  const lastUserOfDay: number[] = [];
  // Per chunk, two scans of the covering sequence index in the same (user) order: each user's
  // count, then each row's item and day packed into one value (DAY_SHIFT). A day's active
  // users are counted by noting the last user seen on it.
  const range = 'FROM interactions WHERE dataset_id = ? AND user >= ? AND user < ?';
  const lengths = db.prepare(`SELECT user, count(*) ${range} GROUP BY user ORDER BY user`).raw();
  const packed = db.prepare(`SELECT item + day * ${DAY_SHIFT} ${range} ORDER BY user`).pluck();
  const usersPerChunk = Math.max(1, Math.floor((CHUNK_ROWS * users) / Math.max(1, counts.interactions)));
  for (let lo = 1; lo <= users; lo += usersPerChunk) {
    const perUserHere = lengths.all(datasetId, lo, lo + usersPerChunk) as [number, number][];
    const values = packed.all(datasetId, lo, lo + usersPerChunk) as number[];
    let r = 0;
    for (const [user, n] of perUserHere) {
      perUser[user] = n;
      for (const end = r + n; r < end; r++) {
        const day = Math.floor(values[r] / DAY_SHIFT);
        perItem[values[r] - day * DAY_SHIFT]++;
        perDay[day] = (perDay[day] ?? 0) + 1;
        if (lastUserOfDay[day] !== user) {
          lastUserOfDay[day] = user;
          usersPerDay[day] = (usersPerDay[day] ?? 0) + 1;
        }
      }
    }
    await yieldToLoop();
  }
  if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId)) throw new Error(`no dataset with id ${datasetId}`);

  const days: DatasetCharts['perDay'] = [];
  perDay.forEach((n, day) => days.push({ day, interactions: n, users: usersPerDay[day] }));

  const maxLen = perUser.reduce((m, n) => Math.max(m, n), 0);
  const width = Math.max(1, Math.ceil(maxLen / SEQ_BINS));
  const bins = Array.from({ length: Math.ceil(maxLen / width) }, (_, i) => ({ from: i * width + 1, to: (i + 1) * width, users: 0 }));
  for (const n of perUser) if (n > 0) bins[Math.floor((n - 1) / width)].users++;

  const popularity = perItem.filter((n) => n > 0).sort().reverse();
  // The long tail is drawn on log axes, so log-spaced ranks keep its shape with few points.
  const ranks = new Set<number>();
  if (popularity.length <= POPULARITY_POINTS) popularity.forEach((_, i) => ranks.add(i));
  else for (let k = 0; k < POPULARITY_POINTS; k++) ranks.add(Math.round(Math.exp((Math.log(popularity.length) * k) / (POPULARITY_POINTS - 1))) - 1);
  const itemPopularity = [...ranks].sort((a, b) => a - b).map((i) => ({ rank: i + 1, count: popularity[i] }));

  const charts: DatasetCharts = { perDay: days, seqLengths: bins, itemPopularity, items: popularity.length };
  writeCache(db, 'charts', datasetId, charts);
  return charts;
}
