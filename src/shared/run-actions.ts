// What a run's model can be asked for, and why not: results imported with `import-results`
// are stored as a finished run of model 'external' (store/external-runs.ts) with lists and
// metrics but no model, so nothing that needs one (re-run, resume, inspect, embeddings) applies.
// One message for the API, the CLI and the buttons' titles.
import type { RunSummary } from './types.ts';

export const EXTERNAL_MODEL = 'external';

export const MODEL_ACTIONS = ['rerun', 'resume', 'inspect', 'embeddings'] as const;
export type ModelAction = (typeof MODEL_ACTIONS)[number];

const WHAT: Record<ModelAction, string> = {
  rerun: 'train again',
  resume: 'resume',
  inspect: 'inspect',
  embeddings: 'export embeddings from',
};

/** Why `action` cannot apply to this run, or null when it can (as far as the run's kind goes;
 *  its status is checked where the action runs). */
export function modelActionRefusal(run: Pick<RunSummary, 'id' | 'model' | 'label' | 'config'>, action: ModelAction): string | null {
  if (run.model !== EXTERNAL_MODEL) return null;
  const source = typeof run.config.source === 'string' ? ` from ${run.config.source}` : '';
  return `run ${run.id} (${run.label}) holds results imported${source} with import-results: there is no model to ${WHAT[action]}`;
}

/** Throws the refusal, if any. */
export function requireModelAction(run: Pick<RunSummary, 'id' | 'model' | 'label' | 'config'>, action: ModelAction): void {
  const refusal = modelActionRefusal(run, action);
  if (refusal) throw new Error(refusal);
}

/** File formats of the item-embedding export: one row per item, `raw_item_id, v0..v{d-1}`. */
export const EMBEDDING_FORMATS = ['tsv', 'csv'] as const;
export type EmbeddingFormat = (typeof EMBEDDING_FORMATS)[number];
