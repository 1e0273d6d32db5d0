// The one training queue, for the UI, sweeps and the demo: queued runs train in worker
// processes, up to `concurrency` at once, and a set (the runs of one group: ablation, sweep,
// grid, seeds) is cancelled, resumed or deleted as a whole. Two workers of one OpenBLAS thread
// each finish a pair of runs sooner than one after another on two threads (docs/benchmarks.md,
// "Two runs at once"), so two is the default.
import type { TrainingQueueState } from '../../shared/api.ts';
import type { RunSummary, TrainEvent } from '../../shared/types.ts';
import type { Db } from '../store/db.ts';
import { deleteRun, getRun, listRuns, runPid, updateRun } from '../store/runs.ts';
import { isAlive } from './pid.ts';
import type { RunHandle } from './runner.ts';

export type Launcher = (dbPath: string, runId: number, onEvent: (e: TrainEvent) => void) => RunHandle;

export const DEFAULT_CONCURRENCY = 2;

/** A concurrency setting: 1 or 2 workers at once. */
export function parseConcurrency(raw: string | number | undefined, where: string): number {
  if (raw === undefined || raw === '') return DEFAULT_CONCURRENCY;
  const n = Number(raw);
  if (n !== 1 && n !== 2) throw new Error(`${where} must be 1 or 2 (runs training at once), got '${raw}'`);
  return n;
}

export interface QueueOptions {
  dbPath: string;
  db: Db;
  /** launchRun, loaded when first needed: it pulls in the models and TF.js. */
  loadLauncher: () => Promise<Launcher>;
  emit: (e: TrainEvent) => void;
  concurrency?: number;
  /** Called with the stored run once its worker has exited. */
  onSettled?: (run: RunSummary) => void;
}

/** A slot of a run being started or trained; the handle arrives once the worker is forked. */
interface Slot {
  handle: RunHandle | null;
  cancelled: boolean;
  /** Resumed while its cancel was still checkpointing: queue it again once the worker exits. */
  requeue: boolean;
}

/** Statuses a set's run is resumed from (queued: left over by a queue that stopped). */
const RESUMABLE = new Set(['queued', 'cancelled', 'interrupted', 'failed']);

function isResumable(run: RunSummary): boolean {
  return RESUMABLE.has(run.status);
}

export class TrainingQueue {
  private queued: number[] = [];
  private readonly active = new Map<number, Slot>();
  private idleWaiters: (() => void)[] = [];
  readonly concurrency: number;

  constructor(private readonly opts: QueueOptions) {
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  }

  state(): TrainingQueueState {
    return { active: [...this.active.keys()], queued: [...this.queued], concurrency: this.concurrency };
  }

  has(runId: number): boolean {
    return this.active.has(runId) || this.queued.includes(runId);
  }

  /** Queues runs (marked queued in the store, so another process sees them waiting). */
  enqueue(runIds: number[]): void {
    const elsewhere = runIds.map((id) => getRun(this.opts.db, id)).find((r) => r !== undefined && this.runningElsewhere(r));
    if (elsewhere) throw new Error(`run ${elsewhere.id} is training in another process (pid ${runPid(this.opts.db, elsewhere.id)})`);
    for (const id of runIds) {
      if (this.has(id)) continue;
      updateRun(this.opts.db, id, { status: 'queued', stopped: null });
      this.queued.push(id);
    }
    this.pump();
  }

  cancel(runId: number): void {
    const slot = this.active.get(runId);
    if (slot) {
      slot.cancelled = true;
      slot.requeue = false;
      slot.handle?.cancel();
      return;
    }
    const at = this.queued.indexOf(runId);
    if (at < 0) throw new Error(`run ${runId} is neither running nor queued here`);
    this.queued.splice(at, 1);
    this.markCancelled(runId);
  }

  /**
   * Cancels every unfinished run of the group: here (queued ones leave the queue, running ones
   * checkpoint), and those of another process (a CLI sweep, the app): queued rows are marked
   * cancelled, which that queue skips, and running workers get SIGTERM, which checkpoints too.
   */
  cancelSet(group: string): number[] {
    const runs = this.requireSet(group);
    const hit: number[] = [];
    for (const r of runs) {
      if (this.has(r.id)) this.cancel(r.id);
      else if (r.status === 'queued') this.markCancelled(r.id);
      else if (r.status === 'running') {
        const pid = runPid(this.opts.db, r.id);
        if (pid === null || !isAlive(pid)) continue;
        process.kill(pid, 'SIGTERM');
      } else continue;
      hit.push(r.id);
    }
    return hit;
  }

