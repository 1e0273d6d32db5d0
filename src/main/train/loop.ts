// The training loop of one run: sample, step, evaluate on validation, early-stop, checkpoint,
// and finally evaluate the best weights on the test day. Runs inside the worker process.
import * as tf from '@tensorflow/tfjs';
import type { Metrics, RunStatus, StopReason, TrainEvent } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import { loadSplit } from '../store/splits.ts';
import type { SamplerState } from '../data/sampler.ts';
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
import { createOptimizer, modelWeights, optimizerState, restoreOptimizer, restoreWeights } from './optimizer.ts';
import { trainStep } from './step.ts';
import { runSampler } from './run-sampler.ts';
import { runEta } from './eta.ts';
import { evaluateReporting } from './eval-progress.ts';
import { validationSample } from './valid-sample.ts';
import { packTensors, unpackTensors, type SavedTensors } from './pack.ts';

/** Everything besides tensors that a resumed run needs to continue exactly where it stopped. */
interface LoopState {
  step: number;
  stage: number;
  bestMetric: number;
  bestStep: number | null;
  bestStage: number;
  evalsWithoutImprovement: number;
  seconds: number;
  sampler: SamplerState;
}

export interface LoopOptions {
  onEvent: (e: TrainEvent) => void;
  /** Polled between steps; true stops the run with a checkpoint (status 'cancelled'). */
  shouldStop: () => boolean;
}

/**
 * The evaluation interval. 0 means "auto": the authors evaluate every 1,000 steps on WeChat
 * (20,000 users, batch 1,024), i.e. about every 51 passes over the users; auto keeps that
 * ratio so small datasets are not trained for thousands of steps between evaluations.
 */
export function evalInterval(config: Config, trainUsers: number): number {
  const every = Number(config.evalEvery);
  if (every > 0) return every;
  const batch = Number(config.batchSize);
  return Math.max(10, Math.min(1000, Math.round((51 * trainUsers) / batch)));
}

