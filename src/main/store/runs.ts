// Runs (experiments) and what they produce: curves, checkpoints, embeddings.
import type { CurvePoint, Metrics, RunQuery, RunStatus, RunSummary, StopReason } from '../../shared/types.ts';
import { sortRuns } from '../../shared/run-order.ts';
import type { Config } from '../models/types.ts';
import type { Db } from './db.ts';

interface RunRow {
  id: number;
  dataset_id: number;
  dataset_name: string;
  split_id: number;
  model: string;
  label: string;
  config: string;
  seed: number;
  grp: string | null;
  status: RunStatus;
  stopped: StopReason | null;
  backend: string | null;
  device: string | null;
  steps: number;
  best_step: number | null;
  seconds: number;
  valid: string | null;
  test: string | null;
  error: string | null;
  note: string;
  /** JSON array, sorted. */
  tags: string;
  created_at: string;
}

const SELECT = `SELECT r.*, d.name AS dataset_name,
  (SELECT json_group_array(tag) FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)) AS tags
  FROM runs r JOIN datasets d ON d.id = r.dataset_id`;

/** `text` as a LIKE pattern matching it anywhere (its own % and _ taken literally). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function toSummary(r: RunRow): RunSummary {
  const config = JSON.parse(r.config) as Config;
  return {
    id: r.id,
    datasetId: r.dataset_id,
    datasetName: r.dataset_name,
    splitId: r.split_id,
    model: r.model,
    label: r.label,
    interests: typeof config.interests === 'number' ? config.interests : 1,
    seed: r.seed,
    config,
    status: r.status,
    stopped: r.stopped,
    backend: r.backend,
    device: r.device,
    steps: r.steps,
    bestStep: r.best_step,
    seconds: r.seconds,
    valid: r.valid ? (JSON.parse(r.valid) as Metrics) : null,
    test: r.test ? (JSON.parse(r.test) as Metrics) : null,
    group: r.grp,
    tags: JSON.parse(r.tags) as string[],
    note: r.note,
    error: r.error,
    createdAt: r.created_at,
  };
}

export interface NewRun {
  datasetId: number;
  splitId: number;
  model: string;
  label: string;
  config: Config;
  seed: number;
  group?: string | null;
}

export function createRun(db: Db, run: NewRun): number {
  const info = db
    .prepare(
      `INSERT INTO runs (dataset_id, split_id, model, label, config, seed, grp, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'queued')`,
    )
    .run(run.datasetId, run.splitId, run.model, run.label, JSON.stringify(run.config), run.seed, run.group ?? null);
  return Number(info.lastInsertRowid);
}

export function listRuns(db: Db, filter: RunQuery = {}): RunSummary[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.datasetId !== undefined) (where.push('r.dataset_id = ?'), args.push(filter.datasetId));
  if (filter.model !== undefined) (where.push('r.model = ?'), args.push(filter.model));
  if (filter.status !== undefined) (where.push('r.status = ?'), args.push(filter.status));
  if (filter.group !== undefined) (where.push('r.grp = ?'), args.push(filter.group));
  if (filter.tag !== undefined) (where.push('EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag = ?)'), args.push(filter.tag));
  const search = filter.search?.trim();
  if (search) {
    // LIKE ignores case for ASCII letters, which is what run labels and tags are written in.
    const like = "LIKE ? ESCAPE '\\'";
    where.push(`(r.model ${like} OR r.label ${like} OR r.grp ${like} OR r.note ${like} OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag ${like}))`);
    args.push(...Array<string>(5).fill(containing(search)));
  }
  const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id`;
  const runs = (db.prepare(sql).all(...args) as RunRow[]).map(toSummary);
  return filter.sort === undefined && !filter.desc ? runs : sortRuns(runs, filter.sort, filter.desc);
}

export function getRun(db: Db, id: number): RunSummary | undefined {
  const row = db.prepare(`${SELECT} WHERE r.id = ?`).get(id) as RunRow | undefined;
  return row && toSummary(row);
}

export function requireRun(db: Db, id: number): RunSummary {
  const run = getRun(db, id);
  if (!run) throw new Error(`no run with id ${id}`);
  return run;
}

export function deleteRun(db: Db, id: number): void {
  db.prepare('DELETE FROM runs WHERE id = ?').run(id);
}

export type RunUpdate = Partial<{
  status: RunStatus;
  stopped: StopReason | null;
  backend: string;
  device: string;
  steps: number;
  bestStep: number | null;
  seconds: number;
  valid: Metrics | null;
  test: Metrics | null;
  error: string | null;
  pid: number | null;
}>;

const COLUMN: Record<keyof RunUpdate, string> = {
  status: 'status',
  stopped: 'stopped',
  backend: 'backend',
  device: 'device',
  steps: 'steps',
  bestStep: 'best_step',
  seconds: 'seconds',
  valid: 'valid',
  test: 'test',
  error: 'error',
  pid: 'pid',
};

export function updateRun(db: Db, id: number, update: RunUpdate): void {
  const keys = Object.keys(update) as (keyof RunUpdate)[];
  if (!keys.length) return;
  const values = keys.map((k) => {
    const v = update[k];
    return (k === 'valid' || k === 'test') && v !== null && v !== undefined ? JSON.stringify(v) : (v ?? null);
  });
  db.prepare(`UPDATE runs SET ${keys.map((k) => `${COLUMN[k]} = ?`).join(', ')} WHERE id = ?`).run(...values, id);
}

export function runPid(db: Db, id: number): number | null {
  const row = db.prepare('SELECT pid FROM runs WHERE id = ?').get(id) as { pid: number | null } | undefined;
  return row?.pid ?? null;
}

/** The runs marked running, with their worker's process id. */
export function runningRuns(db: Db): { id: number; pid: number | null }[] {
  return db.prepare("SELECT id, pid FROM runs WHERE status = 'running'").all() as { id: number; pid: number | null }[];
}

