// Defaults the core, the CLI and the renderer's wizards share, spelled once.
import type { SplitParams } from './types.ts';

/** The seed of a run that names none (the CLI's `train`, the demo, a set without seeds, the wizard). */
export const DEFAULT_SEED = 42;

/** The split a run trains on unless it says otherwise (maxlen: the model's, when the run has one). */
export const DEFAULT_SPLIT_PARAMS: Readonly<SplitParams> = { kind: 'day', minTrainDays: 4, minTrainItems: 4, maxlen: 100 };

/** A time-quantile split's cut points: train up to the 80th percentile of time, valid to the 90th. */
export const DEFAULT_QUANTILES: readonly [number, number] = [0.8, 0.9];

/** A set launched without a group name: the model and the launch time (UTC, to the second),
 *  without spaces so that `runs --resume-set GROUP` takes it unquoted. */
export function defaultSetGroup(model: string, at: Date = new Date()): string {
  return `${model}-${at.toISOString().slice(0, 19)}`;
}
