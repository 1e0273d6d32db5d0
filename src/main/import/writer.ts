// Writing one dataset inside the import's transaction: positives go in through a prepared
// multi-row INSERT (binding a few thousand values per call instead of one statement per row),
// then the day keys are numbered 1..h, the id maps are stored, and the sequence index is
// rebuilt once, sorted, instead of being updated row by row.
import type { Db } from '../store/db.ts';
import { SEQ_INDEX, SEQ_INDEX_SQL } from '../store/sequence-index.ts';
import type { PositiveBatch } from './reader.ts';

/** Rows per INSERT statement: 6-7 values each, well under SQLite's 32,766 variables. */
const ROWS_PER_INSERT = 512;

export class InteractionWriter {
  private readonly insertMany;
  private readonly insertOne;
  private readonly values: unknown[];

  constructor(
    private readonly db: Db,
    private readonly datasetId: number,
    private readonly kept: number,
  ) {
    // The dataset id is a literal (an integer we chose) and feedback NULL when nothing is kept:
    // fewer values to bind per row.
    const row = `(${datasetId},?,?,?,?,?,${kept > 0 ? '?' : 'NULL'})`;
    const sql = (n: number): string => `INSERT INTO interactions (dataset_id,user,item,time,day,seq,feedback) VALUES ${Array(n).fill(row).join(',')}`;
    this.insertMany = db.prepare(sql(ROWS_PER_INSERT));
    this.insertOne = db.prepare(sql(1));
    this.values = new Array(ROWS_PER_INSERT * (kept > 0 ? 6 : 5));
  }

  /**
   * Drops the sequence index when the rows to come outnumber the rows already stored: building
   * it once at the end (a sort) is then far cheaper than inserting into it row by row.
   */
  static prepareIndex(db: Db, expectedRows: number): boolean {
    const stored = (db.prepare('SELECT coalesce(sum(interactions), 0) AS n FROM datasets').get() as { n: number }).n;
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(SEQ_INDEX) !== undefined;
    if (!exists || stored > expectedRows) return false;
    db.exec(`DROP INDEX ${SEQ_INDEX}`);
    return true;
  }

  static rebuildIndex(db: Db): void {
    db.exec(SEQ_INDEX_SQL);
  }

  write(batch: PositiveBatch): void {
    const { values, kept } = this;
    // Feedback values are bound as views into one buffer: SQLite copies each blob on bind.
    const feedback = Buffer.from(batch.feedback.buffer, batch.feedback.byteOffset, batch.count * kept * 8);
    const rowBytes = kept * 8;
    let r = 0;
    for (; r + ROWS_PER_INSERT <= batch.count; r += ROWS_PER_INSERT) {
      let v = 0;
      for (let i = r; i < r + ROWS_PER_INSERT; i++) {
        values[v++] = batch.user[i];
        values[v++] = batch.item[i];
        values[v++] = batch.time[i];
        values[v++] = batch.day[i];
        values[v++] = batch.seq[i];
        if (kept > 0) values[v++] = feedback.subarray(i * rowBytes, (i + 1) * rowBytes);
      }
      this.insertMany.run(values);
    }
    for (; r < batch.count; r++) {
      const one: unknown[] = [batch.user[r], batch.item[r], batch.time[r], batch.day[r], batch.seq[r]];
      if (kept > 0) one.push(feedback.subarray(r * rowBytes, (r + 1) * rowBytes));
      this.insertOne.run(one);
    }
  }

  /**
   * Numbers the day keys 1..h in calendar order (ranks over the distinct days of the
   * positives). When the dataset only has days, time is the day too.
   */
  numberDays(dayKeys: number[], timeIsDay: boolean): void {
    if (dayKeys.every((k, i) => k === i + 1)) return;
    this.db.exec('CREATE TEMP TABLE import_day_map (key INTEGER PRIMARY KEY, idx INTEGER NOT NULL)');
    try {
      const add = this.db.prepare('INSERT INTO temp.import_day_map (key, idx) VALUES (?, ?)');
      dayKeys.forEach((k, i) => add.run(k, i + 1));
      this.db
        .prepare(
          `UPDATE interactions SET day = m.idx${timeIsDay ? ', time = m.idx' : ''}
           FROM temp.import_day_map AS m WHERE interactions.dataset_id = ? AND m.key = interactions.day`,
        )
        .run(this.datasetId);
    } finally {
      this.db.exec('DROP TABLE temp.import_day_map');
    }
  }

  writeIdMaps(usersRaw: string[], itemsRaw: string[]): void {
    for (const [table, idCol, raws] of [
      ['users', 'uid', usersRaw],
      ['items', 'iid', itemsRaw],
    ] as const) {
      const sql = (n: number): string => `INSERT INTO ${table} (dataset_id, ${idCol}, raw) VALUES ${Array(n).fill(`(${this.datasetId},?,?)`).join(',')}`;
      const many = this.db.prepare(sql(ROWS_PER_INSERT));
      const values: unknown[] = new Array(ROWS_PER_INSERT * 2);
      let i = 0;
      for (; i + ROWS_PER_INSERT <= raws.length; i += ROWS_PER_INSERT) {
        for (let k = 0; k < ROWS_PER_INSERT; k++) {
          values[2 * k] = i + k + 1;
          values[2 * k + 1] = raws[i + k];
        }
        many.run(values);
      }
      const one = this.db.prepare(sql(1));
      for (; i < raws.length; i++) one.run(i + 1, raws[i]);
    }
  }
}
