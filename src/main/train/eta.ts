// A run's remaining time: the steps left at the measured step time plus the evaluations left at
// the measured evaluation time. Evaluations cost as much as many steps on a large catalogue, so
// an ETA of steps alone runs late by all of them.

/** Early-stopping evaluations after `step` up to and including `lastStep`: every `evalEvery`
 *  steps, plus the one at the step cap when the cap is not a multiple of the interval. */
export function evalsLeft(step: number, lastStep: number, evalEvery: number, capped: boolean): number {
  if (lastStep <= step) return 0;
  const regular = Math.floor(lastStep / evalEvery) - Math.floor(step / evalEvery);
  return regular + (capped && lastStep % evalEvery !== 0 ? 1 : 0);
}

export interface EtaInput {
  step: number;
  /** The cap, or with early stopping the latest step it can stop at given the current best. */
  lastStep: number;
  evalEvery: number;
  capped: boolean;
  /** Seconds per training step, evaluations excluded; null until measured. */
  stepSeconds: number | null;
  /** Seconds per evaluated user, from the latest evaluation; null until one was timed. */
  evalSecondsPerUser: number | null;
  /** Users of each early-stopping evaluation (the validation sample). */
  validUsers: number;
  /** Users of the evaluations at the end: every validation user and every test user. */
  finalUsers: number;
}

/** Seconds left, or null while the step or the evaluation time is unknown. */
export function runEta(i: EtaInput): number | null {
  if (i.stepSeconds === null || i.evalSecondsPerUser === null) return null;
  const steps = Math.max(0, i.lastStep - i.step);
  const evalUsers = evalsLeft(i.step, i.lastStep, i.evalEvery, i.capped) * i.validUsers + i.finalUsers;
  return steps * i.stepSeconds + evalUsers * i.evalSecondsPerUser;
}
