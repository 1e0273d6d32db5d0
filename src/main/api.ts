// The one implementation of the StudioApi contract. Both hosts (Electron IPC and the browser
// host) call exactly this object; it never imports electron. Arguments arrive from a transport,
// so each method checks the shapes it relies on before touching the store.
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type {
  DirEntry,
  DirListing,
  ImportDefaults,
  StudioApi,
  StudioEvent,
  TrainRequest,
} from '../shared/api.ts';
import { isOneOf } from '../shared/one-of.ts';
import { TABLE_FORMATS } from '../shared/tables.ts';
import type { DatasetSummary, ImportPreset, ImportRequest } from '../shared/types.ts';
import { importDataset, previewFile, presetRule, RuleError, validateRule } from './import/index.ts';
import { JOINED_COLUMN } from './import/plan.ts';
import { isFeedInfoHeader, PRESETS } from './import/presets.ts';
import { datasetCharts } from './store/charts.ts';
import { deleteDataset, getDataset, listDatasets } from './store/datasets.ts';
import { openDb, SCHEMA_VERSION } from './store/db.ts';
import { deleteRun, listRuns, requireRun, runCurves } from './store/runs.ts';
import { runTagCounts, setRunNote, setRunTags } from './store/run-notes.ts';
import { diffRuns, runConfig } from './report/run-diff.ts';
import { findInspectUser, inspectableUsers } from './inspect/users.ts';
import { requireModelAction } from '../shared/run-actions.ts';
import { writeWhenFree } from './store/busy.ts';
import { ensureSplitInSteps, getSplitSummary, listSplits, splitStats } from './store/splits.ts';
import { formatComparison } from './report/format.ts';
import { compareBreakdown, compareDistributions, compareLabels, compareRuns } from './report/compare-service.ts';
import { sharedFields } from './models/config.ts';
import { parseConcurrency, TrainingQueue } from './train/queue.ts';
import pkg from '../../package.json' with { type: 'json' };

export interface StudioService extends StudioApi {
  /** Subscribes to the event stream (import progress, training events); returns the unsubscribe. */
  onEvent(listener: (event: StudioEvent) => void): () => void;
  close(): void;
}

