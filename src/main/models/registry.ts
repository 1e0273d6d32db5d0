// Every model the workbench can train, by name. A new model is one file plus one line here.
import type { StudioModel } from '../../shared/api.ts';
import type { ModelInfo } from '../../shared/types.ts';
import { sharedFields } from './config.ts';
import type { ModelDef } from './types.ts';
import { cmi } from './cmi.ts';
import { mind } from './mind.ts';
import { comirecDr } from './comirec-dr.ts';
import { comirecSa } from './comirec-sa.ts';
import { octopus } from './octopus.ts';
import { pop } from './pop.ts';
import { opal } from './opal.ts';
import { dssrec } from './dssrec.ts';
import { re4 } from './re4.ts';
import { gru4rec } from './gru4rec.ts';

export const models: ModelDef[] = [cmi, mind, comirecDr, comirecSa, octopus, pop, opal, dssrec, re4, gru4rec];

export function getModel(name: string): ModelDef {
  const def = models.find((m) => m.name === name);
  if (!def) throw new Error(`unknown model '${name}'; known: ${models.map((m) => m.name).join(', ')}`);
  return def;
}

/** What the UI and CLI show for each model: the shared fields (with this model's overridden
 *  defaults) followed by the model's own. */
export function modelInfos(): ModelInfo[] {
  return models.map((def) => ({
    name: def.name,
    label: def.label,
    paper: def.paper,
    multiInterest: def.multiInterest,
    fields: [
      ...sharedFields.map((f) => (def.sharedDefaults && f.key in def.sharedDefaults ? { ...f, default: def.sharedDefaults[f.key] } : f)),
      ...def.fields,
    ],
  }));
}

/** The models with their ablations, as the training wizard lists them. */
export function modelCatalog(): StudioModel[] {
  return modelInfos().map((info) => ({
    ...info,
    ablations: Object.entries(getModel(info.name).ablations ?? {}).map(([label, config]) => ({ label, config })),
  }));
}
