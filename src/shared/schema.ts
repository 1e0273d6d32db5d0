// A small typed schema for the contract's arguments: each combinator checks a value that came
// over a transport and narrows it to the type the method declares. Hand-written rather than
// valibot or zod (neither is installed; docs/dependencies.md says why this is enough): the
// contract needs integers, strings, booleans, the shared `as const` lists, arrays, records and
// plain objects, nothing more.
import { isOneOf } from './one-of.ts';

/** A value failed its schema; `path` names the argument or field (e.g. `req.seeds[2]`). */
export class SchemaError extends TypeError {
  readonly code = 'bad-argument';
  constructor(
    readonly path: string,
    expected: string,
    got: unknown,
  ) {
    super(`${path} must be ${expected}, got ${describe(got)}`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export interface Schema<T> {
  /** What the value must be, for messages ("an integer", "one of md, csv"). */
  readonly expected: string;
  /** Set by optional(): the field or trailing argument may be absent. */
  readonly optional?: true;
  parse(value: unknown, path: string): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A schema from a predicate: for leaves and for shapes checked as a whole. */
export function leaf<T>(expected: string, ok: (v: unknown) => boolean): Schema<T> {
  return {
    expected,
    parse(v, path) {
      if (!ok(v)) throw new SchemaError(path, expected, v);
      return v as T;
    },
  };
}

export const int = leaf<number>('an integer', (v) => typeof v === 'number' && Number.isInteger(v));
export const num = leaf<number>('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
export const str = leaf<string>('a string', (v) => typeof v === 'string');
export const bool = leaf<boolean>('true or false', (v) => typeof v === 'boolean');

export function oneOf<T extends string>(list: readonly T[]): Schema<T> {
  return leaf<T>(`one of ${list.join(', ')}`, (v) => isOneOf(list, v));
}

/** Any of the given schemas (tried in order; the first that accepts wins). */
export function anyOf<S extends Schema<unknown>[]>(...options: S): Schema<Infer<S[number]>> {
  const expected = options.map((o) => o.expected).join(' or ');
  return {
    expected,
    parse(v, path) {
      for (const o of options) {
        try {
          return o.parse(v, path) as Infer<S[number]>;
        } catch (err) {
          if (!(err instanceof SchemaError)) throw err;
        }
      }
      throw new SchemaError(path, expected, v);
    },
  };
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> & { optional: true } {
  return {
    expected: `${inner.expected} (optional)`,
    optional: true,
    parse: (v, path) => (v === undefined ? undefined : inner.parse(v, path)),
  };
}

/** Exactly two values, e.g. a [train, train + valid] quantile pair. */
export function pair<T>(item: Schema<T>): Schema<[T, T]> {
  return {
    expected: `two of ${item.expected}`,
    parse(v, path) {
      if (!Array.isArray(v) || v.length !== 2) throw new SchemaError(path, this.expected, v);
      return [item.parse(v[0], `${path}[0]`), item.parse(v[1], `${path}[1]`)];
    },
  };
}

export function array<T>(item: Schema<T>): Schema<T[]> {
  return {
    expected: `a list of ${item.expected}`,
    parse(v, path) {
      if (!Array.isArray(v)) throw new SchemaError(path, this.expected, v);
      return v.map((x, i) => item.parse(x, `${path}[${i}]`));
    },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object whose every own value passes `value` (config overrides, grids). */
export function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    expected: `an object of ${value.expected}`,
    parse(v, path) {
      if (!isPlainObject(v)) throw new SchemaError(path, this.expected, v);
      for (const [k, x] of Object.entries(v)) value.parse(x, `${path}.${k}`);
      return v as Record<string, T>;
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>;

/** A plain object with these fields (others are left as they are: the methods ignore them). */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    expected: 'an object',
    parse(v, path) {
      if (!isPlainObject(v)) throw new SchemaError(path, 'an object', v);
      for (const [k, s] of Object.entries(shape)) s.parse(v[k], `${path}.${k}`);
      return v as ObjectOf<S>;
    },
  };
}

/** A method's argument list: one schema per parameter; trailing optional ones may be absent. */
export interface ArgsSchema<P extends unknown[]> {
  readonly names: readonly string[];
  parse(args: readonly unknown[]): P;
}

type ArgTypes<S extends readonly (readonly [string, Schema<unknown>])[]> = { -readonly [I in keyof S]: Infer<S[I][1]> };

/** `args(['id', int], ['k', optional(int)])`: the names appear in messages. */
export function args<const S extends readonly (readonly [string, Schema<unknown>])[]>(...params: S): ArgsSchema<ArgTypes<S> & unknown[]> {
  const required = params.filter(([, s]) => !s.optional).length;
  return {
    names: params.map(([n]) => n),
    parse(values) {
      if (values.length < required || values.length > params.length) {
        const n = required === params.length ? `${required}` : `${required} to ${params.length}`;
        throw new TypeError(`takes ${n} argument${params.length === 1 ? '' : 's'} (${params.map(([name]) => name).join(', ') || 'none'}), got ${values.length}`);
      }
      params.forEach(([name, s], i) => s.parse(values[i], name));
      return [...values] as ArgTypes<S> & unknown[];
    },
  };
}
