// An evaluation that says what it does: users done, rate and ETA as 'eval-progress' events
// after each block of users, and the time it took, which the run's ETA uses.
import type { EvalPhase, TrainEvent } from '../../shared/types.ts';
import { evaluate, type Evaluation } from '../eval/evaluate.ts';
import type { EvalSet } from '../eval/sets.ts';
import type { SeqRecModel } from '../models/types.ts';

export interface TimedEvaluation extends Evaluation {
  seconds: number;
}

export function evaluateReporting(
  model: SeqRecModel,
  set: EvalSet,
  where: { runId: number; phase: EvalPhase; step: number },
  onEvent: (e: TrainEvent) => void,
): TimedEvaluation {
  const t0 = performance.now();
  const report = (done: number, total: number) => {
    const seconds = (performance.now() - t0) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    onEvent({ type: 'eval-progress', ...where, done, total, rate, etaSeconds: rate > 0 ? (total - done) / rate : null });
  };
  report(0, set.users.length);
  const result = evaluate(model, set, undefined, report);
  return { ...result, seconds: (performance.now() - t0) / 1000 };
}
