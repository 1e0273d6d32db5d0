// The demo's dataset and budget: the bundled KuaiRand sample imported once as `kuairand-demo`,
// and a training config small enough for minutes on a 2-core CPU. Shared by `cmi-studio demo`,
// the scripts and the tests that train on the sample.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetSummary, ImportProgress } from '../../shared/types.ts';
import { importDataset } from '../import/index.ts';
import { getModel, models } from '../models/registry.ts';
import type { Config } from '../models/types.ts';
import { getDataset } from '../store/datasets.ts';
import type { Db } from '../store/db.ts';

export const DEMO_GROUP = 'demo';

/**
 * The demo's budget: small batches and histories, so every run ends by early stopping within
 * minutes on a 2-core CPU, and a cap far above where runs stop, which no run should reach (a
 * guard against a run that never stalls, not a budget). Patience 10 at 20-step evaluations
 * waits 200 steps for a better validation Recall@50: with patience 3 the noisy curves at batch
 * 128 stopped CMI at step 380 (validation 0.099) instead of 1140 (0.185), and the table ranked
 * it below GRU4Rec and MIND, the opposite of the converged runs
 * (docs/results.md, "The demo comparison"). The paper settings are in docs/results.md.
 */
export const demoConfig: Config = { batchSize: 128, maxlen: 50, historyPool: 100, viewLen: 50, evalEvery: 20, patience: 10, checkpointEvery: 50, maxSteps: 20_000 };

/**
 * The models `demo` trains unless --models names some: every registered model, the longest runs
 * first, so that two at a time finish together (quiet-machine wall times at this budget,
 * docs/results.md "The demo comparison": DSSRec and OPAL ~2.5 min, Octopus, Re4 and CMI
 * 1-1.5 min, the rest under one).
 */
export const DEMO_MODELS = ['dssrec', 'opal', 'octopus', 're4', 'cmi', 'comirec-dr', 'comirec-sa', 'gru4rec', 'mind', 'pop'] as const;

/** The model names of --models: a comma list, `all`, or (undefined) DEMO_MODELS. */
export function demoModels(option: string | undefined): string[] {
  if (option === undefined) return [...DEMO_MODELS];
  if (option.trim() === 'all') return models.map((m) => m.name);
  return option.split(',').map((n) => getModel(n.trim()).name);
}

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
