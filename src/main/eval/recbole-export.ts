// A stored split as RecBole atomic files (NAME.train.inter, NAME.valid.inter, NAME.test.inter,
// raw ids), so another system trains and tests on exactly our data (docs/protocol.md, section 7).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitData } from '../data/split.ts';
import type { Db } from '../store/db.ts';
import { rawIds } from '../store/raw-ids.ts';
import { readInteractions } from '../store/splits.ts';

export const RECBOLE_HEADER = 'user_id:token\titem_id:token\ttimestamp:float';
const PHASES = ['train', 'valid', 'test'] as const;

export interface ExportedSplit {
  files: Record<(typeof PHASES)[number], string>;
  /** Lines written per file (header excluded). */
  rows: Record<(typeof PHASES)[number], number>;
}

/** A RecBole token may not hold the field or line separators. */
function token(raw: string, what: string): string {
  if (/[\t\r\n]/.test(raw)) throw new Error(`${what} id ${JSON.stringify(raw)} holds a TAB or line break, which a RecBole token cannot`);
  return raw;
}

/**
 * Writes the split's three parts in raw ids. Each line keeps the interaction's stored time (epoch
 * ms, or the day number for day-only data), found by walking the user's positives in time order:
 * the split's train, valid and test sequences are, concatenated, that walk restricted to the
 * split's vocabulary. `name` is the file stem (RecBole's dataset name).
 */
export function exportRecbole(db: Db, split: SplitData, dir: string, name: string): ExportedSplit {
  const ids = rawIds(db, split.datasetId);
  const cols = readInteractions(db, split.datasetId);
  const toSplit = new Map<number, number>();
  split.vocab.forEach((iid, sid) => sid > 0 && toSplit.set(iid, sid));
  const rowOf = new Map<number, number>();
  split.users.forEach((uid, u) => rowOf.set(uid, u));
  const lines: Record<(typeof PHASES)[number], string[]> = { train: [RECBOLE_HEADER], valid: [RECBOLE_HEADER], test: [RECBOLE_HEADER] };
  for (let start = 0; start < cols.user.length; ) {
    let end = start + 1;
    while (end < cols.user.length && cols.user[end] === cols.user[start]) end++;
    const u = rowOf.get(cols.user[start]);
    if (u !== undefined) {
      const parts = PHASES.map((p) => (p === 'train' ? split.train[u] : p === 'valid' ? split.valid[u] : split.test[u]));
      const user = token(ids.users[cols.user[start]], 'user');
      let phase = 0;
      let at = 0;
      for (let i = start; i < end && phase < parts.length; i++) {
        const sid = toSplit.get(cols.item[i]);
        if (sid === undefined) continue;
        while (phase < parts.length && at >= parts[phase].length) (phase++, (at = 0));
        if (phase === parts.length) break;
        if (parts[phase][at] !== sid) throw new Error(`split ${split.id} no longer matches dataset ${split.datasetId}'s interactions (user ${user}); rebuild the split`);
        lines[PHASES[phase]].push(`${user}\t${token(ids.items[cols.item[i]], 'item')}\t${cols.time[i]}`);
        at++;
      }
    }
    start = end;
  }
  mkdirSync(dir, { recursive: true });
  const files = {} as ExportedSplit['files'];
  const rows = {} as ExportedSplit['rows'];
  for (const p of PHASES) {
    files[p] = join(dir, `${name}.${p}.inter`);
    rows[p] = lines[p].length - 1;
    writeFileSync(files[p], lines[p].join('\n') + '\n');
  }
  const expected = (seqs: Int32Array[]): number => seqs.reduce((c, s) => c + s.length, 0);
  if (rows.train !== expected(split.train) || rows.valid !== expected(split.valid) || rows.test !== expected(split.test)) {
    throw new Error(`split ${split.id} no longer matches dataset ${split.datasetId}'s interactions; rebuild the split`);
  }
  return { files, rows };
}

/** A file stem RecBole accepts as a dataset name. */
export function recboleName(datasetName: string): string {
  return datasetName.replace(/[^A-Za-z0-9_-]/g, '_');
}
