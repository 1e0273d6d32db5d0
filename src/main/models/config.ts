// The run configuration: the shared training, sampling and evaluation keys every model uses, with
// the authors' defaults (model-and-protocol.md section 3), how a run's config is resolved and
// validated, and the typed readers models read it through. Model-specific keys live in each
// model file. It sits beside the models (not in train/) because the models read it.
import type { ConfigField } from '../../shared/types.ts';
import type { Config, ModelDef } from './types.ts';

export const dimField: ConfigField = { key: 'dim', label: 'Embedding size d', type: 'integer', default: 64, min: 1 };
export const interestsField: ConfigField = { key: 'interests', label: 'Number of interests m', type: 'integer', default: 8, min: 1 };
export const maxlenField: ConfigField = { key: 'maxlen', label: 'History length (train and evaluation)', type: 'integer', default: 100, min: 1 };
export const futureLenField: ConfigField = { key: 'futureLen', label: 'Future items kept per row (seq2seq models)', type: 'integer', default: 20, min: 1 };

export const sharedFields: ConfigField[] = [
  dimField,
  interestsField,
  { key: 'batchSize', label: 'Batch size', type: 'integer', default: 1024, min: 1 },
  { key: 'lr', label: 'Learning rate (Adam)', type: 'number', default: 1e-3, min: 0 },
  { key: 'weightDecay', label: 'Weight decay (L2 in the gradient, as torch.optim.Adam)', type: 'number', default: 1e-4, min: 0 },
  maxlenField,
  { key: 'historyPool', label: 'Items before the split point the sampler keeps', type: 'integer', default: 200, min: 1 },
  { key: 'minSplit', label: 'Earliest split index t (min(minSplit, n-1))', type: 'integer', default: 6, min: 1 },
  { key: 'viewLen', label: 'Contrastive view length', type: 'integer', default: 100, min: 1 },
  { key: 'target', label: 'Training positive: a random future item (authors) or the next item', type: 'select', default: 'future', options: ['future', 'next'] },
  futureLenField,
  { key: 'evalEvery', label: 'Evaluate on validation every N steps (0 = auto)', type: 'integer', default: 0, min: 0, help: 'auto: about every 51 passes over the training users, which is the authors\' 1,000 steps on WeChat (20,000 users, batch 1,024) and proportionally fewer on smaller data' },
  { key: 'patience', label: 'Stop after N evaluations without improvement', type: 'integer', default: 10, min: 1 },
  { key: 'maxSteps', label: 'Hard step limit (0 = none; early stopping decides)', type: 'integer', default: 0, min: 0 },
  { key: 'validUsers', label: 'Early-stopping validation on N users (0 = all)', type: 'integer', default: 0, min: 0, help: 'a fixed sample of N validation users, drawn with the run seed (the same across a resume); the final validation and the test always use every user (docs/protocol.md)' },
  { key: 'selectMetric', label: 'Early-stopping metric', type: 'select', default: 'recall@50', options: ['recall@50', 'recall@100', 'recall@200', 'hitrate@50', 'ndcg@50'] },
  { key: 'checkpointEvery', label: 'Save a resumable checkpoint every N steps', type: 'integer', default: 100, min: 1 },
];

export function defaultsOf(fields: ConfigField[]): Config {
  return Object.fromEntries(fields.map((f) => [f.key, f.default]));
}

/** Why `v` is not a valid value of `f`, or null when it is. */
function invalid(f: ConfigField, v: unknown): string | null {
  if (f.type === 'boolean') return typeof v === 'boolean' ? null : 'a boolean';
  if (f.type === 'select') return typeof v === 'string' && (f.options ?? []).includes(v) ? null : `one of ${f.options?.join('|')}`;
  const integer = f.type === 'integer';
  const range = f.min !== undefined && f.max !== undefined ? ` in [${f.min}, ${f.max}]` : f.min !== undefined ? ` >= ${f.min}` : f.max !== undefined ? ` <= ${f.max}` : '';
  const ok = typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isInteger(v)) && !(f.min !== undefined && v < f.min) && !(f.max !== undefined && v > f.max);
  return ok ? null : `${integer ? 'an integer' : 'a number'}${range}`;
}

/** Throws unless `v` is a valid value of `f`: the one check behind resolveConfig and the readers. */
function check(f: ConfigField, v: unknown): void {
  const want = invalid(f, v);
  if (want) throw new Error(`config '${f.key}' must be ${want}, got ${JSON.stringify(v)}`);
}

