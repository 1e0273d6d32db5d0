// The one typed contract between the UI and the core. main (src/main/api.ts) implements
// StudioApi once; the Electron host (ipcMain.handle) and the browser host (POST /api/<method>,
// WebSocket for events) carry it unchanged; preload exposes it; the renderer's client calls it.
// Plain types plus one method table: the renderer and the preload bundle compile this too.
import type {
  ColumnMapping,
  CurvePoint,
  DatasetSummary,
  FilePreview,
  ImportPreset,
  InspectableUser,
  InspectUserList,
  InspectUserQuery,
  ImportProgress,
  ImportRequest,
  ImportResult,
  ModelInfo,
  RunQuery,
  RunSummary,
  SplitParams,
  SplitSummary,
  TrainEvent,
  UserInspection,
} from './types.ts';
import type { EmbeddingFormat } from './run-actions.ts';
import type { SplitStats } from './stats.ts';
import type { AlignmentResult, ItemAttribute, ItemImportRequest, ItemImportResult } from './attributes.ts';
import type { BreakdownKind, ComparisonTable, SignificanceTest, TableFormat, TableMetric, UserDistribution } from './tables.ts';

// Re-exported: the renderer takes a method's argument and result types from the contract.
export type { AlignmentResult, ItemAttribute, ItemImportRequest, ItemImportResult };
export type { BreakdownKind, ComparisonTable, RunQuery, SignificanceTest, SplitStats, TableFormat, TableMetric, UserDistribution };

export interface AppInfo {
  version: string;
  dbPath: string;
  schemaVersion: number;
}

export interface DirEntry {
  name: string;
  path: string;
  kind: 'file' | 'dir';
  /** Bytes, for files. */
  size: number | null;
}

export interface DirListing {
  path: string;
  parent: string | null;
  entries: DirEntry[];
}

export interface ImportDefaults {
  preset: ImportPreset;
  rule: string;
  mapping: Partial<ColumnMapping>;
  keep: string[];
  /** The main file's columns, plus a companion file's (WeChat feed_info.csv) the rule may use. */
  columns: string[];
}

/** The outcome of checking a positive rule against a file's columns. */
export type RuleCheck = { ok: true } | { ok: false; message: string; column?: number };

/** Chart data for a dataset page, computed from the stored positives. */
export interface DatasetCharts {
  /** Positives and active users per day, day ascending. */
  perDay: { day: number; interactions: number; users: number }[];
  /** Users by sequence length: bins of equal width over [1, max]. */
  seqLengths: { from: number; to: number; users: number }[];
  /** Positives per item by popularity rank (1 = most popular), log-spaced ranks when many. */
  itemPopularity: { rank: number; count: number }[];
  /** Distinct items with a positive. */
  items: number;
}

/** A run configuration value, as the model forms edit it. */
export type ConfigValue = number | string | boolean;

/** A model as the training form shows it: its info plus its named ablations. */
export interface StudioModel extends ModelInfo {
  /** Ablation label (as the paper names it, e.g. CMI-CL) -> the config it overrides. */
  ablations: { label: string; config: Record<string, ConfigValue> }[];
}

/**
 * Start a set of runs: the model (plus each named ablation when `ablation`), times each number
 * of interests, times each point of the grid, times each seed. One run when all are absent.
 */
export interface TrainRequest {
  datasetId: number;
  split?: Partial<SplitParams>;
  model: string;
  /** Overrides of the defaults, shared by every run of the request. */
  config: Record<string, ConfigValue>;
  seeds: number[];
  ablation?: boolean;
  interests?: number[];
  /** Config key -> the values to try; the set is their cartesian product. */
  grid?: Record<string, ConfigValue[]>;
  /** Groups the runs of a set; named after the model and time when absent. */
  group?: string;
}

/** A paper-style table over finished runs of one split: one row per model (label and number of
 *  interests), seeds averaged, per-user test values for the significance test. */
export interface CompareRequest {
  runIds: number[];
  metrics: TableMetric[];
  ks: number[];
  significance: SignificanceTest;
  /** Label of the proposed model the Improv. row is about; each column's best when absent. */
  focus?: string;
  title?: string;
}

export interface BreakdownRequest extends CompareRequest {
  /** activity: users by test-history length; popularity: target items by training popularity. */
  by: BreakdownKind;
}

/** One bucket's table of a breakdown. */
export interface BreakdownTable {
  bucket: string;
  users: number;
  table: ComparisonTable;
}

export interface DistributionRequest {
  runIds: number[];
  /** A per-user metric, e.g. recall@50. */
  metric: string;
}

/** A run's parameters as a file: the run, its split's parameters and its complete config. */
export interface RunConfigExport {
  format: 'cmi-studio-run-config';
  run: number;
  dataset: string;
  model: string;
  label: string;
  seed: number;
  group: string | null;
  tags: string[];
  note: string;
  split: SplitParams & { id: number };
  config: Record<string, ConfigValue>;
}

