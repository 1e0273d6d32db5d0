// The analyst's annotations of a run: tags (table run_tags) and a free-text note (runs.note).
// Both are searched by the experiments list (store/runs.ts listRuns).
import type { Db } from './db.ts';

export const MAX_TAG = 50;
export const MAX_NOTE = 10_000;

/** A tag as stored: trimmed, 1..50 characters, no commas (the list and the CLI separate tags
 *  with them) and no control characters. */
export function checkTag(raw: string): string {
  const tag = raw.trim();
  if (tag === '') throw new Error('a tag cannot be empty');
  if ([...tag].length > MAX_TAG) throw new Error(`the tag '${tag.slice(0, 20)}…' is longer than ${MAX_TAG} characters`);
  if (/[,\u0000-\u001f\u007f-\u009f]/u.test(tag)) throw new Error(`the tag '${tag}' contains a comma or a control character; tags are single words or short phrases`);
  return tag;
}

/** Replaces the run's tags (duplicates dropped); the caller has checked the run exists. */
export function setRunTags(db: Db, runId: number, tags: readonly string[]): void {
  const clean = [...new Set(tags.map(checkTag))];
  const insert = db.prepare('INSERT INTO run_tags (run_id, tag) VALUES (?, ?)');
  db.transaction(() => {
    db.prepare('DELETE FROM run_tags WHERE run_id = ?').run(runId);
    for (const tag of clean) insert.run(runId, tag);
  })();
}

/** Sets the run's note; an empty (or blank) note clears it. */
export function setRunNote(db: Db, runId: number, note: string): void {
  const text = note.trim();
  if (text.length > MAX_NOTE) throw new Error(`the note is ${text.length} characters long; at most ${MAX_NOTE} are kept`);
  db.prepare('UPDATE runs SET note = ? WHERE id = ?').run(text, runId);
}

/** Every tag in use, with how many runs carry it (the list's tag filter offers these). */
export function runTagCounts(db: Db): Array<{ tag: string; runs: number }> {
  return db.prepare('SELECT tag, COUNT(*) AS runs FROM run_tags GROUP BY tag ORDER BY tag').all() as Array<{ tag: string; runs: number }>;
}
