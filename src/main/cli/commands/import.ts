import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { isOneOf } from '../../../shared/one-of.ts';
import { IMPORT_ON_ERROR, IMPORT_PRESETS, type ColumnMapping, type ImportOnError, type ImportPreset, type ImportRequest, type ImportResult } from '../../../shared/types.ts';
import { importDataset, ImportAbortedError } from '../../import/index.ts';
import { openDb, resolveDbPath, type Db } from '../../store/db.ts';
import { JSON_OPTION, parseCommandWithFiles, stringOptions } from '../options.ts';
import { progressView } from '../progress.ts';

const HELP = `usage: cmi-studio import FILE... --preset wechat|kuairand|csv|recbole --name NAME
                         [--positive EXPR] [--map user=COL,item=COL,time=COL|day=COL]
                         [--delimiter C] [--keep COL,COL] [--on-error fail|skip] [--dry-run]
                         [--db PATH] [--json]

  --positive EXPR  which rows are positive interactions, e.g. 'like == 1 || play >= 0.9 * videoplayseconds * 1000'
                   (operators: || && ! == != < <= > >= + - * / and parentheses; default: the preset's rule)
  --map            columns for user, item and time (epoch s/ms or ISO) or day (integer, yyyymmdd, yyyy-mm-dd)
  --delimiter C    field delimiter for csv (default: detected among , TAB ; |); 'tab' for TAB
  --keep COLS      numeric feedback columns stored with each interaction ('' for none)
  --on-error MODE  fail (default): the first malformed row stops the import, nothing is written;
                   skip: rows with a bad field count, id, day, time or number are skipped, counted
                   and the first 10 reported (a bad header or an I/O error still fails)
  --dry-run        count rows, positives, users, items and days without writing
  --json           print one JSON object with the counts on stdout
WeChat: give feed_info.csv too (any position) to use videoplayseconds in the rule.
Progress goes to stderr. Ctrl-C cancels; the store is left as it was.`;

const MAP_KEYS = ['user', 'item', 'time', 'day'] as const;

/** `user=COL,item=COL,time=COL` -> mapping; unknown keys and empty columns are errors. */
function parseMapping(text: string): Partial<ColumnMapping> {
  const map: Partial<ColumnMapping> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const col = part.slice(eq + 1).trim();
    if (eq < 0 || !(MAP_KEYS as readonly string[]).includes(key) || col === '') {
      throw new Error(`bad --map entry '${part}': expected KEY=COLUMN with KEY one of ${MAP_KEYS.join(', ')}`);
    }
    map[key as (typeof MAP_KEYS)[number]] = col;
  }
  return map;
}

function parseDelimiter(text: string): string {
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|' };
  return named[text.toLowerCase()] ?? text;
}

function preset(text: string | undefined): ImportPreset {
  if (text === undefined) throw new Error(`--preset is required (${IMPORT_PRESETS.join('|')})`);
  if (!isOneOf(IMPORT_PRESETS, text)) throw new Error(`unknown preset '${text}' (expected ${IMPORT_PRESETS.join('|')})`);
  return text;
}

/** A dry run writes nothing: an existing store is opened read-only (to check the name), else none. */
function openStore(path: string, dryRun: boolean): Db {
  if (!dryRun) return openDb(path);
  return existsSync(path) ? openDb(path, { readonly: true }) : openDb(':memory:');
}

function onError(text: string | undefined): ImportOnError | undefined {
  if (text === undefined || isOneOf(IMPORT_ON_ERROR, text)) return text;
  throw new Error(`bad --on-error '${text}' (expected ${IMPORT_ON_ERROR.join(' or ')})`);
}

function describe(r: ImportResult): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const what = `${n(r.rows)} rows -> ${n(r.interactions)} interactions, ${n(r.users)} users, ${n(r.items)} items, ${n(r.days)} days`;
  const head = r.dryRun
    ? `dry run of '${r.name}' (nothing written), ${r.seconds.toFixed(1)} s: ${what}`
    : `imported '${r.name}' as dataset ${r.datasetId} in ${r.seconds.toFixed(1)} s: ${what}`;
  const a = r.itemAttributes;
  const items = a ? `\nitem attributes from ${basename(a.file)} (${n(a.matched)} items): ${a.attributes.map((x) => x.name).join(', ')}` : '';
  if (r.skipped === 0) return head + items;
  const first = r.errors.length < r.skipped ? `, the first ${r.errors.length}` : '';
  return [`${head}; ${n(r.skipped)} malformed rows skipped${first}:`, ...r.errors.map((e) => `  ${e.message}`)].join('\n') + items;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandWithFiles(argv, {
      ...stringOptions('preset', 'name', 'positive', 'map', 'delimiter', 'keep', 'on-error'),
      'dry-run': { type: 'boolean', default: false },
      ...JSON_OPTION,
    });
  } catch (err) {
    process.stderr.write(`cmi-studio import: ${err instanceof Error ? err.message : String(err)}\n${HELP}\n`);
    return 2;
  }
  const { values, files: positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`cmi-studio import: no input files\n${HELP}\n`);
    return 2;
  }
  if (values.name === undefined) {
    process.stderr.write(`cmi-studio import: --name is required\n${HELP}\n`);
    return 2;
  }
  let mode: ImportOnError | undefined;
  try {
    mode = onError(values['on-error']);
  } catch (err) {
    process.stderr.write(`cmi-studio import: ${(err as Error).message}\n${HELP}\n`);
    return 2;
  }
  const req: ImportRequest = {
    files: positionals,
    preset: preset(values.preset),
    name: values.name,
    positive: values.positive,
    map: values.map !== undefined ? parseMapping(values.map) : undefined,
    delimiter: values.delimiter !== undefined ? parseDelimiter(values.delimiter) : undefined,
    keep: values.keep !== undefined ? values.keep.split(',').map((c) => c.trim()).filter((c) => c !== '') : undefined,
    dryRun: values['dry-run'],
    onError: mode,
  };

  const db = openStore(resolveDbPath(values.db), req.dryRun === true);
  const abort = new AbortController();
  const cancel = (): void => {
    process.stderr.write('\ncancelling: rolling back…\n');
    abort.abort();
  };
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const view = progressView();
  try {
    const result = await importDataset(db, req, { onProgress: (p) => view.update(p), signal: abort.signal });
    view.done();
    if (values.json) {
      const { name, dryRun, datasetId, seconds, rows, interactions, users, items, days, skipped, errors, itemAttributes } = result;
      process.stdout.write(JSON.stringify({ name, dryRun, datasetId: datasetId ?? null, seconds, rows, interactions, users, items, days, skipped, errors, ...(itemAttributes ? { itemAttributes } : {}) }) + '\n');
    } else {
      process.stdout.write(describe(result) + '\n');
    }
    return 0;
  } catch (err) {
    view.done();
    if (err instanceof ImportAbortedError) {
      process.stderr.write(`cmi-studio import: ${err.message}\n`);
      return 130;
    }
    throw err;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    db.close();
  }
}
