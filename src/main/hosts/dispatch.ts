// Turns one transport request (a method name and its JSON arguments) into a call on the API and
// an envelope, so both hosts whitelist methods and report errors the same way.
import { API_ARGS } from '../../shared/api-args.ts';
import { isStudioMethod, type Reply, type StudioApi, type StudioErrorInfo } from '../../shared/api.ts';

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function optionalNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Keeps the message and, where an error has them, its code and file:line:column (ImportError). */
export function errorInfo(err: unknown): StudioErrorInfo {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & Record<string, unknown>;
  const info: StudioErrorInfo = { message: err.message };
  const code = optionalString(e.code);
  const file = optionalString(e.file);
  const line = optionalNumber(e.line);
  const column = optionalNumber(e.column);
  if (code !== undefined) info.code = code;
  if (file !== undefined) info.file = file;
  if (line !== undefined) info.line = line;
  if (column !== undefined) info.column = column;
  return info;
}

export async function dispatch(api: StudioApi, method: string, args: unknown): Promise<Reply<unknown>> {
  if (!isStudioMethod(method)) return { ok: false, error: { message: `unknown API method '${method}'`, code: 'unknown-method' } };
  if (!Array.isArray(args)) return { ok: false, error: { message: 'API arguments must be a JSON array', code: 'bad-request' } };
  let checked: unknown[];
  try {
    // Every argument is checked against the method's schema before the core sees it.
    checked = API_ARGS[method].parse(args);
  } catch (err) {
    return { ok: false, error: { message: `${method}: ${err instanceof Error ? err.message : String(err)}`, code: 'bad-argument' } };
  }
  try {
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, result: await fn.apply(api, checked) };
  } catch (err) {
    return { ok: false, error: errorInfo(err) };
  }
}
