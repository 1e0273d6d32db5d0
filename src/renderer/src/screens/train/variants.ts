// Turning the training form's "seeds", "sweep" and "ablation" inputs into run variants.
import type { ConfigValue, RunVariant } from '../../../../shared/api.ts';
import type { ConfigField } from '../../../../shared/types.ts';

export function parseSeeds(text: string): number[] | { error: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) return { error: 'give at least one seed' };
  const seeds = parts.map(Number);
  const bad = parts.find((p, i) => !Number.isInteger(seeds[i]));
  if (bad !== undefined) return { error: `seeds are integers, not '${bad}'` };
  return [...new Set(seeds)];
}

/** One variant per listed value of one setting (e.g. the number of interests 1, 2, 4, 8, 16). */
export function sweepVariants(field: ConfigField, text: string): RunVariant[] | { error: string } {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return { error: `list the values of ${field.key} to sweep` };
  const values: ConfigValue[] = [];
  for (const p of parts) {
    if (field.type === 'select') {
      if (!(field.options ?? []).includes(p)) return { error: `${field.key} is one of ${(field.options ?? []).join(', ')}, not '${p}'` };
      values.push(p);
    } else {
      const n = Number(p);
      if (!Number.isFinite(n) || (field.type === 'integer' && !Number.isInteger(n))) return { error: `${field.key} needs ${field.type === 'integer' ? 'integers' : 'numbers'}, not '${p}'` };
      values.push(n);
    }
  }
  return values.map((v) => ({ label: `${field.key}=${v}`, config: { [field.key]: v } }));
}

/** The full model, then each loss weight (a `lambda…` key) at 0 and each switch that is on
 *  by default turned off: the paper-style ablation table of whatever the model offers. */
export function ablationVariants(fields: ConfigField[]): RunVariant[] {
  const out: RunVariant[] = [{ label: 'full', config: {} }];
  for (const f of fields) {
    if (f.type === 'number' && /^lambda/i.test(f.key) && f.default !== 0) out.push({ label: `${f.key}=0`, config: { [f.key]: 0 } });
    if (f.type === 'boolean' && f.default === true) out.push({ label: `${f.key}=false`, config: { [f.key]: false } });
  }
  return out;
}
