// Switching the model in the training form: settings the new model shares keep the values the
// user gave them (the same step cap, batch and interests for every baseline), the rest take
// the new model's defaults, and the form lists what the switch changed.
import type { ConfigValue } from '../../../../shared/api.ts';
import type { ConfigField } from '../../../../shared/types.ts';

export interface SettingChange {
  key: string;
  from: ConfigValue;
  to: ConfigValue;
  /** kept: the user's value carried over; default: the new model's default replaced the old
   *  model's; dropped: the user's value of a key the new model does not have. */
  why: 'kept' | 'default' | 'dropped';
}

export interface Carried {
  values: Record<string, ConfigValue>;
  changes: SettingChange[];
}

/** The new model's values after a switch from `oldFields` with `oldValues`. */
export function carrySettings(oldFields: ConfigField[], oldValues: Record<string, ConfigValue>, newFields: ConfigField[]): Carried {
  const oldDefault = new Map(oldFields.map((f) => [f.key, f.default]));
  const userSet = (key: string) => oldDefault.has(key) && key in oldValues && oldValues[key] !== oldDefault.get(key);
  const values: Record<string, ConfigValue> = {};
  const changes: SettingChange[] = [];
  for (const f of newFields) {
    if (userSet(f.key) && fits(f, oldValues[f.key])) {
      values[f.key] = oldValues[f.key];
      if (oldValues[f.key] !== f.default) changes.push({ key: f.key, from: f.default, to: oldValues[f.key], why: 'kept' });
      continue;
    }
    values[f.key] = f.default;
    if (oldDefault.has(f.key) && oldValues[f.key] !== f.default) changes.push({ key: f.key, from: oldValues[f.key], to: f.default, why: 'default' });
  }
  const newKeys = new Set(newFields.map((f) => f.key));
  for (const f of oldFields) {
    if (!newKeys.has(f.key) && userSet(f.key)) changes.push({ key: f.key, from: oldValues[f.key], to: f.default, why: 'dropped' });
  }
  return { values, changes };
}

/** A carried value must suit the new field (a select's options may differ between models). */
function fits(f: ConfigField, v: ConfigValue): boolean {
  if (f.type === 'select') return typeof v === 'string' && (f.options ?? []).includes(v);
  if (f.type === 'boolean') return typeof v === 'boolean';
  return typeof v === 'number' && (f.type !== 'integer' || Number.isInteger(v));
}
