// Everything an import needs to know before it reads a data row: each file's delimiter and
// header, which file is WeChat's feed_info.csv, the resolved column mapping, the kept columns
// and the compiled positive rule. All of it is checked here, so a bad request fails in
// milliseconds with a precise message instead of after minutes of reading.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ColumnMapping, ImportPreset, ImportRequest, TimeKind } from '../../shared/types.ts';
import { ImportError, fileOpenError } from './errors.ts';
import { readHead } from './head.ts';
import { PRESETS, isFeedInfoHeader, presetRule, type PresetSpec } from './presets.ts';
import { compileRule, ruleColumns, type CompiledRule } from './rule.ts';

/** The column WeChat's rule may read from feed_info.csv, joined on feedid. */
export const JOINED_COLUMN = 'videoplayseconds';

export interface SourceFile {
  path: string;
  bytes: number;
  delimiter: string;
  quoting: boolean;
  header: string[];
  headerLine: number;
}

export interface ImportPlan {
  name: string;
  preset: ImportPreset;
  spec: PresetSpec;
  /** Files of interactions, read in the order given. */
  actions: SourceFile[];
  /** WeChat's feed_info.csv when the rule reads it (read first). */
  feedInfo?: SourceFile;
  /** WeChat's feed_info.csv whenever given: its item fields become item attributes. */
  feedInfoPath?: string;
  mapping: ColumnMapping;
  keep: string[];
  rule: CompiledRule;
  /** The rule reads `videoplayseconds` from feed_info rather than from the row. */
  joinsFeedInfo: boolean;
  timeKind: TimeKind;
  totalBytes: number;
  /** onError 'skip': malformed data rows are counted and dropped instead of failing the import. */
  skipBadRows: boolean;
}

function missingColumn(file: SourceFile, name: string, why: string): ImportError {
  return new ImportError(file.path, file.headerLine, 1, 'char', `missing column '${name}' in the header (${why}); header: ${file.header.join(', ')}`);
}

function checkDelimiter(d: string): void {
  if (d.length !== 1 || d === '"' || d === '\n' || d === '\r' || d.charCodeAt(0) > 127) {
    throw new Error(`bad delimiter ${JSON.stringify(d)}: give one ASCII character such as , ; | or a TAB`);
  }
}

async function sourceFile(path: string, spec: PresetSpec, delimiter: string | undefined): Promise<SourceFile> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw fileOpenError(path, err);
  }
  if (!st.isFile()) throw new Error(`${path} is not a file`);
  const bytes = st.size;
  const head = await readHead(path, { delimiter: delimiter ?? spec.delimiter, quoting: spec.quoting, rows: 1, stripTypes: spec.stripTypes });
  if (head.rows.length === 0) {
    throw new ImportError(path, head.headerLine + 1, 1, 'char', 'no data rows after the header');
  }
  return { path, bytes, delimiter: head.delimiter, quoting: spec.quoting, header: head.header, headerLine: head.headerLine };
}

/** Checks the request against the files' headers and compiles the rule. Reads only the first lines. */
export async function planImport(req: ImportRequest): Promise<ImportPlan> {
  const name = req.name.trim();
  if (name === '') throw new Error('the dataset needs a name (--name)');
  const spec = PRESETS[req.preset];
  if (!spec) throw new Error(`unknown preset '${req.preset}' (expected one of ${Object.keys(PRESETS).join(', ')})`);
  if (req.files.length === 0) throw new Error('no input files');
  const twice = req.files.find((f, i) => req.files.findIndex((g) => resolve(g) === resolve(f)) !== i);
  if (twice !== undefined) throw new Error(`${twice} is given twice`);
  if (req.delimiter !== undefined) checkDelimiter(req.delimiter);
  if (req.onError !== undefined && req.onError !== 'fail' && req.onError !== 'skip') {
    throw new Error(`bad onError ${JSON.stringify(req.onError)}: expected 'fail' or 'skip'`);
  }

  const files = await Promise.all(req.files.map((f) => sourceFile(f, spec, req.delimiter)));
  const feedInfos = req.preset === 'wechat' ? files.filter((f) => isFeedInfoHeader(f.header)) : [];
  if (feedInfos.length > 1) throw new Error(`more than one feed_info file: ${feedInfos.map((f) => f.path).join(', ')}`);
  const feedInfo = feedInfos[0];
  const actions = files.filter((f) => f !== feedInfo);
  if (actions.length === 0) throw new Error('no interaction file (only feed_info.csv was given)');

  const mapping = { ...spec.mapping, ...req.map };
  if (!mapping.user || !mapping.item || !(mapping.time || mapping.day)) {
    throw new Error(`the '${req.preset}' preset needs a column mapping: --map user=COL,item=COL,time=COL (or day=COL)`);
  }
  const resolved: ColumnMapping = { user: mapping.user, item: mapping.item, time: mapping.time, day: mapping.day };
  const keep = req.keep ?? spec.keep;

  const first = actions[0];
  const joinsFeedInfo = feedInfo !== undefined && !first.header.includes(JOINED_COLUMN);
  const ruleText = req.positive ?? presetRule(req.preset, feedInfo !== undefined);
  const ruleScope = joinsFeedInfo ? [...first.header, JOINED_COLUMN] : first.header;
  if (req.positive === undefined) {
    // The analyst did not write the preset's rule: a column it needs is the file's fault.
    for (const col of ruleColumns(ruleText)) {
      if (!ruleScope.includes(col)) throw missingColumn(first, col, `used by the ${req.preset} preset's positive rule`);
    }
  }
  const rule = compileRule(ruleText, ruleScope);

  for (const file of actions) {
    for (const [role, col] of Object.entries(resolved)) {
      if (col !== undefined && !file.header.includes(col)) throw missingColumn(file, col, `mapped as ${role}`);
    }
    for (const col of keep) if (!file.header.includes(col)) throw missingColumn(file, col, 'a kept feedback column');
    for (const col of rule.columns) {
      if (!(joinsFeedInfo && col === JOINED_COLUMN) && !file.header.includes(col)) throw missingColumn(file, col, 'used by the positive rule');
    }
  }
  if (feedInfo) {
    for (const col of ['feedid', JOINED_COLUMN]) if (!feedInfo.header.includes(col)) throw missingColumn(feedInfo, col, 'feed_info');
  }

  // feed_info.csv is read only when the rule looks at the video length.
  const usesJoin = joinsFeedInfo && rule.columns.includes(JOINED_COLUMN);
  const read = usesJoin && feedInfo ? [feedInfo, ...actions] : actions;
  return {
    name,
    preset: req.preset,
    spec,
    actions,
    feedInfo: usesJoin ? feedInfo : undefined,
    ...(feedInfo ? { feedInfoPath: feedInfo.path } : {}),
    mapping: resolved,
    keep,
    rule,
    joinsFeedInfo: usesJoin,
    timeKind: resolved.time ? 'timestamp' : 'day',
    totalBytes: read.reduce((sum, f) => sum + f.bytes, 0),
    skipBadRows: req.onError === 'skip',
  };
}
