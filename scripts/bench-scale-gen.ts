// TakaTak-shaped interactions for scripts/bench-scale.ts: user,item,day rows, every one a
// positive, grouped by user and by day within a user. Activity and popularity are skewed like
// the WeChat generator's (test/import/fixtures/wechat-gen.ts); deterministic from the seed.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rng } from '../test/import/fixtures/wechat-gen.ts';

export interface TakatakGenOptions {
  users: number;
  items: number;
  rows: number;
  days: number;
  seed: number;
}

export async function writeTakatak(path: string, opts: TakatakGenOptions): Promise<number> {
  const rand = rng(opts.seed);
  const weights = Float64Array.from({ length: opts.users }, () => Math.pow(rand(), 2) + 0.02);
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = Int32Array.from(weights, (w) => Math.max(1, Math.floor((w / total) * opts.rows)));
  const out = createWriteStream(path);
  let chunk = 'user_id,item_id,day\n';
  let rows = 0;
  for (let u = 0; u < opts.users; u++) {
    const days = Int32Array.from({ length: counts[u] }, () => 1 + Math.floor(rand() * opts.days)).sort();
    for (const day of days) {
      // Squares favour low indexes: a long tail of rarely seen items.
      const item = 1 + Math.floor(Math.pow(rand(), 1.6) * opts.items);
      chunk += `${u + 1},${item},${day}\n`;
      rows++;
    }
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return rows;
}
