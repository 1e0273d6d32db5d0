// Parsing the training form's list inputs (seeds, numbers of interests, grid values) and
// counting the runs a set expands to, as the main process's expandSet does.
import type { ConfigValue } from '../../../../shared/api.ts';
import type { ConfigField } from '../../../../shared/types.ts';

export type Parsed<T> = T | { error: string };

export function isError<T>(p: Parsed<T>): p is { error: string } {
  return typeof p === 'object' && p !== null && 'error' in p;
}

/** "1, 2 4" -> [1, 2, 4]; distinct integers, in order. */
export function parseIntegers(what: string, text: string, min = Number.MIN_SAFE_INTEGER): Parsed<number[]> {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < min) return { error: `${what}: '${p}' is not an integer${min > 0 ? ` ≥ ${min}` : ''}` };
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** The values of one grid key, typed by its field. */
export function parseGridValues(field: ConfigField, text: string): Parsed<ConfigValue[]> {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return { error: `list the values of ${field.key}` };
  const values: ConfigValue[] = [];
  for (const p of parts) {
    if (field.type === 'select') {
      if (!(field.options ?? []).includes(p)) return { error: `${field.key} is one of ${(field.options ?? []).join(', ')}, not '${p}'` };
      values.push(p);
    } else if (field.type === 'boolean') {
      if (p !== 'true' && p !== 'false') return { error: `${field.key} is true or false, not '${p}'` };
      values.push(p === 'true');
    } else {
      const n = Number(p);
      if (!Number.isFinite(n) || (field.type === 'integer' && !Number.isInteger(n))) {
        return { error: `${field.key} needs ${field.type === 'integer' ? 'integers' : 'numbers'}, not '${p}'` };
      }
      values.push(n);
    }
  }
  return values;
}
