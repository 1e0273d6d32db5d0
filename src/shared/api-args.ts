// One argument schema per StudioApi method. dispatch() (src/main/hosts/dispatch.ts) checks every
// call from a transport against it before the core sees it, so a bad argument fails the same
// way, with its path named, whichever method it reaches. The mapped type keeps the table and
// the contract together: a missing method, or a schema whose type differs from the method's
// parameters, does not compile.
import type { StudioApi, StudioMethod } from './api.ts';
import { anyOf, args, array, bool, int, leaf, num, object, oneOf, optional, pair, record, str, type ArgsSchema } from './schema.ts';
import { BREAKDOWN_KINDS, SIGNIFICANCE_TESTS, TABLE_FORMATS, TABLE_METRICS, type ComparisonTable } from './tables.ts';
import { EMBEDDING_FORMATS } from './run-actions.ts';
import { isRunSort, RUN_SORT_HELP, type RunSort } from './run-order.ts';
import { IMPORT_ON_ERROR, IMPORT_PRESETS, INSPECT_USER_FILTERS, INSPECT_USER_SORTS, RUN_STATUSES, SPLIT_KINDS } from './types.ts';

const id = int;
const configValue = anyOf(num, str, bool);

const splitParams = object({
  kind: optional(oneOf(SPLIT_KINDS)),
  minTrainDays: optional(int),
  minTrainItems: optional(int),
  maxlen: optional(int),
  quantiles: optional(pair(num)),
});

const importRequest = object({
  files: array(str),
  preset: oneOf(IMPORT_PRESETS),
  name: str,
  positive: optional(str),
  map: optional(object({ user: optional(str), item: optional(str), time: optional(str), day: optional(str) })),
  delimiter: optional(str),
  keep: optional(array(str)),
  dryRun: optional(bool),
  onError: optional(oneOf(IMPORT_ON_ERROR)),
});

const trainRequest = object({
  datasetId: id,
  split: optional(splitParams),
  model: str,
  config: record(configValue),
  seeds: array(int),
  ablation: optional(bool),
  interests: optional(array(int)),
  grid: optional(record(array(configValue))),
  group: optional(str),
});

const runQuery = object({
  datasetId: optional(id),
  model: optional(str),
  status: optional(oneOf(RUN_STATUSES)),
  group: optional(str),
  tag: optional(str),
  search: optional(str),
  sort: optional(leaf<RunSort>(RUN_SORT_HELP, isRunSort)),
  desc: optional(bool),
});

const inspectUserQuery = object({
  search: optional(str),
  metric: optional(str),
  filter: optional(oneOf(INSPECT_USER_FILTERS)),
  sort: optional(oneOf(INSPECT_USER_SORTS)),
  limit: optional(int),
});

const compareFields = {
  runIds: array(id),
  metrics: array(oneOf(TABLE_METRICS)),
  ks: array(int),
  significance: oneOf(SIGNIFICANCE_TESTS),
  focus: optional(str),
  title: optional(str),
};

// A table comes back from compareRuns; checked as a whole, as the exporters read it.
const comparisonTable = leaf<ComparisonTable>('a comparison table', (v) => {
  const t = v as Partial<Record<keyof ComparisonTable, unknown>> | null;
  return typeof t === 'object' && t !== null && Array.isArray(t.columns) && Array.isArray(t.rows) && Array.isArray(t.summary);
});

export const API_ARGS: { [M in StudioMethod]: ArgsSchema<Parameters<StudioApi[M]>> } = {
  appInfo: args(),
  listDir: args(['path', optional(str)]),
  listDatasets: args(),
  getDataset: args(['dataset id', id]),
  deleteDataset: args(['dataset id', id]),
  datasetCharts: args(['dataset id', id]),
  previewFile: args(['path', str], ['rows', optional(int)]),
  importDefaults: args(['preset', oneOf(IMPORT_PRESETS)], ['files', array(str)]),
  validateRule: args(['rule', str], ['columns', array(str)]),
  importDataset: args(['req', importRequest], ['jobId', str]),
  cancelJob: args(['jobId', str]),
  itemAttributes: args(['dataset id', id]),
  importItems: args(['req', object({ datasetId: id, file: str, idColumn: optional(str), columns: optional(array(str)), delimiter: optional(str) })]),
  listSplits: args(['dataset id', id]),
  ensureSplit: args(['dataset id', id], ['params', splitParams]),
  splitStats: args(['split id', id]),
  listModels: args(),
  sharedConfigKeys: args(),
  startTraining: args(['req', trainRequest]),
  cancelRun: args(['run id', id]),
  resumeRun: args(['run id', id]),
  rerun: args(['run id', id]),
  trainingQueue: args(),
  cancelSet: args(['group', str]),
  resumeSet: args(['group', str]),
  deleteSet: args(['group', str]),
  listRuns: args(['query', optional(runQuery)]),
  getRun: args(['run id', id]),
  deleteRun: args(['run id', id]),
  runCurves: args(['run id', id]),
  setRunTags: args(['run id', id], ['tags', array(str)]),
  setRunNote: args(['run id', id], ['note', str]),
  runTags: args(),
  runConfig: args(['run id', id]),
  diffRuns: args(['run a', id], ['run b', id]),
  exportEmbeddings: args(['run id', id], ['format', optional(oneOf(EMBEDDING_FORMATS))]),
  inspectableUsers: args(['run id', id], ['query', optional(inspectUserQuery)]),
  findInspectUser: args(['run id', id], ['raw id', str]),
  inspectUser: args(['run id', id], ['user id', int], ['k', optional(int)]),
  interestAlignment: args(['run id', id], ['attribute', str]),
  compareRuns: args(['req', object(compareFields)]),
  compareLabels: args(['run ids', array(id)]),
  compareBreakdown: args(['req', object({ ...compareFields, by: oneOf(BREAKDOWN_KINDS) })]),
  compareDistributions: args(['req', object({ runIds: array(id), metric: str })]),
  exportTable: args(['table', comparisonTable], ['format', oneOf(TABLE_FORMATS)]),
};