function int(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function strings(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new TypeError(`${name} must be a list of strings`);
  return v;
}

function preset(v: unknown): ImportPreset {
  if (typeof v !== 'string' || !Object.hasOwn(PRESETS, v)) throw new TypeError(`unknown preset ${JSON.stringify(v)}; one of ${Object.keys(PRESETS).join(', ')}`);
  return v as ImportPreset;
}

/** The shapes the importer relies on; it checks the values (columns, rule, delimiter) itself. */
function checkImportRequest(req: ImportRequest): ImportRequest {
  if (typeof req !== 'object' || req === null) throw new TypeError('the import request must be an object');
  strings(req.files, 'files');
  preset(req.preset);
  str(req.name, 'name');
  if (req.positive !== undefined) str(req.positive, 'positive');
  if (req.keep !== undefined) strings(req.keep, 'keep');
  if (req.delimiter !== undefined) str(req.delimiter, 'delimiter');
  if (req.map !== undefined) for (const v of Object.values(req.map)) if (v !== undefined) str(v, 'map column');
  return req;
}

/** What the import wizard starts from for these files (the importer's planImport decides the same). */
async function importDefaults(presetName: ImportPreset, files: string[]): Promise<ImportDefaults> {
  const spec = PRESETS[preset(presetName)];
  if (!files.length) throw new Error('no files chosen');
  const heads = await Promise.all(files.map((f) => previewFile(f, 0)));
  // WeChat's feed_info.csv may sit anywhere in the list; the rule can then read the video length.
  const feedInfo = presetName === 'wechat' ? heads.find((h) => isFeedInfoHeader(h.header)) : undefined;
  const main = heads.find((h) => h !== feedInfo) ?? heads[0];
  const joins = feedInfo !== undefined && !main.header.includes(JOINED_COLUMN);
  return {
    preset: presetName,
    rule: presetRule(presetName, feedInfo !== undefined),
    mapping: { ...spec.mapping },
    keep: [...spec.keep],
    columns: joins ? [...main.header, JOINED_COLUMN] : main.header,
  };
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

// The runner and the inspector pull in the models and TF.js: load them when first needed, not at launch.
type Runner = typeof import('./train/runner.ts');
const loadInspector = () => import('./inspect/user.ts');
const loadEmbeddings = () => import('./inspect/embeddings.ts');


export interface ApiContext {
  dbPath: string;
  /** A bundled training-worker entry (the Electron build); the TypeScript one through tsx otherwise. */
  workerEntry?: string;
  /** Runs trained at once, 1 or 2; CMI_STUDIO_CONCURRENCY, else 2 (train/queue.ts). */
  trainConcurrency?: number;
}

export function createApi(ctx: ApiContext): StudioService {
  const db = openDb(ctx.dbPath);
  const loadRunner = async (): Promise<Runner> => {
    const runner = await import('./train/runner.ts');
    if (ctx.workerEntry) runner.setWorkerEntry(ctx.workerEntry);
    return runner;
  };
  const listeners = new Set<(event: StudioEvent) => void>();
  const jobs = new Map<string, AbortController>();
  const emit = (event: StudioEvent) => {
    for (const l of listeners) l(event);
  };
  const training = new TrainingQueue({
    dbPath: ctx.dbPath,
    db,
    loadLauncher: async () => (await loadRunner()).launchRun,
    emit: (event) => emit({ type: 'train', event }),
    concurrency: parseConcurrency(ctx.trainConcurrency ?? process.env.CMI_STUDIO_CONCURRENCY, 'the training concurrency'),
  });

  const requireDataset = (id: unknown): DatasetSummary => {
    const dataset = getDataset(db, int(id, 'dataset id'));
    if (!dataset) throw new Error(`no dataset with id ${String(id)}`);
    return dataset;
  };

  return {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      for (const job of jobs.values()) job.abort();
      training.stop();
      db.close();
    },

    async appInfo() {
      return { version: pkg.version, dbPath: ctx.dbPath, schemaVersion: SCHEMA_VERSION };
    },
    listDir,

    async listDatasets() {
      return listDatasets(db);
    },
    async getDataset(id) {
      return requireDataset(id);
    },
    async deleteDataset(id) {
      const { id: datasetId } = requireDataset(id);
      await writeWhenFree(db, () => deleteDataset(db, datasetId));
    },
    async datasetCharts(id) {
      return datasetCharts(db, requireDataset(id).id);
    },

    async previewFile(path, rows) {
      return previewFile(str(path, 'path'), rows === undefined ? undefined : int(rows, 'rows'));
    },
    async importDefaults(preset, files) {
      return importDefaults(preset, strings(files, 'files'));
    },
    async validateRule(rule, columns) {
      if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) throw new TypeError('columns must be a list of names');
      try {
        validateRule(str(rule, 'rule'), columns);
        return { ok: true };
      } catch (err) {
        if (err instanceof RuleError) return { ok: false, message: err.reason, column: err.column };
        throw err;
      }
    },
    async importDataset(req, jobId) {
      const id = str(jobId, 'jobId');
      if (jobs.has(id)) throw new Error(`job ${id} is already running`);
      const controller = new AbortController();
      jobs.set(id, controller);
      try {
        return await importDataset(db, checkImportRequest(req), {
          signal: controller.signal,
          onProgress: (progress) => emit({ type: 'import-progress', jobId: id, progress }),
        });
      } finally {
        jobs.delete(id);
      }
    },
    async cancelJob(jobId) {
      jobs.get(str(jobId, 'jobId'))?.abort();
    },

    async listSplits(datasetId) {
      return listSplits(db, int(datasetId, 'dataset id'));
    },
    async ensureSplit(datasetId, params) {
      return ensureSplitInSteps(db, int(datasetId, 'dataset id'), params ?? {});
    },
    async splitStats(splitId) {
      return splitStats(db, int(splitId, 'split id'));
    },

    async listModels() {
      const { modelInfos, getModel } = await import('./models/registry.ts');
      return modelInfos().map((info) => ({
        ...info,
        ablations: Object.entries(getModel(info.name).ablations ?? {}).map(([label, config]) => ({ label, config })),
      }));
    },
    async sharedConfigKeys() {
      return sharedFields.map((f) => f.key);
    },

    async startTraining(req: TrainRequest) {
      const { prepareRun, runSplitParams } = await loadRunner();
      const { expandSet } = await import('./train/sets.ts');
      const requests = expandSet({
        datasetId: int(req.datasetId, 'datasetId'),
        model: str(req.model, 'model'),
        config: req.config ?? {},
        seeds: (req.seeds ?? []).map((s) => int(s, 'seed')),
        ablation: req.ablation === true,
        ...(req.interests?.length ? { interests: req.interests.map((m) => int(m, 'interests')) } : {}),
        ...(req.grid ? { grid: req.grid } : {}),
        group: req.group ?? `${req.model} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`,
      });
      // Splits built in steps first (the host stays free), then all rows in one transaction:
      // a bad setting fails the request before anything trains.
      const split = req.split ?? {};
      for (const r of requests) await ensureSplitInSteps(db, r.datasetId, runSplitParams({ ...r, split }));
      const ids = (await writeWhenFree(db, () => requests.map((r) => prepareRun(db, { ...r, split })))) ?? [];
      training.enqueue(ids);
      return ids.map((id) => requireRun(db, id));
    },
    async cancelRun(id) {
      training.cancel(requireRun(db, int(id, 'run id')).id);
    },
    async resumeRun(id) {
      const run = requireRun(db, int(id, 'run id'));
      requireModelAction(run, 'resume');
      if (training.has(run.id)) throw new Error(`run ${run.id} is already ${run.status}`);
      if (run.status === 'done') throw new Error(`run ${run.id} is done; re-run it instead`);
      training.enqueue([run.id]);
    },
    async rerun(id) {
      const run = requireRun(db, int(id, 'run id'));
      requireModelAction(run, 'rerun');
      const { prepareRun } = await loadRunner();
      const newId = prepareRun(db, {
        datasetId: run.datasetId,
        model: run.model,
        config: run.config,
        seed: run.seed,
        split: getSplitSummary(db, run.splitId).params,
        ...(run.group !== null ? { group: run.group } : {}),
        label: run.label,
      });
      training.enqueue([newId]);
      return requireRun(db, newId);
    },
    async trainingQueue() {
      return training.state();
    },
    async cancelSet(group) {
      return training.cancelSet(str(group, 'group'));
    },
    async resumeSet(group) {
      return training.resumeSet(str(group, 'group'));
    },
    async deleteSet(group) {
      return training.deleteSet(str(group, 'group'));
    },

    async listRuns(query = {}) {
      return listRuns(db, {
        ...(query.datasetId !== undefined ? { datasetId: int(query.datasetId, 'datasetId') } : {}),
        ...(query.model !== undefined ? { model: str(query.model, 'model') } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.group !== undefined ? { group: str(query.group, 'group') } : {}),
        tag: query.tag, search: query.search, sort: query.sort, desc: query.desc,
      });
    },
    async getRun(id) {
      return requireRun(db, int(id, 'run id'));
    },
    async deleteRun(id) {
      const { id: runId } = requireRun(db, int(id, 'run id'));
      await writeWhenFree(db, () => deleteRun(db, runId));
    },
    async runCurves(id) {
      return runCurves(db, requireRun(db, int(id, 'run id')).id);
    },

    async setRunTags(id, tags) {
      await writeWhenFree(db, () => setRunTags(db, requireRun(db, id).id, tags));
      return requireRun(db, id);
    },
    async setRunNote(id, note) {
      await writeWhenFree(db, () => setRunNote(db, requireRun(db, id).id, note));
      return requireRun(db, id);
    },
    async runTags() {
      return runTagCounts(db);
    },
    async runConfig(id) {
      return runConfig(db, id);
    },
    async diffRuns(a, b) {
      return diffRuns(db, a, b);
    },
    async exportEmbeddings(id, format) {
      return (await loadEmbeddings()).itemEmbeddings(db, id, format);
    },

    async inspectableUsers(runId, query) {
      return inspectableUsers(db, runId, query);
    },
    async findInspectUser(runId, raw) {
      return findInspectUser(db, runId, raw);
    },
    async inspectUser(runId, uid, k) {
      const { inspectUser } = await loadInspector();
      return inspectUser(db, requireRun(db, int(runId, 'run id')).id, int(uid, 'user id'), k === undefined ? undefined : int(k, 'k'));
    },

    async compareRuns(req) {
      return compareRuns(db, req);
    },
    async compareLabels(runIds) {
      return compareLabels(db, runIds);
    },
    async compareBreakdown(req) {
      return compareBreakdown(db, req);
    },
    async compareDistributions(req) {
      return compareDistributions(db, req);
    },
    async exportTable(table, format) {
      if (!isOneOf(TABLE_FORMATS, format)) throw new TypeError(`format must be ${TABLE_FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
      if (!table || !Array.isArray(table.columns) || !Array.isArray(table.rows) || !Array.isArray(table.summary)) throw new TypeError('not a comparison table');
      return formatComparison(table, format);
    },
  };
}
