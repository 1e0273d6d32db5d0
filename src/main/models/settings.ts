import type { Config } from './types.ts';

/** A numeric config value; resolveConfig has already checked types, so this guards direct use. */
export function num(config: Config, key: string): number {
  const v = config[key];
  if (typeof v !== 'number') throw new Error(`config '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}
