// Real training batches for bench:train's `kuairand` shape: the bundled KuaiRand slice imported
// into an in-memory store, its default day split, and the training sampler with a model's
// default config, as a training run draws them (src/main/train/loop.ts).
import { writeFileSync } from 'node:fs';
import { importDataset } from '../src/main/import/index.ts';
import { openDb } from '../src/main/store/db.ts';
import { ensureSplit, loadSplit } from '../src/main/store/splits.ts';
import type { HostBatch, Sampler } from '../src/main/data/sampler.ts';
import { runSampler } from '../src/main/train/run-sampler.ts';
import type { SplitData } from '../src/main/data/split.ts';
import type { Config } from '../src/main/models/types.ts';

const SAMPLE = 'resources/sample/kuairand_likes_hates.tsv';

export async function kuairandSplit(): Promise<SplitData> {
  const db = openDb(':memory:');
  const { datasetId } = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kuairand' });
  const split = loadSplit(db, ensureSplit(db, datasetId!).id);
  db.close();
  return split;
}

export function kuairandSampler(split: SplitData, config: Config, needs: { views?: boolean; future?: boolean }, seed: number): Sampler {
  return runSampler(split, needs, config, seed);
}

/** The batches' contrastive views, positives and view negatives, for the PyTorch reference:
 *  per batch int32 views[0], views[1] [B, L], pos [B], viewNegs[0], viewNegs[1] [B]. */
export function writeViews(file: string, batches: HostBatch[]): void {
  const parts: Buffer[] = [];
  for (const b of batches) {
    if (!b.views || !b.viewNegs) throw new Error('writeViews: batches need contrastive views');
    for (const a of [b.views[0], b.views[1], b.pos, b.viewNegs[0], b.viewNegs[1]]) parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  writeFileSync(file, Buffer.concat(parts));
}

