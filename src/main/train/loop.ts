// The training loop of one run: sample, step, evaluate on validation, early-stop, checkpoint,
// and finally evaluate the best weights on the test day. Runs inside the worker process.
import * as tf from '@tensorflow/tfjs';
import type { Metrics, RunStatus, StopReason, TrainEvent } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import { loadSplit } from '../store/splits.ts';
import type { Sampler } from '../data/sampler.ts';
import { toTensors } from '../data/batch.ts';
import { evalSet, type EvalSet } from '../eval/sets.ts';
import { saveUserMetrics } from '../store/user-metrics.ts';
import { listRecord, storeLists } from '../eval/record-lists.ts';
import { initBackend } from '../engine/backend.ts';
import { getModel } from '../models/registry.ts';
import type { Config, SeqRecModel } from '../models/types.ts';
import type { Db } from '../store/db.ts';
import { WriteQueue } from '../store/write-queue.ts';
import {
  addCurvePoint,
  deleteCheckpoint,
  loadCheckpoint,
  type Checkpoint,
  requireRun,
  saveCheckpoint,
  truncateCurves,
  updateRun,
} from '../store/runs.ts';
import { createOptimizer, type Adam } from './optimizer.ts';
import { trainStep } from './step.ts';
import { runSampler } from './run-sampler.ts';
import { runEta } from './eta.ts';
import { evaluateReporting } from './eval-progress.ts';
import { ReportWindow, schedule, type Schedule } from './schedule.ts';
import { restoreBest, resume, resumePoint, weightsAt, type LoopState } from './checkpoint.ts';

export interface LoopOptions {
  onEvent: (e: TrainEvent) => void;
  /** Polled between steps; true stops the run with a checkpoint (status 'cancelled'). */
  shouldStop: () => boolean;
}

export async function trainRun(db: Db, runId: number, opts: LoopOptions): Promise<RunStatus> {
  const run = requireRun(db, runId);
  const def = getModel(run.model);
  const config = run.config;
  const started = Date.now();
  const backend = await initBackend((process.env.CMI_STUDIO_BACKEND as 'auto' | undefined) ?? 'auto');
  const resumeFrom = loadCheckpoint(db, runId, 'last');
  // Every write goes through the queue: an import holding the lock delays them, never the run.
  const writes = new WriteQueue(db);
  writes.write(() => updateRun(db, runId, { status: 'running', stopped: null, backend: backend.backend, device: backend.device, pid: process.pid, error: null }));
  opts.onEvent({ type: 'started', runId, backend: backend.backend, device: backend.device, resumedFrom: resumeFrom?.step ?? null });

  const split = loadSplit(db, run.splitId);
  const maxlen = Number(config.maxlen);
  const sets: RunSets = { valid: evalSet(split, 'valid', maxlen), test: evalSet(split, 'test', maxlen) };
  const model = def.create({ numItems: split.numItems, config, seed: run.seed, itemCounts: split.itemCounts });
  const ctx: RunContext = { db, runId, model, split, sets, config, seed: run.seed, started, opts, writes };
  const live: Live = { writes };
  try {
    let state: LoopState | undefined;
    let best: Checkpoint | undefined;
    let stopped: StopReason | null = null;
    if (def.trainable !== false) {
      const result = await optimise(ctx, resumeFrom, live);
      ({ state, stopped, best } = result);
      if (stopped === 'cancelled') {
        await writes.drain();
        opts.onEvent({ type: 'finished', runId, status: 'cancelled', test: null });
        return 'cancelled';
      }
    }
    const test = await finish(ctx, { state, stopped, best });
    opts.onEvent({ type: 'finished', runId, status: 'done', test });
    return 'done';
  } catch (err) {
    // A failed run keeps the steps and time it reached, not those of its last checkpoint.
    if (live.state && live.elapsed) {
      const reached = { steps: live.state.step, seconds: live.elapsed() };
      writes.write(() => updateRun(db, runId, reached));
    }
    await writes.drain().catch(() => {}); // the error at hand is the one to report
    throw err;
  } finally {
    model.dispose();
  }
}

/** Every validation user and every test user (the final evaluations always use all of them). */
interface RunSets {
  valid: EvalSet;
  test: EvalSet;
}

/** What a failing run still needs to record: its queue, and how far it got. */
interface Live {
  writes: WriteQueue;
  state?: LoopState;
  elapsed?: () => number;
}

/** What the loop's parts share for one run. */
interface RunContext {
  db: Db;
  runId: number;
  model: SeqRecModel;
  split: SplitData;
  sets: RunSets;
  config: Config;
  seed: number;
  /** Date.now() when the worker started this run. */
  started: number;
  opts: LoopOptions;
  writes: WriteQueue;
}

