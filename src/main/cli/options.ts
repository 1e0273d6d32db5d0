import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config, ModelDef } from '../models/types.ts';
import { openDb, type Db } from '../store/db.ts';
import { parseSetting } from '../models/config.ts';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The options every store command takes: --db PATH and --help/-h. */
const COMMON = {
  db: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

/** --json: machine-readable output instead of text. */
export const JSON_OPTION = {
  json: { type: 'boolean', default: false },
} as const satisfies OptionsConfig;

/** Options that each take one string value (`--name VALUE`), declared by name. */
export function stringOptions<const K extends string>(...names: K[]): { [P in K]: { type: 'string' } } {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as { [P in K]: { type: 'string' } };
}

/** Parses a command's own options plus --db and --help (strict: unknown flags throw). */
export function parseCommand<const O extends OptionsConfig>(argv: string[], options: O) {
  return parseArgs({ args: argv, options: { ...options, ...COMMON } }).values;
}

/** parseCommand for a command that also takes files (positional arguments). */
export function parseCommandWithFiles<const O extends OptionsConfig>(argv: string[], options: O) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...options, ...COMMON } });
  return { values, files: positionals };
}

/** Prints a command's help text; the exit code of a help request. */
export function printHelp(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}

/** Opens the store at `path` for `fn`, closing it however `fn` ends (once its promise settles, for an async `fn`). */
export function withDb<T>(path: string, fn: (db: Db) => T): T {
  const db = openDb(path);
  let result: T;
  try {
    result = fn(db);
  } catch (err) {
    db.close();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => db.close()) as T;
  db.close();
  return result;
}

/** An onWait that says once, on stderr, that the command waits for the store's write lock. */
export function waitingNote(): () => void {
  let told = false;
  return () => {
    if (!told) process.stderr.write('waiting for another job (an import?) to release the store…\n');
    told = true;
  };
}

/** The config given by repeated `--set key=value`, each checked against the model's fields. */
export function configFromSettings(def: ModelDef, settings: string[] | undefined): Config {
  const config: Config = {};
  for (const kv of settings ?? []) {
    const [k, v] = parseSetting(def, kv);
    config[k] = v;
  }
  return config;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `20G`, `512MiB`, `1000000`: a byte count with an optional binary unit. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`--max-upload expects a size such as 500M or 20G, got '${text}'`);
  return bytes;
}
