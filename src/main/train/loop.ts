// The training loop of one run: sample, step, evaluate on validation, early-stop, checkpoint,
// and finally evaluate the best weights on the test day. Runs inside the worker process.
import * as tf from '@tensorflow/tfjs';
import type { Metrics, RunStatus, TrainEvent } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import { loadSplit } from '../store/splits.ts';
import { Sampler, type SamplerState } from '../data/sampler.ts';
import { toTensors } from '../data/batch.ts';
import { evalSet, type EvalSet } from '../eval/sets.ts';
import { evaluate } from '../eval/evaluate.ts';
import { saveUserMetrics } from '../store/user-metrics.ts';
import { recordTestLists } from '../eval/record-lists.ts';
import { initBackend } from '../engine/backend.ts';
import { getModel } from '../models/registry.ts';
import type { Config, SeqRecModel } from '../models/types.ts';
import type { Db } from '../store/db.ts';
import {
  addCurvePoint,
  deleteCheckpoint,
  loadCheckpoint,
  requireRun,
  saveCheckpoint,
  truncateCurves,
  updateRun,
} from '../store/runs.ts';
import { createOptimizer, modelWeights, optimizerState, restoreOptimizer, restoreWeights } from './optimizer.ts';
import { trainStep } from './step.ts';
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
  updateRun(db, runId, { status: 'running', backend: backend.backend, device: backend.device, pid: process.pid, error: null });
  opts.onEvent({ type: 'started', runId, backend: backend.backend, device: backend.device, resumedFrom: resumeFrom?.step ?? null });

  const split = loadSplit(db, run.splitId);
  const maxlen = Number(config.maxlen);
  const validSet = evalSet(split, 'valid', maxlen);
  const model = def.create({ numItems: split.numItems, config, seed: run.seed, itemCounts: split.itemCounts });
  try {
    let state: LoopState | undefined;
    let status: RunStatus = 'done';
    if (def.trainable !== false) {
      const result = await optimise(db, runId, model, split, validSet, config, run.seed, resumeFrom, started, opts);
      state = result.state;
      status = result.status;
      if (status === 'cancelled') {
        opts.onEvent({ type: 'finished', runId, status, test: null });
        return status;
      }
    }
    const test = await finish(db, runId, model, split, validSet, state, started);
    opts.onEvent({ type: 'finished', runId, status: 'done', test });
    return 'done';
  } finally {
    model.dispose();
  }
}

