// The one implementation of the StudioApi contract. Both hosts (Electron IPC and the browser
// host) call exactly this object; it never imports electron. Arguments arrive from a transport,
// so each method checks the shapes it relies on before touching the store.
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DatasetCharts, DirEntry, DirListing, StudioApi, StudioEvent } from '../shared/api.ts';
import { openDb, SCHEMA_VERSION, type Db } from './store/db.ts';
import { deleteRun, getRun, listRuns, runCurves } from './store/runs.ts';
import { sharedFields } from './train/config.ts';
import pkg from '../../package.json' with { type: 'json' };

export interface StudioService extends StudioApi {
  /** Subscribes to the event stream (import progress, training events); returns the unsubscribe. */
  onEvent(listener: (event: StudioEvent) => void): () => void;
  close(): void;
}

/** Thrown where a backend module has not landed yet, so screens say so instead of showing nothing. */
export class NotAvailableError extends Error {
  readonly code = 'not-available';
  constructor(feature: string) {
    super(`${feature} is not available yet in this build`);
  }
}

function int(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

async function listDir(path: string | undefined): Promise<DirListing> {
  const dir = resolve(path === undefined ? homedir() : str(path, 'path'));
  const dirents = await readdir(dir, { withFileTypes: true });
  const entries: DirEntry[] = [];
  for (const d of dirents) {
    const full = join(dir, d.name);
    // Follow symlinks so a linked data folder browses like a real one; skip dangling links.
    const info = await stat(full).catch(() => null);
    if (!info || (!info.isFile() && !info.isDirectory())) continue;
    entries.push({ name: d.name, path: full, kind: info.isDirectory() ? 'dir' : 'file', size: info.isFile() ? info.size : null });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = dirname(dir);
  return { path: dir, parent: parent === dir ? null : parent, entries };
}

const SEQ_BINS = 30;
const POPULARITY_POINTS = 2000;

function datasetCharts(db: Db, datasetId: number): DatasetCharts {
  const perDay = db
    .prepare(
      `SELECT day, COUNT(*) AS interactions, COUNT(DISTINCT user) AS users
       FROM interactions WHERE dataset_id = ? GROUP BY day ORDER BY day`,
    )
    .all(datasetId) as DatasetCharts['perDay'];

  const lengths = (
    db.prepare('SELECT COUNT(*) AS n FROM interactions WHERE dataset_id = ? GROUP BY user').all(datasetId) as { n: number }[]
  ).map((r) => r.n);
  const maxLen = lengths.reduce((m, n) => Math.max(m, n), 0);
  const width = Math.max(1, Math.ceil(maxLen / SEQ_BINS));
  const bins = Array.from({ length: Math.ceil(maxLen / width) }, (_, i) => ({ from: i * width + 1, to: (i + 1) * width, users: 0 }));
  for (const n of lengths) bins[Math.floor((n - 1) / width)].users++;

  const counts = (
    db
      .prepare('SELECT COUNT(*) AS n FROM interactions WHERE dataset_id = ? GROUP BY item ORDER BY n DESC')
      .all(datasetId) as { n: number }[]
  ).map((r) => r.n);
  // The long tail is drawn on log axes, so log-spaced ranks keep its shape with few points.
  const ranks = new Set<number>();
  if (counts.length <= POPULARITY_POINTS) counts.forEach((_, i) => ranks.add(i));
  else for (let k = 0; k < POPULARITY_POINTS; k++) ranks.add(Math.round(Math.exp((Math.log(counts.length) * k) / (POPULARITY_POINTS - 1))) - 1);
  const itemPopularity = [...ranks].sort((a, b) => a - b).map((i) => ({ rank: i + 1, count: counts[i] }));

  return { perDay, seqLengths: bins, itemPopularity, items: counts.length };
}

export function createApi(ctx: { dbPath: string }): StudioService {
  const db = openDb(ctx.dbPath);
  const listeners = new Set<(event: StudioEvent) => void>();
  const jobs = new Map<string, AbortController>();

  const requireRunSummary = (id: unknown) => {
    const run = getRun(db, int(id, 'run id'));
    if (!run) throw new Error(`no run with id ${String(id)}`);
    return run;
  };

  return {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      for (const job of jobs.values()) job.abort();
      db.close();
    },

    async appInfo() {
      return { version: pkg.version, dbPath: ctx.dbPath, schemaVersion: SCHEMA_VERSION };
    },
    listDir,

    async listDatasets() {
      throw new NotAvailableError('The dataset store (src/main/store/datasets.ts)');
    },
    async getDataset() {
      throw new NotAvailableError('The dataset store (src/main/store/datasets.ts)');
    },
    async deleteDataset() {
      throw new NotAvailableError('The dataset store (src/main/store/datasets.ts)');
    },
    async datasetCharts(id) {
      return datasetCharts(db, int(id, 'dataset id'));
    },

    async previewFile() {
      throw new NotAvailableError('The importer (src/main/import)');
    },
    async presetRule() {
      throw new NotAvailableError('The importer (src/main/import)');
    },
    async validateRule() {
      throw new NotAvailableError('The importer (src/main/import)');
    },
    async importDataset() {
      throw new NotAvailableError('The importer (src/main/import)');
    },
    async cancelJob(jobId) {
      jobs.get(str(jobId, 'jobId'))?.abort();
    },

    async listModels() {
      throw new NotAvailableError('The model registry (src/main/models/registry.ts)');
    },
    async sharedConfigFields() {
      return sharedFields;
    },

    async listRuns(query = {}) {
      return listRuns(db, {
        ...(query.datasetId !== undefined ? { datasetId: int(query.datasetId, 'datasetId') } : {}),
        ...(query.model !== undefined ? { model: str(query.model, 'model') } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.group !== undefined ? { group: str(query.group, 'group') } : {}),
      });
    },
    async getRun(id) {
      return requireRunSummary(id);
    },
    async deleteRun(id) {
      deleteRun(db, requireRunSummary(id).id);
    },
    async runCurves(id) {
      return runCurves(db, requireRunSummary(id).id);
    },
  };
}
