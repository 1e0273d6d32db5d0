// Plain data types shared by main, preload and renderer. No runtime code, no imports from
// Node or Electron: the renderer compiles these too.
import type { RunSort } from './run-order.ts';
import type { ItemImportResult } from './attributes.ts';

export const IMPORT_PRESETS = ['wechat', 'kuairand', 'csv', 'recbole'] as const;
export type ImportPreset = (typeof IMPORT_PRESETS)[number];

/** How the dataset's time is expressed: a day number (1..h) or a timestamp. */
export type TimeKind = 'day' | 'timestamp';

export interface ColumnMapping {
  user: string;
  item: string;
  /** Timestamp column (numbers, or ISO-like date-times). */
  time?: string;
  /** Day column (integers, or yyyymmdd / yyyy-mm-dd dates). */
  day?: string;
}

export interface ImportRequest {
  files: string[];
  preset: ImportPreset;
  name: string;
  /** Positive rule expression; the preset's rule when absent. */
  positive?: string;
  /** Column mapping; required for `csv`, optional override elsewhere. */
  map?: Partial<ColumnMapping>;
  /** Field delimiter for `csv` (auto-detected when absent). */
  delimiter?: string;
  /** Feedback columns to keep with each interaction (the preset's list when absent). */
  keep?: string[];
  dryRun?: boolean;
  /** A malformed data row fails the import ('fail', the default) or is skipped and counted. */
  onError?: ImportOnError;
}

/**
 * 'skip' drops rows with a bad field count, id, day, time or number; a bad header, a missing
 * column, a structural error (quotes, binary data) or an I/O error still fails the import.
 */
export const IMPORT_ON_ERROR = ['fail', 'skip'] as const;
export type ImportOnError = (typeof IMPORT_ON_ERROR)[number];

/** A skipped row's error, located as file:line:column (column: field index or character). */
export interface ImportRowError {
  file: string;
  line: number;
  column: number;
  columnKind: 'field' | 'char';
  /** The full message, `file:line:column: ...`. */
  message: string;
}

/** waiting: another import holds the store's write lock; reading: rows are parsed and
 *  inserted; finishing: day numbering, id maps, indexes, commit. */
export type ImportPhase = 'waiting' | 'reading' | 'finishing';

export interface ImportProgress {
  phase?: ImportPhase;
  file: string;
  bytesRead: number;
  bytesTotal: number;
  rows: number;
  rowsPerSecond: number;
  /** 0..1 over all files. */
  fraction: number;
}

export interface DatasetCounts {
  /** Data rows read (header lines excluded). */
  rows: number;
  /** Positive interactions stored. */
  interactions: number;
  /** Distinct users among positives. */
  users: number;
  /** Distinct items among positives. */
  items: number;
  /** Distinct days among positives. */
  days: number;
}

export interface ImportResult extends DatasetCounts {
  name: string;
  dryRun: boolean;
  datasetId?: number;
  seconds: number;
  /** Malformed rows skipped (onError 'skip'): interaction rows (counted in `rows`) and feed_info rows. */
  skipped: number;
  /** The first of them (at most 10). */
  errors: ImportRowError[];
  /** WeChat with feed_info.csv: its item fields, stored as item attributes with the dataset. */
  itemAttributes?: ItemImportResult;
}

export interface DatasetSummary extends DatasetCounts {
  id: number;
  name: string;
  preset: ImportPreset;
  positiveRule: string;
  timeKind: TimeKind;
  files: string[];
  columns: string[];
  keptColumns: string[];
  createdAt: string;
}

/** A row of the file's first lines, for the import wizard's preview. */
export interface FilePreview {
  file: string;
  detectedPreset: ImportPreset;
  delimiter: string;
  header: string[];
  rows: string[][];
  /** Set when fewer rows came back than asked while the file has more: the preview's row limit
   *  or its byte budget stopped the read. */
  capped?: { by: 'rows' | 'bytes'; limit: number; message: string };
}

export const SPLIT_KINDS = ['day', 'time-quantile', 'leave-last-out'] as const;
export type SplitKind = (typeof SPLIT_KINDS)[number];

export interface SplitParams {
  kind: SplitKind;
  /** Users need positives on at least this many distinct training days (day split). */
  minTrainDays: number;
  /** Users need at least this many training items (other splits). */
  minTrainItems: number;
  /** History cut for evaluation. */
  maxlen: number;
  /** time-quantile: fraction of interactions (by time) in train and train+valid. */
  quantiles?: [number, number];
}

export interface SplitSummary {
  id: number;
  datasetId: number;
  params: SplitParams;
  users: number;
  items: number;
  trainInteractions: number;
  validUsers: number;
  testUsers: number;
  /** Why no run can be trained on this split (no validation or no test user), with the counts,
   *  the likely cause and what to try; null when it can. Training refuses such a split. */
  problem: string | null;
  createdAt: string;
}

/** Metric name -> value, with names like `recall@50`, `hitrate@50`, `ndcg@50`. */
export type Metrics = Record<string, number>;

export const RUN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Which runs a listing shows; every given field must match. */
export interface RunQuery {
  datasetId?: number;
  model?: string;
  status?: RunStatus;
  /** The set (sweep, ablation, demo) the runs were started as. */
  group?: string;
  /** Runs carrying this tag. */
  tag?: string;
  /** Text found (case-insensitively) in the model, label, set, a tag or the note. */
  search?: string;
  /** The order (shared/run-order.ts); by id when absent. */
  sort?: RunSort;
  /** Largest first. */
  desc?: boolean;
}

/** Why a run stopped: early stopping (patience on the last stage), the step cap, a cancel, an
 *  error. null while it has not stopped for good (queued, running, interrupted) and for models
 *  that do not train (most-popular). */
