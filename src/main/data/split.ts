// Train / validation / test splits of per-user positive sequences (model-and-protocol.md
// section 2; docs/protocol.md explains each rule and where we depart from the authors' code).
// Pure functions over sorted interaction columns: the store module reads and writes them.
import { isOneOf } from '../../shared/one-of.ts';
import { SPLIT_KINDS, type SplitParams } from '../../shared/types.ts';
import { DEFAULT_QUANTILES, DEFAULT_SPLIT_PARAMS } from '../../shared/defaults.ts';

/** All positive interactions of a dataset, sorted by user, then time, then source row order. */
export interface InteractionColumns {
  user: Int32Array;
  item: Int32Array;
  /** Epoch ms (or the day, when only days are known). */
  time: Float64Array;
  /** 1-based day index within the dataset. */
  day: Int32Array;
}

/** A split as the sampler, the trainer and the evaluation read it. Items are split item ids
 *  (1..numItems-1; 0 is padding); sequences are in time order. */
export interface SplitData {
  id: number;
  datasetId: number;
  params: SplitParams;
  /** Vocabulary size including the padding id 0. */
  numItems: number;
  /** Split item id -> dataset iid; vocab[0] = 0. */
  vocab: Int32Array;
  /** Dataset uids of the kept users, ascending; the other arrays are aligned with it. */
  users: Int32Array;
  train: Int32Array[];
  /** Validation target items (the validation day), in vocabulary, time order. */
  valid: Int32Array[];
  /** Test target items (the test day), in vocabulary, time order. */
  test: Int32Array[];
  /** Training frequency of each split item id (index 0 stays 0). */
  itemCounts: Int32Array;
}

export type BuiltSplit = Pick<SplitData, 'vocab' | 'users' | 'train' | 'valid' | 'test'> & {
  /** Kept users with any validation / test positive before out-of-vocabulary items are dropped:
   *  tells "no target at all" from "targets only outside the training vocabulary". */
  usersWithTargets: { valid: number; test: number };
};