/** The complete config of a run: shared defaults, the model's overrides and own defaults, then the user's values. */
export function resolveConfig(def: ModelDef, overrides: Config = {}): Config {
  const fields = [...sharedFields, ...def.fields];
  const known = new Set(fields.map((f) => f.key));
  for (const key of Object.keys(overrides)) {
    if (!known.has(key)) throw new Error(`unknown config key '${key}' for model ${def.name}; known: ${[...known].join(', ')}`);
  }
  const config: Config = { ...defaultsOf(sharedFields), ...(def.sharedDefaults ?? {}), ...defaultsOf(def.fields), ...overrides };
  for (const f of fields) check(f, config[f.key]);
  return config;
}

/** Parses a CLI `key=value` into the field's type. */
export function parseSetting(def: ModelDef, kv: string): [string, number | string | boolean] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects key=value, got '${kv}'`);
  const key = kv.slice(0, eq);
  const raw = kv.slice(eq + 1);
  const field = [...sharedFields, ...def.fields].find((f) => f.key === key);
  if (!field) throw new Error(`unknown config key '${key}' for model ${def.name}`);
  if (field.type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new Error(`--set ${key} expects true or false, got '${raw}'`);
    return [key, raw === 'true'];
  }
  if (field.type === 'select') return [key, raw];
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--set ${key} expects a number, got '${raw}'`);
  return [key, n];
}

// ---------------------------------------------------------------------------------------------
// Typed readers: how a model reads its config. A key the config lacks reads as the field's
// default (a run stored before the key existed); a value of the wrong type or outside the
// field's [min, max] is an error naming the key.

function read(config: Config, f: ConfigField): number | string | boolean {
  const v = config[f.key] ?? f.default;
  check(f, v);
  return v;
}

/** A 'number' or 'integer' field's value. */
export function num(config: Config, f: ConfigField): number {
  if (f.type !== 'number' && f.type !== 'integer') throw new Error(`config '${f.key}' is a ${f.type} field, not a number`);
  return read(config, f) as number;
}

/** An 'integer' field's value. */
export function int(config: Config, f: ConfigField): number {
  if (f.type !== 'integer') throw new Error(`config '${f.key}' is a ${f.type} field, not an integer`);
  return read(config, f) as number;
}

/** A 'boolean' field's value. */
export function bool(config: Config, f: ConfigField): boolean {
  if (f.type !== 'boolean') throw new Error(`config '${f.key}' is a ${f.type} field, not a boolean`);
  return read(config, f) as boolean;
}

/** A 'select' field whose options are known to the type checker (selectField). */
export type SelectField<O extends string> = ConfigField & { type: 'select'; default: O; options: O[] };

/** A 'select' field keeping its options' literal types, so choice() returns one of them. */
export function selectField<const O extends string>(f: Omit<ConfigField, 'type' | 'default' | 'options'> & { default: O; options: readonly O[] }): SelectField<O> {
  return { ...f, type: 'select', options: [...f.options] };
}

/** A 'select' field's value, typed as one of its options. */
export function choice<O extends string>(config: Config, f: SelectField<O>): O {
  return read(config, f) as O;
}

/**
 * Multi-stage models (OPAL, DSSRec) take this key; the trainer reads it at a stage switch.
 * 'fresh' is what the authors' pipelines do: fine-tuning is a new run that loads the pre-trained
 * weights and builds a new optimiser. 'keep' carries Adam's moments across, so after DSSRec's
 * pre-training the fine-tune steps stay scaled by the seq2seq gradients' history.
 */
export const stageOptimizerField = selectField({
  key: 'stageOptimizer', label: 'Optimiser at a stage switch', default: 'fresh', options: ['fresh', 'keep'],
  help: "fresh (the authors' pipelines: fine-tuning loads the pre-trained weights into a new run): Adam's moments and step count start again; keep: they carry over from the previous stage",
});

/** The type a field's value reads as: a select field's options, boolean, or number. */
export type FieldValue<Fd extends ConfigField> = Fd extends SelectField<infer O> ? O : Fd extends { type: 'boolean' } ? boolean : number;

/** Every field of `fields` read from `config` (num, int, bool or choice by its type), keyed
 *  like `fields`: how a model reads its own keys in one place. */
export function readFields<T extends Record<string, ConfigField>>(config: Config, fields: T): Settings<T> {
  return Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, read(config, f)])) as Settings<T>;
}

/** What readFields returns for `T`. */
export type Settings<T extends Record<string, ConfigField>> = { readonly [K in keyof T]: FieldValue<T[K]> };
