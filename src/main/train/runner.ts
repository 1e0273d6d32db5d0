// Parent side of training: prepares runs (split, config, row) and runs each in a worker process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SEED } from '../../shared/defaults.ts';
import type { RunSummary, SplitParams, TrainEvent } from '../../shared/types.ts';
import { writeWhenFree, type WaitOptions } from '../store/busy.ts';
import { ensureSplit, ensureSplitInSteps, requireUsableSplit } from '../store/splits.ts';
import { getModel } from '../models/registry.ts';
import type { Config } from '../models/types.ts';
import { openDb, type Db } from '../store/db.ts';
import { createRun, listRuns, requireRun, runningRuns, runPid, updateRun } from '../store/runs.ts';
import { resolveConfig } from '../models/config.ts';
import { isAlive } from './pid.ts';

export interface RunRequest {
  datasetId: number;
  model: string;
  config?: Config;
  seed?: number;
  split?: Partial<SplitParams>;
  group?: string;
  /** Table label; defaults to the model's label (with the variant for ablations). */
  label?: string;
}

/** The split a run trains on: the request's, with the model's maxlen unless it gives one. */
export function runSplitParams(req: RunRequest): Partial<SplitParams> {
  const config = resolveConfig(getModel(req.model), req.config ?? {});
  return { maxlen: Number(config.maxlen), ...(req.split ?? {}) };
}

/** Creates the run row (queued) with a complete config and a stored split; returns its id. */
export function prepareRun(db: Db, req: RunRequest): number {
  const def = getModel(req.model);
  const config = resolveConfig(def, req.config ?? {});
  // Splits stored before they were checked may still be unusable: refuse them too.
  const split = requireUsableSplit(ensureSplit(db, req.datasetId, runSplitParams(req)));
  return createRun(db, {
    datasetId: req.datasetId,
    splitId: split.id,
    model: def.name,
    label: req.label ?? def.label,
    config,
    seed: req.seed ?? DEFAULT_SEED,
    group: req.group ?? null,
  });
}

/**
 * prepareRun for each request beside other jobs: the splits are built in steps first (the
 * thread stays free), then every row in one transaction once the write lock is free (an import
 * may hold it for minutes), so a bad setting fails the whole request before anything is queued.
 */
export async function prepareRuns(db: Db, requests: RunRequest[], wait: WaitOptions = {}): Promise<number[]> {
  for (const r of requests) await ensureSplitInSteps(db, r.datasetId, runSplitParams(r), wait);
  return (await writeWhenFree(db, () => requests.map((r) => prepareRun(db, r)), wait)) ?? [];
}

/**
 * An earlier run that answers the same request — same dataset, model, complete config and seed
 * (and group, when given) — and did not fail: a finished one first. Scripts and the demo reuse
 * it (or resume it) instead of training the same thing twice.
 */
export function findSameRun(db: Db, req: RunRequest): RunSummary | undefined {
  const def = getModel(req.model);
  // Both sides resolved, so a run stored before a config key existed (its default then
  // implied) still matches, whatever the key order.
  const canonical = (c: Config): string | null => {
    try {
      return JSON.stringify(Object.entries(resolveConfig(def, c)).sort(([a], [b]) => a.localeCompare(b)));
    } catch {
      return null; // a key this version no longer knows: not the same run
    }
  };
  const wanted = canonical(req.config ?? {});
  const seed = req.seed ?? DEFAULT_SEED;
  return listRuns(db, { datasetId: req.datasetId, ...(req.group ? { group: req.group } : {}) })
    .filter((r) => r.model === def.name && r.seed === seed && r.status !== 'failed' && canonical(r.config) === wanted)
    .sort((a, b) => Number(b.status === 'done') - Number(a.status === 'done') || a.id - b.id)[0];
}

/** How the worker is started: in Node through tsx; an Electron build passes its bundled entry. */
let workerEntry = { path: fileURLToPath(new URL('./worker.ts', import.meta.url)), execArgv: ['--import', import.meta.resolve('tsx')] };
export function setWorkerEntry(path: string, execArgv: string[] = []): void {
  workerEntry = { path, execArgv };
}

export interface RunHandle {
  runId: number;
  pid: number | undefined;
  /** Resolves with the stored run once the worker has exited. */
  done: Promise<RunSummary>;
  /** Asks the worker to checkpoint and stop; kills it if it does not within 15 s. */
  cancel(): void;
}

/** A run marked running whose worker is gone was interrupted (killed, crashed, machine off). */
export function markInterrupted(db: Db): void {
  for (const r of runningRuns(db)) if (r.pid === null || !isAlive(r.pid)) updateRun(db, r.id, { status: 'interrupted', pid: null });
}

/** Starts (or resumes, when the run has a checkpoint) a run in a worker process. */
export function launchRun(dbPath: string, runId: number, onEvent: (e: TrainEvent) => void): RunHandle {
  const db = openDb(dbPath);
  try {
    const run = requireRun(db, runId);
    if (run.status === 'done') throw new Error(`run ${runId} is already done`);
    const pid = runPid(db, runId);
    if (run.status === 'running' && pid !== null && isAlive(pid)) throw new Error(`run ${runId} is already running (pid ${pid})`);
  } finally {
    db.close();
  }
  const child: ChildProcess = fork(workerEntry.path, [dbPath, String(runId)], {
    execArgv: workerEntry.execArgv,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let lastError: string | undefined;
  child.on('message', (m: TrainEvent) => {
    if (m.type === 'finished' && m.error) lastError = m.error;
    onEvent(m);
  });
  const done = new Promise<RunSummary>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const db2 = openDb(dbPath);
      // Waits for the lock (an import may hold it) without blocking the host's thread.
      const settle = async (): Promise<RunSummary> => {
        const run = requireRun(db2, runId);
        if (run.status !== 'running' && run.status !== 'queued') return run;
        const error = lastError ?? `worker exited with ${signal ? `signal ${signal}` : `code ${code}`}`;
        await writeWhenFree(db2, () => {
          const now = requireRun(db2, runId);
          if (now.status === 'running' || now.status === 'queued') updateRun(db2, runId, { status: 'interrupted', pid: null, error });
        });
        return requireRun(db2, runId);
      };
      settle()
        .then(resolve, reject)
        .finally(() => db2.close());
    });
  });
  return {
    runId,
    pid: child.pid,
    done,
    cancel() {
      if (child.exitCode !== null) return;
      child.send({ type: 'cancel' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => clearTimeout(timer));
    },
  };
}
