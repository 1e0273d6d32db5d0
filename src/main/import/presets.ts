// What each preset knows about its files: delimiter, quoting, the default column mapping, how
// ids and days are written, which feedback columns to keep, and the positive rule.
import { extname } from 'node:path';
import type { ColumnMapping, ImportPreset } from '../../shared/types.ts';
import type { DayFormat } from './fields.ts';

export interface PresetSpec {
  /** Fixed field delimiter; undefined: detected from the header line. */
  delimiter?: string;
  /** Honour double quotes. KuaiRand and RecBole files are plain TSV, never quoted. */
  quoting: boolean;
  /** Default column mapping (`--map` overrides it). */
  mapping: Partial<ColumnMapping>;
  /** 'int': ids must be integers (WeChat); 'text': any non-empty text. */
  idKind: 'int' | 'text';
  /** How the day column is written; undefined: detected from the first value. */
  dayFormat?: DayFormat;
  /** Feedback columns stored with each interaction unless `--keep` says otherwise. */
  keep: string[];
  /** RecBole headers carry types (`user_id:token`); the names are the part before ':'. */
  stripTypes: boolean;
}

export const PRESETS: Record<ImportPreset, PresetSpec> = {
  wechat: {
    delimiter: ',',
    quoting: true,
    mapping: { user: 'userid', item: 'feedid', day: 'date_' },
    idKind: 'int',
    dayFormat: 'int',
    // None by default: at 2.7M positives every kept column costs ~0.5 s of import time and
    // 22 MB; `--keep play,stay` stores the watch times.
    keep: [],
    stripTypes: false,
  },
  kuairand: {
    delimiter: '\t',
    quoting: false,
    mapping: { user: 'user_id', item: 'video_id', time: 'time_ms', day: 'date' },
    idKind: 'text',
    dayFormat: 'yyyymmdd',
    // A small log: keeping the watch time costs nothing and the inspector can show it.
    keep: ['play_time_ms', 'duration_ms'],
    stripTypes: false,
  },
  csv: { quoting: true, mapping: {}, idKind: 'text', keep: [], stripTypes: false },
  recbole: {
    delimiter: '\t',
    quoting: false,
    mapping: { user: 'user_id', item: 'item_id', time: 'timestamp' },
    idKind: 'text',
    keep: [],
    stripTypes: true,
  },
};

const WECHAT_FLAGS = ['read_comment', 'comment', 'like', 'click_avatar', 'forward', 'follow', 'favorite'];

/**
 * The preset's positive rule. WeChat: any satisfaction flag, or (with feed_info.csv) a play
 * that reaches the video's length; the papers do not publish their exact rule (see
 * docs/import.md), so this is a default the analyst can replace.
 */
export function presetRule(preset: ImportPreset, hasFeedInfo: boolean): string {
  switch (preset) {
    case 'wechat': {
      const flags = WECHAT_FLAGS.map((f) => `${f} == 1`).join(' || ');
      return hasFeedInfo ? `${flags} || play >= videoplayseconds * 1000` : flags;
    }
    case 'kuairand':
      return 'label == 1';
    case 'csv':
    case 'recbole':
      return 'true';
  }
}

/** WeChat's feed_info.csv is recognised by its header, wherever it sits among the files. */
export function isFeedInfoHeader(header: string[]): boolean {
  return header.includes('feedid') && header.includes('videoplayseconds') && !header.includes('userid');
}

/** Guesses the preset of a file from its header (and `.inter` extension for RecBole). */
export function detectPreset(header: string[], path: string): ImportPreset {
  const has = (...names: string[]): boolean => names.every((n) => header.includes(n));
  if (has('userid', 'feedid', 'date_') || isFeedInfoHeader(header)) return 'wechat';
  if (extname(path).toLowerCase() === '.inter' || (header.length > 0 && header.every((h) => /^[^:]+:[a-z_]+$/.test(h)))) return 'recbole';
  if (has('user_id', 'video_id', 'date', 'time_ms', 'label')) return 'kuairand';
  return 'csv';
}

const CANDIDATES = [',', '\t', ';', '|'];

/**
 * The delimiter of a delimited text sample: among , TAB ; | the one found the same (non-zero)
 * number of times on the most lines, ties broken by the larger count. Quoted text is skipped so
 * commas inside quotes do not vote.
 */
export function detectDelimiter(sample: string): string {
  // CR alone ends lines too (old Mac files), as in the scanner.
  const lines = sample.replace(/"(?:[^"]|"")*"/g, '""').split(/\r\n|\r|\n/).filter((l) => l.length > 0).slice(0, 20);
  if (lines.length > 1 && !/[\r\n]$/.test(sample)) lines.pop();
  let best = ',';
  let bestScore = -1;
  for (const d of CANDIDATES) {
    const counts = lines.map((l) => l.split(d).length - 1);
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const agree = counts.filter((c) => c === first).length;
    const score = agree * 1000 + first;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}