/** One parameter two runs disagree on; null where a run has no such key. */
export interface RunDiffField {
  section: 'run' | 'split' | 'config';
  key: string;
  a: ConfigValue | null;
  b: ConfigValue | null;
}

export interface RunDiff {
  a: number;
  b: number;
  /** Model, dataset and seed first, then the split, then config keys by name. */
  differences: RunDiffField[];
  /** Config keys both runs have with the same value. */
  sameConfigKeys: number;
}

/** What the training queue is doing: the runs in a worker now, and those waiting, in order. */
export interface TrainingQueueState {
  active: number[];
  queued: number[];
  /** Runs it trains at once (1 or 2). */
  concurrency: number;
}

export type StudioEvent =
  | { type: 'import-progress'; jobId: string; progress: ImportProgress }
  | { type: 'train'; event: TrainEvent };

export interface StudioApi {
  appInfo(): Promise<AppInfo>;
  /** A server-side folder listing (the browser host's file picker); the home folder when absent. */
  listDir(path?: string): Promise<DirListing>;

  listDatasets(): Promise<DatasetSummary[]>;
  getDataset(id: number): Promise<DatasetSummary>;
  deleteDataset(id: number): Promise<void>;
  datasetCharts(id: number): Promise<DatasetCharts>;

  previewFile(path: string, rows?: number): Promise<FilePreview>;
  /** The preset's defaults for these files: the positive rule (WeChat's uses feed_info.csv when
   *  it is among them), the column mapping, the kept columns and every column a rule may name. */
  importDefaults(preset: ImportPreset, files: string[]): Promise<ImportDefaults>;
  validateRule(rule: string, columns: string[]): Promise<RuleCheck>;
  /** Imports (or dry-runs) files; progress arrives as `import-progress` events tagged with jobId. */
  importDataset(req: ImportRequest, jobId: string): Promise<ImportResult>;
  /** Aborts a running import or dry run; a no-op when the job already ended. */
  cancelJob(jobId: string): Promise<void>;

  /** The dataset's item attributes (docs/import.md "## Item attributes"). */
  itemAttributes(datasetId: number): Promise<ItemAttribute[]>;
  /** Imports an item-attribute file (WeChat feed_info.csv, or item id + columns) onto a dataset. */
  importItems(req: ItemImportRequest): Promise<ItemImportResult>;

  listSplits(datasetId: number): Promise<SplitSummary[]>;
  /** The stored split with these parameters, built (and stored) first when there is none. */
  ensureSplit(datasetId: number, params: Partial<SplitParams>): Promise<SplitSummary>;
  splitStats(splitId: number): Promise<SplitStats>;

  /** Each model with its complete config form: the shared training keys (with the model's own
   *  defaults) followed by the model's keys. */
  listModels(): Promise<StudioModel[]>;
  /** Which of those keys are the shared training keys (the forms fold them away). */
  sharedConfigKeys(): Promise<string[]>;

  /** Creates the runs (queued) and trains them in worker processes, up to the queue's
   *  concurrency at once; events arrive as `train` events. */
  startTraining(req: TrainRequest): Promise<RunSummary[]>;
  /** Stops a running run at a checkpoint, or takes a queued one off the queue. */
  cancelRun(id: number): Promise<void>;
  /** Continues a cancelled or interrupted run from its last checkpoint. */
  resumeRun(id: number): Promise<void>;
  /** A new run with the same dataset, split, model, config and seed. */
  rerun(id: number): Promise<RunSummary>;
  trainingQueue(): Promise<TrainingQueueState>;
  /** A set is the runs of one group (an ablation, sweep, grid or seeds request). Cancels its
   *  queued and running runs, here or in another process; the ids it cancelled. */
  cancelSet(group: string): Promise<number[]>;
  /** Queues the set's unfinished runs (cancelled, interrupted, failed, left queued); their ids. */
  resumeSet(group: string): Promise<number[]>;
  /** Deletes every run of the set; refused while one of them trains. The ids deleted. */
  deleteSet(group: string): Promise<number[]>;

  listRuns(query?: RunQuery): Promise<RunSummary[]>;
  getRun(id: number): Promise<RunSummary>;
  deleteRun(id: number): Promise<void>;
  runCurves(id: number): Promise<CurvePoint[]>;
  /** Replaces the run's tags; the run as it is now. */
  setRunTags(id: number, tags: string[]): Promise<RunSummary>;
  /** Sets the run's free-text note (empty clears it); the run as it is now. */
  setRunNote(id: number, note: string): Promise<RunSummary>;
  /** Every tag in use, with its number of runs. */
  runTags(): Promise<Array<{ tag: string; runs: number }>>;
  /** The run's parameters (split and complete config) as the config export writes them. */
  runConfig(id: number): Promise<RunConfigExport>;
  /** Which parameters two runs differ in. */
  diffRuns(a: number, b: number): Promise<RunDiff>;
  /** A trained run's item embeddings as TSV or CSV text (`raw_item_id, v0..`); refused for
   *  imported results and models that learn none. */
  exportEmbeddings(id: number, format?: EmbeddingFormat): Promise<string>;