function prefixed(prefix: string, t: SavedTensors): SavedTensors {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [prefix + k, v]));
}
function unprefixed(prefix: string, t: SavedTensors): SavedTensors {
  return Object.fromEntries(
    Object.entries(t)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
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
  const live: Live = { writes };
  try {
    let state: LoopState | undefined;
    let best: Checkpoint | undefined;
    let stopped: StopReason | null = null;
    if (def.trainable !== false) {
      const result = await optimise(db, runId, model, split, sets, config, run.seed, resumeFrom, started, opts, live);
      ({ state, stopped, best } = result);
      if (stopped === 'cancelled') {
        await writes.drain();
        opts.onEvent({ type: 'finished', runId, status: 'cancelled', test: null });
        return 'cancelled';
      }
    }
    const test = await finish(db, runId, model, split, sets, state, stopped, best, started, writes, opts);
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

async function optimise(
  db: Db,
  runId: number,
  model: SeqRecModel,
  split: SplitData,
  sets: RunSets,
  config: Config,
  seed: number,
  resumeFrom: ReturnType<typeof loadCheckpoint>,
  started: number,
  opts: LoopOptions,
  live: Live,
): Promise<{ state: LoopState; stopped: StopReason; best: Checkpoint | undefined }> {
  const { writes } = live;
  const optimizer = createOptimizer(config);
  const sampler = runSampler(split, model.needs, config, seed);
  const stages = model.stages ?? [];
  const evalEvery = evalInterval(config, split.users.length);
  const patience = Number(config.patience);
  const maxSteps = Number(config.maxSteps);
  const checkpointEvery = Math.max(1, Number(config.checkpointEvery));
  const metricName = String(config.selectMetric);
  const validSet = validationSample(sets.valid, Number(config.validUsers ?? 0), seed);
  const finalUsers = sets.valid.users.length + sets.test.users.length;

  let state: LoopState = {
    step: 0,
    stage: 0,
    bestMetric: -Infinity,
    bestStep: null,
    bestStage: 0,
    evalsWithoutImprovement: 0,
    seconds: 0,
    sampler: sampler.getState(),
  };
  if (resumeFrom) {
    state = JSON.parse(resumeFrom.state) as LoopState;
    const tensors = unpackTensors(resumeFrom.tensors);
    restoreWeights(model, unprefixed('w/', tensors));
    await restoreOptimizer(optimizer, model, unprefixed('o/', tensors));
    sampler.setState(state.sampler);
    const from = state.step;
    writes.write(() => truncateCurves(db, runId, from));
  }
  if (stages.length) model.stage = stages[state.stage];
  const secondsBefore = state.seconds;
  const elapsed = () => secondsBefore + (Date.now() - started) / 1000;
  live.state = state;
  live.elapsed = elapsed;
  /** This run's best weights, kept here too: the stored copy may still wait in the queue. */
  let best: Checkpoint | undefined;

  const checkpoint = async () => {
    state.sampler = sampler.getState();
    state.seconds = elapsed();
    const tensors = { ...prefixed('w/', modelWeights(model)), ...prefixed('o/', await optimizerState(optimizer)) };
    const saved: Checkpoint = { step: state.step, state: JSON.stringify(state), tensors: packTensors(tensors) };
    const progress = { steps: state.step, seconds: state.seconds };
    writes.write(
      () => {
        saveCheckpoint(db, runId, 'last', saved);
        updateRun(db, runId, progress);
      },
      { key: 'checkpoint:last', done: () => opts.onEvent({ type: 'checkpoint', runId, step: saved.step }) },
    );
  };

  const reportEvery = Math.max(1, Math.min(50, Math.floor(evalEvery / 5)));
  let sums: Record<string, number> = {};
  let sumCount = 0;
  let windowStart = Date.now();
  let windowSteps = 0;
  /** Evaluation time inside the current window, which the step time must not include. */
  let windowEvalSeconds = 0;
  let stepsPerSecond = 0;
  let evalSecondsPerUser: number | null = null;

  for (;;) {
    // Let IPC messages (cancel) in: the step itself is synchronous.
    await new Promise<void>((resolve) => setImmediate(resolve));
    writes.flush();
    if (opts.shouldStop()) {
      await checkpoint();
      writes.write(() => updateRun(db, runId, { status: 'cancelled', stopped: 'cancelled' }));
      return { state, stopped: 'cancelled', best };
    }
    const host = sampler.next();
    const batch = toTensors(host);
    let losses: Record<string, number>;
    try {
      losses = trainStep(model, optimizer, batch, state.step);
    } finally {
      tf.dispose(Object.values(batch).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
      if (batch.views) tf.dispose(batch.views);
      if (batch.viewNegs) tf.dispose(batch.viewNegs);
    }
    for (const [k, v] of Object.entries(losses)) {
      if (!Number.isFinite(v)) throw new Error(`loss term '${k}' became ${v} at step ${state.step + 1}; lower the learning rate`);
      sums[k] = (sums[k] ?? 0) + v;
    }
    sumCount++;
    state.step++;
    windowSteps++;

    if (state.step % reportEvery === 0) {
      const now = Date.now();
      const trainMs = Math.max(1, now - windowStart - windowEvalSeconds * 1000);
      stepsPerSecond = (windowSteps * 1000) / trainMs;
      windowStart = now;
      windowSteps = 0;
      windowEvalSeconds = 0;
      const mean = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / sumCount]));
      sums = {};
      sumCount = 0;
      const stage = stages[state.stage];
      // Live figures for the runs list; the checkpoint stays the resume point.
      const seconds = elapsed();
      const time = Date.now();
      const point = { step: state.step, kind: 'train' as const, stage, values: mean, seconds, time };
      const live = { steps: state.step, seconds };
      writes.write(() => {
        addCurvePoint(db, runId, point);
        updateRun(db, runId, live);
      });
      // With early stopping the end is unknown; the ETA is the latest possible stop given the current best.
      const lastStep = maxSteps > 0 ? maxSteps : (state.bestStep ?? state.step) + (patience + 1) * evalEvery;
      const etaSeconds = runEta({
        step: state.step,
        lastStep,
        evalEvery,
        capped: maxSteps > 0,
        stepSeconds: stepsPerSecond > 0 ? 1 / stepsPerSecond : null,
        evalSecondsPerUser,
        validUsers: validSet.users.length,
        finalUsers,
      });
      opts.onEvent({ type: 'progress', runId, step: state.step, stage, losses: mean, stepsPerSecond, seconds, time, etaSeconds });
    }

    const atLimit = maxSteps > 0 && state.step >= maxSteps;
    if (state.step % evalEvery === 0 || atLimit) {
      const { metrics, seconds } = evaluateReporting(model, validSet, { runId, phase: 'valid', step: state.step }, opts.onEvent);
      windowEvalSeconds += seconds;
      evalSecondsPerUser = seconds / Math.max(1, validSet.users.length);
      const value = metrics[metricName];
      if (value === undefined) throw new Error(`selectMetric '${metricName}' is not among the evaluated metrics`);
      const improved = value > state.bestMetric;
      // Timed when the evaluation ends, as the training points are when their window ends.
      const at = { seconds: elapsed(), time: Date.now() };
      const point = { step: state.step, kind: 'valid' as const, stage: stages[state.stage], values: metrics, ...at };
      writes.write(() => addCurvePoint(db, runId, point));
      opts.onEvent({ type: 'validation', runId, step: state.step, metrics, best: improved, ...at });
      if (improved) {
        state.bestMetric = value;
        state.bestStep = state.step;
        state.bestStage = state.stage;
        state.evalsWithoutImprovement = 0;
        const saved: Checkpoint = { step: state.step, state: JSON.stringify({ stage: state.stage }), tensors: packTensors(modelWeights(model)) };
        best = saved;
        writes.write(
          () => {
            saveCheckpoint(db, runId, 'best', saved);
            updateRun(db, runId, { bestStep: saved.step, valid: metrics });
          },
          { key: 'checkpoint:best' },
        );
      } else {
        state.evalsWithoutImprovement++;
      }
      if (state.evalsWithoutImprovement >= patience && !atLimit) {
        if (state.stage + 1 < stages.length) {
          // Multi-stage models (OPAL, DSSRec) move on from the best weights of the finished
          // stage, with a new optimiser unless the run says keep (stageOptimizer).
          restoreBest(model, best ?? loadCheckpoint(db, runId, 'best'));
          if (config.stageOptimizer !== 'keep') optimizer.reset();
          state.stage++;
          model.stage = stages[state.stage];
          state.evalsWithoutImprovement = 0;
        } else {
          state.seconds = elapsed();
          return { state, stopped: 'early', best };
        }
      }
    }
    if (atLimit) break;
    if (state.step % checkpointEvery === 0) await checkpoint();
  }
  state.seconds = elapsed();
  return { state, stopped: 'max-steps', best };
}

function restoreBest(model: SeqRecModel, best: Checkpoint | undefined): void {
  if (!best) return;
  restoreWeights(model, unpackTensors(best.tensors));
  const { stage } = JSON.parse(best.state) as { stage: number };
  if (model.stages) model.stage = model.stages[stage];
}

/** Restores the best weights, evaluates validation and test with per-user values, stores all. */
async function finish(
  db: Db,
  runId: number,
  model: SeqRecModel,
  split: SplitData,
  sets: RunSets,
  state: LoopState | undefined,
  stopped: StopReason | null,
  trainedBest: Checkpoint | undefined,
  started: number,
  writes: WriteQueue,
  opts: LoopOptions,
): Promise<Metrics> {
  const best = trainedBest ?? loadCheckpoint(db, runId, 'best');
  restoreBest(model, best);
  const step = state?.step ?? 0;
  const valid = evaluateReporting(model, sets.valid, { runId, phase: 'final-valid', step }, opts.onEvent);
  const test = evaluateReporting(model, sets.test, { runId, phase: 'test', step }, opts.onEvent);
  const items = model.itemTable();
  const itemData = (await items.data()) as Float32Array;
  const [rows, cols] = items.shape;
  items.dispose();
  // Untrained models (pop) and runs cut before their first evaluation: keep the final weights.
  const finalWeights = best ? undefined : { step: state?.step ?? 0, state: JSON.stringify({ stage: state?.stage ?? 0 }), tensors: packTensors(modelWeights(model)) };
  const seconds = state ? state.seconds : (Date.now() - started) / 1000;
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
