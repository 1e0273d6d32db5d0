import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DatasetSummary, ImportProgress } from '../../../shared/types.ts';
import { importDataset } from '../../import/index.ts';
import { getDataset } from '../../store/datasets.ts';
import { openDb, resolveDbPath, type Db } from '../../store/db.ts';
import { progressView } from '../progress.ts';
import { formatTable } from './datasets.ts';

export const summary = 'import the bundled KuaiRand sample as dataset kuairand-demo and show it';

const HELP = `usage: cmi-studio demo [--db PATH] [--json]`;

export const DEMO_NAME = 'kuairand-demo';
const SAMPLE_FILE = join('resources', 'sample', 'kuairand_likes_hates.tsv');

/** The bundled sample: beside the sources (repository, tsx), else under the working directory. */
export function samplePath(): string {
  const candidates = [fileURLToPath(new URL(`../../../../${SAMPLE_FILE}`, import.meta.url)), join(process.cwd(), SAMPLE_FILE)];
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

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const db = openDb(resolveDbPath(values.db));
  const view = progressView();
  try {
    const d = await ensureDemoDataset(db, (p) => view.update(p));
    view.done();
    process.stdout.write(values.json ? JSON.stringify(d) + '\n' : formatTable([d]) + '\n');
    return 0;
  } finally {
    db.close();
  }
}
