// The one implementation of the StudioApi contract: a façade both hosts (Electron IPC and the
// browser host) call, delegating each method to the domain service that owns it; it never
// imports electron. Argument shapes were checked by dispatch() (hosts/dispatch.ts) against
// shared/api-args.ts; the services check what only they can (a run exists, a rule parses).
import type { StudioApi, StudioEvent } from '../shared/api.ts';
import { listDir } from './files/list-dir.ts';
import { importDefaults } from './import/defaults.ts';
import { checkRule, previewFile } from './import/index.ts';
import { importItemAttributes } from './import/items.ts';
import { ImportJobs } from './import/jobs.ts';
import { sharedFields } from './models/config.ts';
import { compareBreakdown, compareDistributions, compareLabels, compareRuns } from './report/compare-service.ts';
import { formatComparison } from './report/format.ts';
import { writeWhenFree } from './store/busy.ts';
import { datasetCharts } from './store/charts.ts';
import { listItemAttributes } from './store/item-attributes.ts';
import { deleteDataset, listDatasets, requireDataset } from './store/datasets.ts';
import { openDb, SCHEMA_VERSION } from './store/db.ts';
import { deleteRun, listRuns, requireRun, runCurves } from './store/runs.ts';
import { runTagCounts, setRunNote, setRunTags } from './store/run-notes.ts';
import { diffRuns, runConfig } from './report/run-diff.ts';
import { findInspectUser, inspectableUsers } from './inspect/users.ts';
import { ensureSplitInSteps, listSplits, splitStats } from './store/splits.ts';
import { TrainingService } from './train/service.ts';
import pkg from '../../package.json' with { type: 'json' };

export interface StudioService extends StudioApi {
  /** Subscribes to the event stream (import progress, training events); returns the unsubscribe. */
  onEvent(listener: (event: StudioEvent) => void): () => void;
  close(): void;
}

export interface ApiContext {
  dbPath: string;
  /** A bundled training-worker entry (the Electron build); the TypeScript one through tsx otherwise. */
  workerEntry?: string;
  /** Runs trained at once, 1 or 2; CMI_STUDIO_CONCURRENCY, else 2 (train/queue.ts). */
  trainConcurrency?: number;
}

// The models and the inspector pull in TF.js: loaded when first needed, not at launch.
const loadModels = () => import('./models/registry.ts');
const loadInspector = () => import('./inspect/user.ts');
const loadEmbeddings = () => import('./inspect/embeddings.ts');
const loadAlignment = () => import('./inspect/alignment.ts');

export function createApi(ctx: ApiContext): StudioService {
  const db = openDb(ctx.dbPath);
  const listeners = new Set<(event: StudioEvent) => void>();
  const emit = (event: StudioEvent) => {
    for (const l of listeners) l(event);
  };
  const imports = new ImportJobs(db, (jobId, progress) => emit({ type: 'import-progress', jobId, progress }));
  const training = new TrainingService({
    dbPath: ctx.dbPath,
    db,
    emit: (event) => emit({ type: 'train', event }),
    ...(ctx.workerEntry !== undefined ? { workerEntry: ctx.workerEntry } : {}),
    ...(ctx.trainConcurrency !== undefined ? { concurrency: ctx.trainConcurrency } : {}),
  });

  return {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      imports.cancelAll();
      training.stop();
      db.close();
    },

    appInfo: async () => ({ version: pkg.version, dbPath: ctx.dbPath, schemaVersion: SCHEMA_VERSION }),
    listDir: (path) => listDir(path),

    listDatasets: async () => listDatasets(db),
    getDataset: async (id) => requireDataset(db, id),
    deleteDataset: async (id) => {
      const dataset = requireDataset(db, id);
      await writeWhenFree(db, () => deleteDataset(db, dataset.id));
    },
    datasetCharts: async (id) => datasetCharts(db, requireDataset(db, id).id),

    previewFile: (path, rows) => previewFile(path, rows),
    importDefaults: (preset, files) => importDefaults(preset, files),
    validateRule: async (rule, columns) => checkRule(rule, columns),
    importDataset: (req, jobId) => imports.run(req, jobId),
    cancelJob: async (jobId) => imports.cancel(jobId),

    itemAttributes: async (datasetId) => listItemAttributes(db, requireDataset(db, datasetId).id),
    importItems: (req) => importItemAttributes(db, req),

    listSplits: async (datasetId) => listSplits(db, datasetId),
    ensureSplit: (datasetId, params) => ensureSplitInSteps(db, datasetId, params ?? {}),
    splitStats: async (splitId) => splitStats(db, splitId),

    listModels: async () => (await loadModels()).modelCatalog(),
    sharedConfigKeys: async () => sharedFields.map((f) => f.key),

    startTraining: (req) => training.start(req),
    cancelRun: async (id) => training.cancel(id),
    resumeRun: async (id) => training.resume(id),
    rerun: (id) => training.rerun(id),
    trainingQueue: async () => training.state(),
    cancelSet: async (group) => training.cancelSet(group),
    resumeSet: async (group) => training.resumeSet(group),
    deleteSet: async (group) => training.deleteSet(group),

    listRuns: async (query) => listRuns(db, query ?? {}),
    getRun: async (id) => requireRun(db, id),
    deleteRun: async (id) => {
      const run = requireRun(db, id);
      await writeWhenFree(db, () => deleteRun(db, run.id));
    },
    runCurves: async (id) => runCurves(db, requireRun(db, id).id),

    setRunTags: async (id, tags) => {
      await writeWhenFree(db, () => setRunTags(db, requireRun(db, id).id, tags));
      return requireRun(db, id);
    },
    setRunNote: async (id, note) => {
      await writeWhenFree(db, () => setRunNote(db, requireRun(db, id).id, note));
      return requireRun(db, id);
    },
    runTags: async () => runTagCounts(db),
    runConfig: async (id) => runConfig(db, id),
    diffRuns: async (a, b) => diffRuns(db, a, b),
    exportEmbeddings: async (id, format) => (await loadEmbeddings()).itemEmbeddings(db, id, format),

    inspectableUsers: async (runId, query) => inspectableUsers(db, runId, query),
    findInspectUser: async (runId, raw) => findInspectUser(db, runId, raw),
    inspectUser: async (runId, uid, k) => (await loadInspector()).inspectUser(db, runId, uid, k),
    interestAlignment: async (runId, attribute) => (await loadAlignment()).runAlignment(db, runId, attribute),

    compareRuns: async (req) => compareRuns(db, req),
    compareLabels: async (runIds) => compareLabels(db, runIds),
    compareBreakdown: async (req) => compareBreakdown(db, req),
    compareDistributions: async (req) => compareDistributions(db, req),
    exportTable: async (table, format) => formatComparison(table, format),
  };
}
