// Experiment sets: ablations, sweeps over the number of interests, grids over config keys and
// repeated seeds, expanded into ordinary run requests that the worker runs one after another.
import { getModel } from '../models/registry.ts';
import type { Config, ModelDef } from '../models/types.ts';
import { parseSetting } from '../models/config.ts';
import type { TrainRequest } from '../../shared/api.ts';
import { DEFAULT_SEED, defaultSetGroup } from '../../shared/defaults.ts';
import type { WaitOptions } from '../store/busy.ts';
import type { Db } from '../store/db.ts';
import { prepareRuns, type RunRequest } from './runner.ts';

export interface SetSpec {
  datasetId: number;
  model: string;
  /** Base config every run of the set shares. */
  config?: Config;
  seeds?: number[];
  /** The full model plus each of the model's named ablations. */
  ablation?: boolean;
  /** Numbers of interests to sweep (multi-interest models). */
  interests?: number[];
  /** key -> values; the set is their cartesian product. */
  grid?: Record<string, (number | string | boolean)[]>;
  group: string;
}

export const interestSweep = [1, 2, 4, 8, 16];

function cartesian(grid: Record<string, (number | string | boolean)[]>): Config[] {
  let out: Config[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (!values.length) throw new Error(`grid key '${key}' has no values`);
    out = out.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return out;
}

function describe(c: Config): string {
  return Object.entries(c).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Expands a set into run requests (labels say what varies, so tables read like the paper's). */
export function expandSet(spec: SetSpec): RunRequest[] {
  const def = getModel(spec.model);
  const variants: { label: string; config: Config }[] = [];
  if (spec.ablation) {
    if (!def.ablations || !Object.keys(def.ablations).length) throw new Error(`model ${def.name} defines no ablations`);
    variants.push({ label: def.label, config: {} });
    for (const [label, overrides] of Object.entries(def.ablations)) variants.push({ label, config: overrides });
  } else {
    variants.push({ label: def.label, config: {} });
  }
  let configs = variants;
  if (spec.interests?.length) {
    if (!def.multiInterest) throw new Error(`model ${def.name} has a single interest; it cannot sweep interests`);
    configs = configs.flatMap((v) => spec.interests!.map((m) => ({ label: `${v.label} (#I ${m})`, config: { ...v.config, interests: m } })));
  }
  if (spec.grid && Object.keys(spec.grid).length) {
    const points = cartesian(spec.grid);
    configs = configs.flatMap((v) => points.map((p) => ({ label: `${v.label} [${describe(p)}]`, config: { ...v.config, ...p } })));
  }
  const seeds = spec.seeds?.length ? spec.seeds : [DEFAULT_SEED];
  return configs.flatMap((v) =>
    seeds.map((seed) => ({
      datasetId: spec.datasetId,
      model: def.name,
      label: v.label,
      config: { ...(spec.config ?? {}), ...v.config },
      seed,
      group: spec.group,
    })),
  );
}

/** The one set launcher (the wizard, `cmi-studio sweep`): expands the request and prepares
 *  its runs (queued rows), all or none; returns their ids in the set's order. */
export async function prepareSet(db: Db, req: TrainRequest, wait: WaitOptions = {}): Promise<number[]> {
  const requests = expandSet({
    datasetId: req.datasetId,
    model: req.model,
    config: req.config,
    seeds: req.seeds,
    ablation: req.ablation === true,
    ...(req.interests?.length ? { interests: req.interests } : {}),
    ...(req.grid ? { grid: req.grid } : {}),
    group: req.group ?? defaultSetGroup(req.model),
  });
  const split = req.split ?? {};
  return prepareRuns(db, requests.map((r) => ({ ...r, split })), wait);
}

/** Parses `key=v1,v2,...` grid arguments with each key's type. */
export function parseGrid(def: ModelDef, args: string[]): Record<string, (number | string | boolean)[]> {
  const grid: Record<string, (number | string | boolean)[]> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`--grid expects key=v1,v2,..., got '${arg}'`);
    const key = arg.slice(0, eq);
    grid[key] = arg
      .slice(eq + 1)
      .split(',')
      .map((v) => parseSetting(def, `${key}=${v}`)[1]);
  }
  return grid;
}

export function parseList(flag: string, raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const out = raw.split(',').map((s) => Number(s.trim()));
  if (!out.length || out.some((n) => !Number.isInteger(n))) throw new Error(`${flag} expects integers separated by commas, got '${raw}'`);
  return out;
}