/** One optimisation step on the sampler's next batch; the batch's tensors are freed. */
function stepOnce(model: SeqRecModel, optimizer: Adam, sampler: Sampler, step: number): Record<string, number> {
  const batch = toTensors(sampler.next());
  try {
    return trainStep(model, optimizer, batch, step);
  } finally {
    tf.dispose(Object.values(batch).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    if (batch.views) tf.dispose(batch.views);
    if (batch.viewNegs) tf.dispose(batch.viewNegs);
  }
}

function freshState(sampler: Sampler): LoopState {
  return { step: 0, stage: 0, bestMetric: -Infinity, bestStep: null, bestStage: 0, evalsWithoutImprovement: 0, seconds: 0, sampler: sampler.getState() };
}

/** A progress report: the window's losses as a curve point, live figures, and the ETA. */
function report(ctx: RunContext, plan: Schedule, state: LoopState, window: ReportWindow, seconds: number): void {
  const { db, runId, writes, model } = ctx;
  const mean = window.close();
  const stage = model.stages?.[state.stage];
  // Live figures for the runs list; the checkpoint stays the resume point.
  const time = Date.now();
  const point = { step: state.step, kind: 'train' as const, stage, values: mean, seconds, time };
  const live = { steps: state.step, seconds };
  writes.write(() => {
    addCurvePoint(db, runId, point);
    updateRun(db, runId, live);
  });
  // With early stopping the end is unknown; the ETA is the latest possible stop given the current best.
  const lastStep = plan.maxSteps > 0 ? plan.maxSteps : (state.bestStep ?? state.step) + (plan.patience + 1) * plan.evalEvery;
  const etaSeconds = runEta({
    step: state.step,
    lastStep,
    evalEvery: plan.evalEvery,
    capped: plan.maxSteps > 0,
    stepSeconds: window.stepsPerSecond > 0 ? 1 / window.stepsPerSecond : null,
    evalSecondsPerUser: window.evalSecondsPerUser,
    validUsers: plan.validSet.users.length,
    finalUsers: plan.finalUsers,
  });
  ctx.opts.onEvent({ type: 'progress', runId, step: state.step, stage, losses: mean, stepsPerSecond: window.stepsPerSecond, seconds, time, etaSeconds });
}

/** Evaluates the validation sample; a new best is kept (here and in the store) and returned. */
function validate(ctx: RunContext, plan: Schedule, state: LoopState, window: ReportWindow, elapsed: () => number): Checkpoint | undefined {
  const { db, runId, writes, model, opts } = ctx;
  const { metrics, seconds } = evaluateReporting(model, plan.validSet, { runId, phase: 'valid', step: state.step }, opts.onEvent);
  window.evaluated(seconds, plan.validSet.users.length);
  const value = metrics[plan.metricName];
  if (value === undefined) throw new Error(`selectMetric '${plan.metricName}' is not among the evaluated metrics`);
  const improved = value > state.bestMetric;
  // Timed when the evaluation ends, as the training points are when their window ends.
  const at = { seconds: elapsed(), time: Date.now() };
  const point = { step: state.step, kind: 'valid' as const, stage: model.stages?.[state.stage], values: metrics, ...at };
  writes.write(() => addCurvePoint(db, runId, point));
  opts.onEvent({ type: 'validation', runId, step: state.step, metrics, best: improved, ...at });
  if (!improved) {
    state.evalsWithoutImprovement++;
    return undefined;
  }
  state.bestMetric = value;
  state.bestStep = state.step;
  state.bestStage = state.stage;
  state.evalsWithoutImprovement = 0;
  const saved = weightsAt(model, state.step, state.stage);
  writes.write(
    () => {
      saveCheckpoint(db, runId, 'best', saved);
      updateRun(db, runId, { bestStep: saved.step, valid: metrics });
    },
    { key: 'checkpoint:best' },
  );
  return saved;
}

interface Optimised {
  state: LoopState;
  stopped: StopReason;
  /** This run's best weights, kept here too: the stored copy may still wait in the queue. */
  best: Checkpoint | undefined;
}

async function optimise(ctx: RunContext, resumeFrom: Checkpoint | undefined, live: Live): Promise<Optimised> {
  const { db, runId, model, config, writes, opts } = ctx;
  const optimizer = createOptimizer(config);
  const sampler = runSampler(ctx.split, model.needs, config, ctx.seed);
  const stages = model.stages ?? [];
  const plan = schedule(config, ctx.split.users.length, ctx.sets.valid, ctx.sets.test.users.length, ctx.seed);

  let state = freshState(sampler);
  if (resumeFrom) {
    state = await resume(resumeFrom, model, optimizer);
    sampler.setState(state.sampler);
    const from = state.step;
    writes.write(() => truncateCurves(db, runId, from));
  }
  if (stages.length) model.stage = stages[state.stage];
  const secondsBefore = state.seconds;
  const elapsed = () => secondsBefore + (Date.now() - ctx.started) / 1000;
  live.state = state;
  live.elapsed = elapsed;
  let best: Checkpoint | undefined;

  const checkpoint = async () => {
    state.sampler = sampler.getState();
    state.seconds = elapsed();
    const saved = await resumePoint(model, optimizer, state);
    const progress = { steps: state.step, seconds: state.seconds };
    writes.write(
      () => {
        saveCheckpoint(db, runId, 'last', saved);
        updateRun(db, runId, progress);
      },
      { key: 'checkpoint:last', done: () => opts.onEvent({ type: 'checkpoint', runId, step: saved.step }) },
    );
  };

  const window = new ReportWindow();
  for (;;) {
    // Let IPC messages (cancel) in: the step itself is synchronous.
    await new Promise<void>((resolve) => setImmediate(resolve));
    writes.flush();
    if (opts.shouldStop()) {
      await checkpoint();
      writes.write(() => updateRun(db, runId, { status: 'cancelled', stopped: 'cancelled' }));
      return { state, stopped: 'cancelled', best };
    }
    window.add(stepOnce(model, optimizer, sampler, state.step), state.step + 1);
    state.step++;
    if (state.step % plan.reportEvery === 0) report(ctx, plan, state, window, elapsed());

    const atLimit = plan.maxSteps > 0 && state.step >= plan.maxSteps;
    if (state.step % plan.evalEvery === 0 || atLimit) {
      best = validate(ctx, plan, state, window, elapsed) ?? best;
      if (state.evalsWithoutImprovement >= plan.patience && !atLimit) {
        if (state.stage + 1 >= stages.length) {
          state.seconds = elapsed();
          return { state, stopped: 'early', best };
        }
        // Multi-stage models (OPAL, DSSRec) move on from the best weights of the finished
        // stage, with a new optimiser unless the run says keep (stageOptimizer).
        const stageBest = best ?? loadCheckpoint(db, runId, 'best');
        if (stageBest) restoreBest(model, stageBest);
        if (config.stageOptimizer !== 'keep') optimizer.reset();
        state.stage++;
        model.stage = stages[state.stage];
        state.evalsWithoutImprovement = 0;
      }
    }
    if (atLimit) break;
    if (state.step % plan.checkpointEvery === 0) await checkpoint();
  }
  state.seconds = elapsed();
  return { state, stopped: 'max-steps', best };
}

/** Restores the best weights, evaluates validation and test with per-user values, stores all.
 *  `trained` is absent for untrained models (pop). */
async function finish(ctx: RunContext, trained: { state?: LoopState; stopped: StopReason | null; best?: Checkpoint }): Promise<Metrics> {
  const { db, runId, model, split, sets, writes, opts } = ctx;
  const { state, stopped } = trained;
  const best = trained.best ?? loadCheckpoint(db, runId, 'best');
  if (best) restoreBest(model, best);
  const step = state?.step ?? 0;
  const valid = evaluateReporting(model, sets.valid, { runId, phase: 'final-valid', step }, opts.onEvent);
  const test = evaluateReporting(model, sets.test, { runId, phase: 'test', step }, opts.onEvent);
  const items = model.itemTable();
  const itemData = (await items.data()) as Float32Array;
  const [rows, cols] = items.shape;
  items.dispose();
  // Untrained models (pop) and runs cut before their first evaluation: keep the final weights.
  const finalWeights = best ? undefined : weightsAt(model, state?.step ?? 0, state?.stage ?? 0);
  const seconds = state ? state.seconds : (Date.now() - ctx.started) / 1000;
  const lists = test.users.length ? listRecord(split, test.users, test.k, test.items, { rows, cols, data: itemData }) : null;
  writes.write(() => {
    saveUserMetrics(db, runId, 'valid', valid.users, valid.perUser);
    saveUserMetrics(db, runId, 'test', test.users, test.perUser);
    if (lists) storeLists(db, runId, lists);
    if (finalWeights) saveCheckpoint(db, runId, 'best', finalWeights);
    deleteCheckpoint(db, runId, 'last');
    updateRun(db, runId, {
      status: 'done',
      stopped,
      steps: state?.step ?? 0,
      bestStep: state?.bestStep ?? null,
      seconds,
      valid: valid.metrics,
      test: test.metrics,
      pid: null,
    });
  });
  await writes.drain();
  return test.metrics;
}
