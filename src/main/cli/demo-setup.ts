// The demo's dataset and budget: the bundled KuaiRand sample imported once as `kuairand-demo`,
// and a training config small enough for minutes on a 2-core CPU. Shared by `cmi-studio demo`,
// the scripts and the tests that train on the sample.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetSummary, ImportProgress } from '../../shared/types.ts';
import { importDataset } from '../import/index.ts';
import type { Config } from '../models/types.ts';
import { getDataset } from '../store/datasets.ts';
import type { Db } from '../store/db.ts';

export const DEMO_GROUP = 'demo';

/** A budget that trains every model in minutes on a 2-core CPU; the paper settings are in docs/results.md. */
export const demoConfig: Config = { batchSize: 128, maxlen: 50, historyPool: 100, viewLen: 50, evalEvery: 20, patience: 3, checkpointEvery: 50 };

export const DEMO_NAME = 'kuairand-demo';
const SAMPLE_FILE = join('resources', 'sample', 'kuairand_likes_hates.tsv');

/** The bundled sample: beside the sources (repository, tsx), else under the working directory. */
export function samplePath(): string {
  const candidates = [fileURLToPath(new URL(`../../../${SAMPLE_FILE}`, import.meta.url)), join(process.cwd(), SAMPLE_FILE)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the bundled sample is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** The demo dataset, imported from the bundled sample on first use. */
export async function ensureDemoDataset(db: Db, onProgress?: (p: ImportProgress) => void): Promise<DatasetSummary> {
  const existing = getDataset(db, DEMO_NAME);
  if (existing) return existing;
  const r = await importDataset(db, { files: [samplePath()], preset: 'kuairand', name: DEMO_NAME }, { onProgress });
  const created = getDataset(db, r.datasetId ?? -1);
  if (!created) throw new Error('the demo import reported success but the dataset is missing');
  return created;
}
