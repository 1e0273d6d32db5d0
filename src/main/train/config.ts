// Shared run configuration: training, sampling and evaluation keys every model uses, with the
// authors' defaults (model-and-protocol.md section 3). Model-specific keys live in each model file.
import type { ConfigField } from '../../shared/types.ts';
import type { Config, ModelDef } from '../models/types.ts';

export const sharedFields: ConfigField[] = [
  { key: 'dim', label: 'Embedding size d', type: 'integer', default: 64 },
  { key: 'interests', label: 'Number of interests m', type: 'integer', default: 8 },
  { key: 'batchSize', label: 'Batch size', type: 'integer', default: 1024 },
  { key: 'lr', label: 'Learning rate (Adam)', type: 'number', default: 1e-3 },
  { key: 'weightDecay', label: 'Weight decay (L2 in the gradient, as torch.optim.Adam)', type: 'number', default: 1e-4 },
  { key: 'maxlen', label: 'History length (train and evaluation)', type: 'integer', default: 100 },
  { key: 'historyPool', label: 'Items before the split point the sampler keeps', type: 'integer', default: 200 },
  { key: 'minSplit', label: 'Earliest split index t (min(minSplit, n-1))', type: 'integer', default: 6 },
  { key: 'viewLen', label: 'Contrastive view length', type: 'integer', default: 100 },
  { key: 'target', label: 'Training positive: a random future item (authors) or the next item', type: 'select', default: 'future', options: ['future', 'next'] },
  { key: 'futureLen', label: 'Future items kept per row (seq2seq models)', type: 'integer', default: 20 },
  { key: 'evalEvery', label: 'Evaluate on validation every N steps (0 = auto)', type: 'integer', default: 0, help: 'auto: about every 51 passes over the training users, which is the authors\' 1,000 steps on WeChat (20,000 users, batch 1,024) and proportionally fewer on smaller data' },
  { key: 'patience', label: 'Stop after N evaluations without improvement', type: 'integer', default: 10 },
  { key: 'maxSteps', label: 'Hard step limit (0 = none; early stopping decides)', type: 'integer', default: 0 },
  { key: 'validUsers', label: 'Early-stopping validation on N users (0 = all)', type: 'integer', default: 0, help: 'a fixed sample of N validation users, drawn with the run seed (the same across a resume); the final validation and the test always use every user (docs/protocol.md)' },
  { key: 'selectMetric', label: 'Early-stopping metric', type: 'select', default: 'recall@50', options: ['recall@50', 'recall@100', 'recall@200', 'hitrate@50', 'ndcg@50'] },
  { key: 'checkpointEvery', label: 'Save a resumable checkpoint every N steps', type: 'integer', default: 100 },
];

export function defaultsOf(fields: ConfigField[]): Config {
  return Object.fromEntries(fields.map((f) => [f.key, f.default]));
}

/** The complete config of a run: shared defaults, the model's overrides and own defaults, then the user's values. */
export function resolveConfig(def: ModelDef, overrides: Config = {}): Config {
  const fields = [...sharedFields, ...def.fields];
  const known = new Set(fields.map((f) => f.key));
  for (const key of Object.keys(overrides)) {
    if (!known.has(key)) throw new Error(`unknown config key '${key}' for model ${def.name}; known: ${[...known].join(', ')}`);
  }
  const config: Config = { ...defaultsOf(sharedFields), ...(def.sharedDefaults ?? {}), ...defaultsOf(def.fields), ...overrides };
  for (const f of fields) {
    const v = config[f.key];
    const ok =
      f.type === 'boolean' ? typeof v === 'boolean'
      : f.type === 'select' ? typeof v === 'string' && (f.options ?? []).includes(v)
      : typeof v === 'number' && Number.isFinite(v) && (f.type !== 'integer' || Number.isInteger(v));
    if (!ok) throw new Error(`config '${f.key}' must be ${f.type === 'select' ? `one of ${f.options?.join('|')}` : `a${f.type === 'integer' ? 'n integer' : f.type === 'boolean' ? ' boolean' : ' number'}`}, got ${JSON.stringify(v)}`);
  }
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