  /** Test-day users of a finished run: searched by raw-id prefix, filtered by hit or miss,
   *  ordered by a per-user metric or history length. */
  inspectableUsers(runId: number, query?: InspectUserQuery): Promise<InspectUserList>;
  /** The test-day user with this raw id; an error says whether the id is unknown or the user
   *  is not evaluated on the run's test day. */
  findInspectUser(runId: number, raw: string): Promise<InspectableUser>;
  /** One user's interests under a finished run: assignment, retrieval top-K, hits, 2-D map. */
  inspectUser(runId: number, uid: number, k?: number): Promise<UserInspection>;

  /** How well a finished run's interests match an item attribute: NMI and purity over the test
   *  users' histories (docs/protocol.md "## Interest alignment"). */
  interestAlignment(runId: number, attribute: string): Promise<AlignmentResult>;

  compareRuns(req: CompareRequest): Promise<ComparisonTable>;
  /** The row labels a table of these runs has (identical runs are one row). */
  compareLabels(runIds: number[]): Promise<string[]>;
  /** One table per activity or popularity bucket. */
  compareBreakdown(req: BreakdownRequest): Promise<BreakdownTable[]>;
  /** Each row's per-user distribution of one metric. */
  compareDistributions(req: DistributionRequest): Promise<UserDistribution[]>;
  /** The table as CSV, Markdown, LaTeX or JSON text (the host saves or downloads it). */
  exportTable(table: ComparisonTable, format: TableFormat): Promise<string>;
}

export type StudioMethod = keyof StudioApi;

// A Record over the interface's keys: the compiler rejects a missing or an extra method, so the
// runtime list the transports whitelist cannot drift from the contract.
const methodTable: Record<StudioMethod, true> = {
  appInfo: true,
  listDir: true,
  listDatasets: true,
  getDataset: true,
  deleteDataset: true,
  datasetCharts: true,
  previewFile: true,
  importDefaults: true,
  validateRule: true,
  importDataset: true,
  cancelJob: true,
  itemAttributes: true,
  importItems: true,
  listSplits: true,
  ensureSplit: true,
  splitStats: true,
  listModels: true,
  sharedConfigKeys: true,
  startTraining: true,
  cancelRun: true,
  resumeRun: true,
  rerun: true,
  trainingQueue: true,
  cancelSet: true,
  resumeSet: true,
  deleteSet: true,
  listRuns: true,
  getRun: true,
  deleteRun: true,
  runCurves: true,
  setRunTags: true,
  setRunNote: true,
  runTags: true,
  runConfig: true,
  diffRuns: true,
  exportEmbeddings: true,
  inspectableUsers: true,
  findInspectUser: true,
  inspectUser: true,
  interestAlignment: true,
  compareRuns: true,
  compareLabels: true,
  compareBreakdown: true,
  compareDistributions: true,
  exportTable: true,
};

export const STUDIO_METHODS = Object.keys(methodTable) as StudioMethod[];

export function isStudioMethod(name: string): name is StudioMethod {
  return Object.hasOwn(methodTable, name);
}

/** What an error carries across a transport; file/line/column point into an imported file. */
export interface StudioErrorInfo {
  message: string;
  code?: string;
  file?: string;
  line?: number;
  column?: number;
}

/** Every reply travels in this envelope so error details survive IPC and HTTP alike. */
export type Reply<T> = { ok: true; result: T } | { ok: false; error: StudioErrorInfo };

/** Electron-only extras: native dialogs. The browser host uses upload and download instead. */
export interface DesktopApi {
  openFiles(opts: { title: string; multiple: boolean }): Promise<string[]>;
  /** The local path of a file dropped on the window (sandboxed pages cannot see it). */
  pathOf(file: File): string;
  /** Writes `content` where the user chooses; the chosen path, or null when cancelled. */
  saveText(opts: { title: string; defaultName: string; content: string }): Promise<string | null>;
}

/** What preload exposes as `window.studio`: the contract's transport (the renderer's client
 *  types it back into StudioApi), the dialogs, the event stream. */
export interface StudioBridge {
  invoke(method: StudioMethod, args: unknown[]): Promise<Reply<unknown>>;
  desktop: DesktopApi;
  onEvent(listener: (event: StudioEvent) => void): () => void;
}

export const IPC_INVOKE = 'studio:invoke';
export const IPC_EVENT = 'studio:event';
export const IPC_OPEN_FILES = 'studio:open-files';
export const IPC_SAVE_TEXT = 'studio:save-text';