async function optimise(
  db: Db,
  runId: number,
  model: SeqRecModel,
  split: SplitData,
  validSet: EvalSet,
  config: Config,
  seed: number,
  resumeFrom: ReturnType<typeof loadCheckpoint>,
  started: number,
  opts: LoopOptions,
): Promise<{ state: LoopState; status: RunStatus }> {
  const optimizer = createOptimizer(config);
  const sampler = new Sampler(split, {
    batchSize: Number(config.batchSize),
    maxlen: Number(config.maxlen),
    historyPool: Number(config.historyPool),
    minSplit: Number(config.minSplit),
    views: model.needs.views === true,
    viewLen: Number(config.viewLen),
    future: model.needs.future === true,
    futureLen: Number(config.futureLen),
    target: config.target === 'next' ? 'next' : 'future',
    seed,
  });
  const stages = model.stages ?? [];
  const evalEvery = evalInterval(config, split.users.length);
  const patience = Number(config.patience);
  const maxSteps = Number(config.maxSteps);
  const checkpointEvery = Math.max(1, Number(config.checkpointEvery));
  const metricName = String(config.selectMetric);

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
    truncateCurves(db, runId, state.step);
  }
  if (stages.length) model.stage = stages[state.stage];
  const secondsBefore = state.seconds;
  const elapsed = () => secondsBefore + (Date.now() - started) / 1000;

  const checkpoint = async () => {
    state.sampler = sampler.getState();
    state.seconds = elapsed();
    const tensors = { ...prefixed('w/', modelWeights(model)), ...prefixed('o/', await optimizerState(optimizer)) };
    saveCheckpoint(db, runId, 'last', { step: state.step, state: JSON.stringify(state), tensors: packTensors(tensors) });
    updateRun(db, runId, { steps: state.step, seconds: state.seconds });
    opts.onEvent({ type: 'checkpoint', runId, step: state.step });
  };

  const reportEvery = Math.max(1, Math.min(50, Math.floor(evalEvery / 5)));
  let sums: Record<string, number> = {};
  let sumCount = 0;
  let windowStart = Date.now();
  let windowSteps = 0;
  let stepsPerSecond = 0;

  for (;;) {
    // Let IPC messages (cancel) in: the step itself is synchronous.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (opts.shouldStop()) {
      await checkpoint();
      updateRun(db, runId, { status: 'cancelled' });
      return { state, status: 'cancelled' };
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
      stepsPerSecond = (windowSteps * 1000) / Math.max(1, now - windowStart);
      windowStart = now;
      windowSteps = 0;
      const mean = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / sumCount]));
      sums = {};
      sumCount = 0;
      const stage = stages[state.stage];
      addCurvePoint(db, runId, { step: state.step, kind: 'train', stage, values: mean });
      // With early stopping the end is unknown; the ETA is the latest possible stop given the current best.
      const lastStep = maxSteps > 0 ? maxSteps : (state.bestStep ?? state.step) + (patience + 1) * evalEvery;
      opts.onEvent({
        type: 'progress',
        runId,
        step: state.step,
        stage,
        losses: mean,
        stepsPerSecond,
        etaSeconds: stepsPerSecond > 0 ? Math.max(0, lastStep - state.step) / stepsPerSecond : null,
      });
    }

    const atLimit = maxSteps > 0 && state.step >= maxSteps;
    if (state.step % evalEvery === 0 || atLimit) {
      const { metrics } = evaluate(model, validSet);
      const value = metrics[metricName];
      if (value === undefined) throw new Error(`selectMetric '${metricName}' is not among the evaluated metrics`);
      const improved = value > state.bestMetric;
      addCurvePoint(db, runId, { step: state.step, kind: 'valid', stage: stages[state.stage], values: metrics });
      opts.onEvent({ type: 'validation', runId, step: state.step, metrics, best: improved });
      if (improved) {
        state.bestMetric = value;
        state.bestStep = state.step;
        state.bestStage = state.stage;
        state.evalsWithoutImprovement = 0;
        saveCheckpoint(db, runId, 'best', {
          step: state.step,
          state: JSON.stringify({ stage: state.stage }),
          tensors: packTensors(modelWeights(model)),
        });
        updateRun(db, runId, { bestStep: state.step, valid: metrics });
      } else {
        state.evalsWithoutImprovement++;
      }
      if (state.evalsWithoutImprovement >= patience && !atLimit) {
        if (state.stage + 1 < stages.length) {
          // Multi-stage models (OPAL, DSSRec) move on from the best weights of the finished
          // stage, with a new optimiser unless the run says keep (stageOptimizer).
          restoreBest(db, runId, model);
          if (config.stageOptimizer !== 'keep') optimizer.reset();
          state.stage++;
          model.stage = stages[state.stage];
          state.evalsWithoutImprovement = 0;
        } else {
          break;
        }
      }
    }
    if (atLimit) break;
    if (state.step % checkpointEvery === 0) await checkpoint();
  }
  state.seconds = elapsed();
  return { state, status: 'done' };
}

function restoreBest(db: Db, runId: number, model: SeqRecModel): void {
  const best = loadCheckpoint(db, runId, 'best');
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
  validSet: EvalSet,
  state: LoopState | undefined,
  started: number,
): Promise<Metrics> {
  restoreBest(db, runId, model);
  const maxlen = validSet.maxlen;
  const valid = evaluate(model, validSet);
  const test = evaluate(model, evalSet(split, 'test', maxlen));
  saveUserMetrics(db, runId, 'valid', valid.users, valid.perUser);
  saveUserMetrics(db, runId, 'test', test.users, test.perUser);
  recordTestLists(db, runId, model, split, maxlen);
  if (!loadCheckpoint(db, runId, 'best')) {
    // Untrained models (pop) and runs cut before their first evaluation: keep the final weights.
    saveCheckpoint(db, runId, 'best', { step: state?.step ?? 0, state: JSON.stringify({ stage: state?.stage ?? 0 }), tensors: packTensors(modelWeights(model)) });
  }
  deleteCheckpoint(db, runId, 'last');
  updateRun(db, runId, {
    status: 'done',
    steps: state?.step ?? 0,
    bestStep: state?.bestStep ?? null,
    seconds: state ? state.seconds : (Date.now() - started) / 1000,
    valid: valid.metrics,
    test: test.metrics,
    pid: null,
  });
  return test.metrics;
}