// A point's times ride in its JSON column under keys no loss term or metric can have, so no
// migration is needed and points recorded before they were kept still read (without times).
const SECONDS_KEY = '$seconds';
const TIME_KEY = '$time';

export function addCurvePoint(db: Db, runId: number, p: CurvePoint): void {
  const vals: Record<string, number> = { ...p.values };
  if (p.seconds !== undefined) vals[SECONDS_KEY] = p.seconds;
  if (p.time !== undefined) vals[TIME_KEY] = p.time;
  db.prepare('INSERT INTO run_curves (run_id, step, kind, stage, vals) VALUES (?, ?, ?, ?, ?)').run(
    runId,
    p.step,
    p.kind,
    p.stage ?? null,
    JSON.stringify(vals),
  );
}

/** Drops curve points past a step: a resumed run re-records what came after its checkpoint. */
export function truncateCurves(db: Db, runId: number, afterStep: number): void {
  db.prepare('DELETE FROM run_curves WHERE run_id = ? AND step > ?').run(runId, afterStep);
}

export function runCurves(db: Db, runId: number): CurvePoint[] {
  const rows = db
    .prepare('SELECT step, kind, stage, vals FROM run_curves WHERE run_id = ? ORDER BY step, rowid')
    .all(runId) as { step: number; kind: 'train' | 'valid'; stage: string | null; vals: string }[];
  return rows.map((r) => {
    const { [SECONDS_KEY]: seconds, [TIME_KEY]: time, ...values } = JSON.parse(r.vals) as Record<string, number>;
    return {
      step: r.step,
      kind: r.kind,
      ...(r.stage ? { stage: r.stage } : {}),
      values,
      ...(seconds !== undefined ? { seconds } : {}),
      ...(time !== undefined ? { time } : {}),
    };
  });
}

export interface Checkpoint {
  step: number;
  state: string;
  tensors: Buffer;
}

export function saveCheckpoint(db: Db, runId: number, tag: 'last' | 'best', c: Checkpoint): void {
  db.prepare(
    `INSERT INTO checkpoints (run_id, tag, step, state, tensors) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (run_id, tag) DO UPDATE SET step = excluded.step, state = excluded.state,
       tensors = excluded.tensors, created_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')`,
  ).run(runId, tag, c.step, c.state, c.tensors);
}

export function deleteCheckpoint(db: Db, runId: number, tag: 'last' | 'best'): void {
  db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND tag = ?').run(runId, tag);
}

export function loadCheckpoint(db: Db, runId: number, tag: 'last' | 'best'): Checkpoint | undefined {
  return db.prepare('SELECT step, state, tensors FROM checkpoints WHERE run_id = ? AND tag = ?').get(runId, tag) as
    | Checkpoint
    | undefined;
}
