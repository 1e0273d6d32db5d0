// A run's parameters as a file (config export) and what differs between two runs: the model,
// dataset, seed, the split's parameters and every config key, so "why do these two rows
// differ?" has an answer without reading two config tables side by side.
import type { ConfigValue, RunConfigExport, RunDiff, RunDiffField } from '../../shared/api.ts';
import type { SplitParams } from '../../shared/types.ts';
import type { Db } from '../store/db.ts';
import { requireRun } from '../store/runs.ts';
import { getSplitSummary } from '../store/splits.ts';

/** Everything that defines the run, as JSON: enough to train it again on the same split. */
export function runConfig(db: Db, runId: number): RunConfigExport {
  const run = requireRun(db, runId);
  return {
    format: 'cmi-studio-run-config',
    run: run.id,
    dataset: run.datasetName,
    model: run.model,
    label: run.label,
    seed: run.seed,
    group: run.group,
    tags: run.tags,
    note: run.note,
    split: { id: run.splitId, ...getSplitSummary(db, run.splitId).params },
    config: run.config,
  };
}

/** A split parameter as one comparable value (the quantile pair as "0.8, 0.9"). */
function splitValue(v: SplitParams[keyof SplitParams] | undefined): ConfigValue | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The fields where runs `a` and `b` differ, run facts first, then the split, then config keys. */
export function diffRuns(db: Db, aId: number, bId: number): RunDiff {
  const a = runConfig(db, aId);
  const b = runConfig(db, bId);
  const differences: RunDiffField[] = [];
  const add = (section: RunDiffField['section'], key: string, va: ConfigValue | null, vb: ConfigValue | null) => {
    if (va !== vb) differences.push({ section, key, a: va, b: vb });
  };
  add('run', 'model', a.model, b.model);
  add('run', 'dataset', a.dataset, b.dataset);
  add('run', 'seed', a.seed, b.seed);
  add('split', 'split', a.split.id, b.split.id);
  const splitKeys = [...new Set([...Object.keys(a.split), ...Object.keys(b.split)])].filter((k) => k !== 'id').sort() as (keyof SplitParams)[];
  for (const k of splitKeys) add('split', k, splitValue(a.split[k]), splitValue(b.split[k]));
  const configKeys = [...new Set([...Object.keys(a.config), ...Object.keys(b.config)])].sort();
  let same = 0;
  for (const k of configKeys) {
    const va = a.config[k] ?? null;
    const vb = b.config[k] ?? null;
    if (va === vb) same++;
    else differences.push({ section: 'config', key: k, a: va, b: vb });
  }
  return { a: a.run, b: b.run, differences, sameConfigKeys: same };
}
