// The training loop's schedule (when to evaluate, report, checkpoint and stop), read once from
// the run's config, and the window of steps a progress report averages over.
import type { EvalSet } from '../eval/sets.ts';
import type { Config } from '../models/types.ts';
import { validationSample } from './valid-sample.ts';

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

/** The loop's schedule, read once from the run's config. */
export interface Schedule {
  evalEvery: number;
  patience: number;
  /** 0: no cap (early stopping ends the run). */
  maxSteps: number;
  checkpointEvery: number;
  /** The validation metric that picks the best step. */
  metricName: string;
  /** The validation users evaluated during training (a seeded sample when validUsers > 0). */
  validSet: EvalSet;
  /** Users of the final evaluations (all of validation and test), for the ETA. */
  finalUsers: number;
  /** Steps between progress reports (loss means, speed, ETA). */
  reportEvery: number;
}

export function schedule(config: Config, trainUsers: number, valid: EvalSet, testUsers: number, seed: number): Schedule {
  const evalEvery = evalInterval(config, trainUsers);
  return {
    evalEvery,
    patience: Number(config.patience),
    maxSteps: Number(config.maxSteps),
    checkpointEvery: Math.max(1, Number(config.checkpointEvery)),
    metricName: String(config.selectMetric),
    validSet: validationSample(valid, Number(config.validUsers ?? 0), seed),
    finalUsers: valid.users.length + testUsers,
    reportEvery: Math.max(1, Math.min(50, Math.floor(evalEvery / 5))),
  };
}

/** Loss means and training speed over the steps since the last progress report. */
export class ReportWindow {
  private sums: Record<string, number> = {};
  private count = 0;
  private start = Date.now();
  private steps = 0;
  /** Evaluation time inside the window, which the step time must not include. */
  private evalSeconds = 0;
  stepsPerSecond = 0;
  /** The last validation's seconds per user, for the ETA; null before the first. */
  evalSecondsPerUser: number | null = null;

  add(losses: Record<string, number>, step: number): void {
    for (const [k, v] of Object.entries(losses)) {
      if (!Number.isFinite(v)) throw new Error(`loss term '${k}' became ${v} at step ${step}; lower the learning rate`);
      this.sums[k] = (this.sums[k] ?? 0) + v;
    }
    this.count++;
    this.steps++;
  }

  evaluated(seconds: number, users: number): void {
    this.evalSeconds += seconds;
    this.evalSecondsPerUser = seconds / Math.max(1, users);
  }

  /** The window's mean losses; updates the speed and starts a new window. */
  close(): Record<string, number> {
    const now = Date.now();
    const trainMs = Math.max(1, now - this.start - this.evalSeconds * 1000);
    this.stepsPerSecond = (this.steps * 1000) / trainMs;
    this.start = now;
    this.steps = 0;
    this.evalSeconds = 0;
    const mean = Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / this.count]));
    this.sums = {};
    this.count = 0;
    return mean;
  }
}