  /** Queues every run of the group that has not finished and is not queued or running already
   *  (a run whose worker is still stopping from a cancel goes back on the queue when it exits). */
  resumeSet(group: string): number[] {
    const fresh: number[] = [];
    const later: number[] = [];
    for (const r of this.requireSet(group)) {
      if (!isResumable(r) || this.queued.includes(r.id) || this.runningElsewhere(r)) continue;
      const slot = this.active.get(r.id);
      if (!slot) fresh.push(r.id);
      else if (slot.cancelled && !slot.requeue) {
        slot.requeue = true;
        later.push(r.id);
      }
    }
    this.enqueue(fresh);
    return [...fresh, ...later];
  }

  /** Deletes every run of the group and what it produced; a run still training must be cancelled first. */
  deleteSet(group: string): number[] {
    const runs = this.requireSet(group);
    const training = runs.find((r) => this.active.has(r.id) || this.runningElsewhere(r));
    if (training) throw new Error(`run ${training.id} of set '${group}' is training; cancel the set first`);
    const ids = new Set(runs.map((r) => r.id));
    this.queued = this.queued.filter((id) => !ids.has(id));
    this.opts.db.transaction(() => runs.forEach((r) => deleteRun(this.opts.db, r.id)))();
    return [...ids];
  }

  /** Drops the queue (those runs are marked cancelled) and cancels the running ones. */
  stop(): void {
    const dropped = this.queued;
    this.queued = [];
    for (const id of dropped) this.markCancelled(id);
    for (const slot of this.active.values()) {
      slot.cancelled = true;
      slot.handle?.cancel();
    }
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.active.size && !this.queued.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private requireSet(group: string): RunSummary[] {
    if (typeof group !== 'string' || !group) throw new TypeError('a set is named by its group, a non-empty string');
    const runs = listRuns(this.opts.db, { group });
    if (!runs.length) throw new Error(`no runs in set '${group}'`);
    return runs;
  }

  private runningElsewhere(r: RunSummary): boolean {
    if (r.status !== 'running' || this.has(r.id)) return false;
    const pid = runPid(this.opts.db, r.id);
    return pid !== null && isAlive(pid);
  }

  private markCancelled(runId: number): void {
    updateRun(this.opts.db, runId, { status: 'cancelled', stopped: 'cancelled' });
    this.opts.emit({ type: 'finished', runId, status: 'cancelled', test: null });
  }

  private pump(): void {
    while (this.queued.length && this.active.size < this.concurrency) {
      const id = this.queued.shift() as number;
      const slot: Slot = { handle: null, cancelled: false, requeue: false };
      this.active.set(id, slot);
      void this.train(id, slot);
    }
    if (!this.active.size && !this.queued.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async train(id: number, slot: Slot): Promise<void> {
    const { db, dbPath, emit } = this.opts;
    try {
      const launch = await this.opts.loadLauncher();
      // Cancelled or deleted while it waited (maybe by another process): nothing to start.
      const run = getRun(db, id);
      if (!run || run.status !== 'queued') return;
      if (slot.cancelled) return this.markCancelled(id);
      slot.handle = launch(dbPath, id, emit);
      const settled = await slot.handle.done;
      this.opts.onSettled?.(settled);
    } catch (err) {
      // A run that could not start is failed, and says why; the queue goes on.
      const message = err instanceof Error ? err.message : String(err);
      updateRun(db, id, { status: 'failed', stopped: 'failed', error: message, pid: null });
      emit({ type: 'finished', runId: id, status: 'failed', test: null, error: message });
      const failed = getRun(db, id);
      if (failed) this.opts.onSettled?.(failed);
    } finally {
      this.active.delete(id);
      if (slot.requeue && getRun(db, id)?.status === 'cancelled') this.enqueue([id]);
      else this.pump();
    }
  }
}
