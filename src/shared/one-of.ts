// Membership in one of the shared `as const` lists (metrics, formats, split kinds, ...), as a
// type guard: a value from a transport or a command line narrows to the list's element type.
export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}