export type StopReason = 'early' | 'max-steps' | 'cancelled' | 'failed';

export interface RunSummary {
  id: number;
  datasetId: number;
  datasetName: string;
  splitId: number;
  model: string;
  label: string;
  interests: number;
  seed: number;
  config: Record<string, number | string | boolean>;
  status: RunStatus;
  stopped: StopReason | null;
  backend: string | null;
  device: string | null;
  steps: number;
  bestStep: number | null;
  seconds: number;
  valid: Metrics | null;
  test: Metrics | null;
  group: string | null;
  /** The analyst's tags (sorted) and free-text note. */
  tags: string[];
  note: string;
  error: string | null;
  createdAt: string;
}

/** One point of a run's curves: training losses by term, or validation metrics. */
export interface CurvePoint {
  step: number;
  kind: 'train' | 'valid';
  stage?: string;
  values: Record<string, number>;
  /** Training seconds of the run when the point was recorded (earlier sessions of a resumed run
   *  included, the time it stood still excluded); absent in runs recorded before it was kept. */
  seconds?: number;
  /** Wall-clock time of the point, ms since the epoch; absent in older runs too. */
  time?: number;
}

export type TrainEvent =
  | { type: 'started'; runId: number; backend: string; device: string; resumedFrom: number | null }
  | {
      type: 'progress';
      runId: number;
      step: number;
      stage?: string;
      losses: Record<string, number>;
      stepsPerSecond: number;
      /** Training time so far (this and earlier sessions of the run). */
      seconds: number;
      /** Wall-clock time of the report, ms since the epoch (the curve point's `time`). */
      time: number;
      /** Steps left times the step time plus evaluations left times the measured evaluation
       *  time (once one has been timed); with early stopping, up to the latest possible stop. */
      etaSeconds: number | null;
    }
  | {
      type: 'eval-progress';
      runId: number;
      /** valid: an early-stopping evaluation; final-valid and test: the evaluations at the end. */
      phase: EvalPhase;
      step: number;
      done: number;
      total: number;
      /** Users per second so far in this evaluation. */
      rate: number;
      etaSeconds: number | null;
    }
  | { type: 'validation'; runId: number; step: number; metrics: Metrics; best: boolean; seconds: number; time: number }
  | { type: 'checkpoint'; runId: number; step: number }
  | { type: 'finished'; runId: number; status: RunStatus; test: Metrics | null; error?: string };

export type EvalPhase = 'valid' | 'final-valid' | 'test';

export interface ConfigField {
  key: string;
  label: string;
  type: 'number' | 'integer' | 'boolean' | 'select';
  default: number | string | boolean;
  options?: string[];
  help?: string;
  /** Smallest and largest accepted value of a number or integer field (inclusive). */
  min?: number;
  max?: number;
}

export interface ModelInfo {
  name: string;
  label: string;
  paper: string;
  multiInterest: boolean;
  fields: ConfigField[];
}

/** A user the interest inspector can open: evaluated on the test day of the run's split. */
export interface InspectableUser {
  uid: number;
  raw: string;
  historyLength: number;
  targets: number;
  /** The user's test value of the list's metric (null when the run stored none). */
  value: number | null;
  /** Whether the top K held a test target (hitrate@K of the metric's K); null when unknown. */
  hit: boolean | null;
}

export const INSPECT_USER_FILTERS = ['all', 'hit', 'miss'] as const;
export type InspectUserFilter = (typeof INSPECT_USER_FILTERS)[number];
export const INSPECT_USER_SORTS = ['raw', 'metric-desc', 'metric-asc', 'history-desc', 'history-asc'] as const;
export type InspectUserSort = (typeof INSPECT_USER_SORTS)[number];

/** Which test-day users the inspector lists, and in what order. */
export interface InspectUserQuery {
  /** Raw-id prefix. */
  search?: string;
  /** A per-user test metric (e.g. recall@50, ndcg@20); recall@50 when absent. */
  metric?: string;
  filter?: InspectUserFilter;
  /** raw id when absent. */
  sort?: InspectUserSort;
  /** At most this many users come back (50 when absent). */
  limit?: number;
}

export interface InspectUserList {
  users: InspectableUser[];
  /** Users matching the search and filter; the list holds the first `limit` of them. */
  total: number;
  metric: string;
  /** The per-user test metrics the run stored (what `metric` may be). */
  metrics: string[];
}

export interface InspectedItem {
  /** Split item id (the model's vocabulary). */
  item: number;
  raw: string;
  /** The item's attributes (name -> value as written); empty when the dataset has none. */
  attributes: Record<string, string>;
}

export interface UserInspection {
  runId: number;
  model: string;
  label: string;
  uid: number;
  raw: string;
  k: number;
  numInterests: number;
  /** The dataset's item attributes, in import order (the items' `attributes` keys). */
  attributeNames: string[];
  /** The (truncated) test-time history in time order, with each item's category assignment. */
  history: Array<InspectedItem & { soft: number[] | null; category: number | null; hard: number | null }>;
  /** Weight (intensity) of each interest: the summed soft assignment, or null when the model has none. */
  weights: number[] | null;
  /** The merged top-K list, best first, with the interest that retrieved each item. */
  retrieved: Array<InspectedItem & { score: number; interest: number; hit: boolean }>;
  targets: InspectedItem[];
  perInterest: Array<{ interest: number; retrieved: number; hits: number }>;
  metrics: Metrics;
  /** 2-D PCA map of the item embeddings with the user's interests projected into it. */
  map: {
    explained: [number, number];
    items: Array<{ item: number; x: number; y: number; role: 'history' | 'retrieved' | 'target' | 'hit' | 'other' }>;
    interests: Array<{ interest: number; x: number; y: number }>;
  };
}
