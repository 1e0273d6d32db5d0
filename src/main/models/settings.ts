import type { ConfigField } from '../../shared/types.ts';
import type { Config } from './types.ts';

/** A numeric config value; resolveConfig has already checked types, so this guards direct use. */
export function num(config: Config, key: string): number {
  const v = config[key];
  if (typeof v !== 'number') throw new Error(`config '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Multi-stage models (OPAL, DSSRec) take this key; the trainer reads it at a stage switch.
 * 'fresh' is what the authors' pipelines do: fine-tuning is a new run that loads the pre-trained
 * weights and builds a new optimiser. 'keep' carries Adam's moments across, so after DSSRec's
 * pre-training the fine-tune steps stay scaled by the seq2seq gradients' history.
 */
export const stageOptimizerField: ConfigField = {
  key: 'stageOptimizer', label: 'Optimiser at a stage switch', type: 'select', default: 'fresh', options: ['fresh', 'keep'],
  help: "fresh (the authors' pipelines: fine-tuning loads the pre-trained weights into a new run): Adam's moments and step count start again; keep: they carry over from the previous stage",
};

/** The stage called `value` among `stages`: what a multi-stage model's stage setter accepts. */
export function stageNamed<S extends string>(model: string, stages: readonly S[], value: string): S {
  const found = stages.find((s) => s === value);
  if (!found) throw new Error(`${model}: unknown stage '${value}'; stages: ${stages.join(', ')}`);
  return found;
}