function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`split ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Fills defaults and validates. `quantiles` exists only on time-quantile splits. */
export function resolveSplitParams(partial: Partial<SplitParams> = {}): SplitParams {
  const kind = partial.kind ?? DEFAULT_SPLIT_PARAMS.kind;
  if (!isOneOf(SPLIT_KINDS, kind)) {
    throw new Error(`unknown split kind '${String(kind)}'; use ${SPLIT_KINDS.join(', ')}`);
  }
  const params: SplitParams = {
    kind,
    minTrainDays: positiveInt('minTrainDays', partial.minTrainDays ?? DEFAULT_SPLIT_PARAMS.minTrainDays),
    minTrainItems: positiveInt('minTrainItems', partial.minTrainItems ?? DEFAULT_SPLIT_PARAMS.minTrainItems),
    maxlen: positiveInt('maxlen', partial.maxlen ?? DEFAULT_SPLIT_PARAMS.maxlen),
  };
  if (kind === 'time-quantile') {
    const q = partial.quantiles ?? DEFAULT_QUANTILES;
    if (!Array.isArray(q) || q.length !== 2 || !(q[0] > 0 && q[0] < q[1] && q[1] < 1)) {
      throw new Error(`split quantiles must be two numbers 0 < q1 < q2 < 1, got ${JSON.stringify(q)}`);
    }
    params.quantiles = [q[0], q[1]];
  }
  return params;
}

/** Canonical JSON of the parameters that change the split, so identical requests reuse one
 *  stored split (minTrainItems does not matter to a day split, minTrainDays only to it). */
export function splitParamsKey(p: SplitParams): string {
  const relevant =
    p.kind === 'day'
      ? { kind: p.kind, maxlen: p.maxlen, minTrainDays: p.minTrainDays }
      : { kind: p.kind, maxlen: p.maxlen, minTrainItems: p.minTrainItems, ...(p.quantiles ? { quantiles: p.quantiles } : {}) };
  return JSON.stringify(relevant);
}

const TRAIN = 0;
const VALID = 1;
const TEST = 2;

/** Phase of each interaction under a global rule (day or time cut). */
type PhaseOf = (i: number) => number;

function dayPhases(cols: InteractionColumns): PhaseOf {
  let h = 0;
  for (let i = 0; i < cols.day.length; i++) if (cols.day[i] > h) h = cols.day[i];
  if (h < 3) throw new Error(`a day split needs at least 3 days (train, validation, test); this dataset spans ${h}; use the time-quantile or leave-last-out split`);
  return (i) => (cols.day[i] <= h - 2 ? TRAIN : cols.day[i] === h - 1 ? VALID : TEST);
}

/** Cut points are the time values at the quantile ranks: training = time < t1, validation =
 *  t1 <= time < t2, test = time >= t2, so interactions at one instant never straddle a cut. */
function timeQuantilePhases(cols: InteractionColumns, [q1, q2]: readonly [number, number]): PhaseOf {
  const n = cols.time.length;
  if (n === 0) throw new Error('the dataset has no interactions');
  const sorted = Float64Array.from(cols.time).sort();
  const t1 = sorted[Math.min(n - 1, Math.floor(q1 * n))];
  const t2 = sorted[Math.min(n - 1, Math.floor(q2 * n))];
  return (i) => (cols.time[i] < t1 ? TRAIN : cols.time[i] < t2 ? VALID : TEST);
}

/** Interactions handled between two pauses of buildSplitSteps. */
const STEP_INTERACTIONS = 100_000;

/** Builds the split: assigns each interaction a phase, keeps users with enough training
 *  activity, takes the vocabulary from the kept users' training items, and maps every
 *  sequence into split item ids (out-of-vocabulary validation/test items are dropped). */
export function buildSplit(cols: InteractionColumns, params: SplitParams): BuiltSplit {
  const steps = buildSplitSteps(cols, params);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * buildSplit in steps: it pauses (yields) after about every 100,000 interactions, so a host can
 * let other work run between steps (a 2.6M-positive dataset takes most of a second).
 */
export function* buildSplitSteps(cols: InteractionColumns, params: SplitParams): Generator<void, BuiltSplit, void> {
  const n = cols.user.length;
  let sinceYield = 0;
  const globalPhase: PhaseOf | null =
    params.kind === 'day' ? dayPhases(cols) : params.kind === 'time-quantile' ? timeQuantilePhases(cols, params.quantiles ?? DEFAULT_QUANTILES) : null;

  // Pass 1: per user run [start, end), phase of each interaction, keep decision.
  const phase = new Int8Array(n);
  const runs: Array<[number, number, number]> = []; // [uid, start, end] of kept users
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && cols.user[end] === cols.user[start]) end++;
    if (globalPhase) {
      for (let i = start; i < end; i++) phase[i] = globalPhase(i);
    } else {
      // leave-last-out: the last positive is the test target, the one before it validation.
      for (let i = start; i < end; i++) phase[i] = i === end - 1 ? TEST : i === end - 2 ? VALID : TRAIN;
    }
    let trainItems = 0;
    const trainDays = new Set<number>();
    for (let i = start; i < end; i++) {
      if (phase[i] !== TRAIN) continue;
      trainItems++;
      trainDays.add(cols.day[i]);
    }
    const keep = params.kind === 'day' ? trainDays.size >= params.minTrainDays : trainItems >= params.minTrainItems;
    if (keep) runs.push([cols.user[start], start, end]);
    sinceYield += end - start;
    start = end;
    if (sinceYield >= STEP_INTERACTIONS) {
      sinceYield = 0;
      yield;
    }
  }

  // Vocabulary: the kept users' training items, numbered 1..V in dataset iid order.
  let maxIid = 0;
  for (let i = 0; i < n; i++) if (cols.item[i] > maxIid) maxIid = cols.item[i];
  yield;
  const seen = new Uint8Array(maxIid + 1);
  for (const [, start, end] of runs) for (let i = start; i < end; i++) if (phase[i] === TRAIN) seen[cols.item[i]] = 1;
  yield;
  const toSplit = new Int32Array(maxIid + 1); // dataset iid -> split id, 0 = out of vocabulary
  const vocabList: number[] = [0];
  for (let iid = 1; iid <= maxIid; iid++) if (seen[iid]) toSplit[iid] = vocabList.push(iid) - 1;

  const users = new Int32Array(runs.length);
  const train: Int32Array[] = [];
  const valid: Int32Array[] = [];
  const test: Int32Array[] = [];
  const usersWithTargets = { valid: 0, test: 0 };
  for (const [u, [uid, start, end]] of runs.entries()) {
    users[u] = uid;
    const parts: number[][] = [[], [], []];
    let hasValid = false;
    let hasTest = false;
    for (let i = start; i < end; i++) {
      hasValid ||= phase[i] === VALID;
      hasTest ||= phase[i] === TEST;
      const sid = toSplit[cols.item[i]];
      if (sid > 0) parts[phase[i]].push(sid);
    }
    if (hasValid) usersWithTargets.valid++;
    if (hasTest) usersWithTargets.test++;
    train.push(Int32Array.from(parts[TRAIN]));
    valid.push(Int32Array.from(parts[VALID]));
    test.push(Int32Array.from(parts[TEST]));
    sinceYield += end - start;
    if (sinceYield >= STEP_INTERACTIONS) {
      sinceYield = 0;
      yield;
    }
  }
  return { vocab: Int32Array.from(vocabList), users, train, valid, test, usersWithTargets };
}

const PHASE_NAME = { valid: 'validation', test: 'test' } as const;
const int = (n: number): string => n.toLocaleString('en-US');

/**
 * Why a split cannot be trained on, or undefined when it can: a phase without one evaluated
 * user (every target empty) makes the run fail at its first evaluation, after training. With
 * `usersWithTargets` (known while building) the message tells the two causes apart.
 */
export function unusableSplitReason(
  counts: { users: number; validUsers: number; testUsers: number; usersWithTargets?: { valid: number; test: number } },
  params: SplitParams,
): string | undefined {
  const empty = (['valid', 'test'] as const).filter((p) => (p === 'valid' ? counts.validUsers : counts.testUsers) === 0);
  if (!empty.length) return undefined;
  const causes = empty.map((p) => {
    const had = counts.usersWithTargets?.[p];
    if (had === undefined) return `every ${PHASE_NAME[p]} target is empty`;
    if (had === 0) return `no kept user has a ${PHASE_NAME[p]} interaction at all`;
    return `${int(had)} kept users have ${PHASE_NAME[p]} interactions, but none of those items appears in training (outside the training vocabulary), so every ${PHASE_NAME[p]} target is empty`;
  });
  const kinds = ['day', 'time-quantile', 'leave-last-out'].filter((k) => k !== params.kind).join(' or ');
  return (
    `this ${params.kind} split has ${int(counts.validUsers)} validation and ${int(counts.testUsers)} test users of ${int(counts.users)}: ` +
    `${causes.join('; ')}. A run on it would fail at its first evaluation. ` +
    `Try a ${kinds} split (--split), or lower ${params.kind === 'day' ? 'minTrainDays' : 'minTrainItems'} so that more users (and their items) are kept in training`
  );
}

/** Training frequency per split item id. */
export function countItems(numItems: number, train: readonly Int32Array[]): Int32Array {
  const counts = new Int32Array(numItems);
  for (const seq of train) for (let i = 0; i < seq.length; i++) counts[seq[i]]++;
  return counts;
}
