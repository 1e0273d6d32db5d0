// Maps a request's URL path to a file of the built renderer, or null when it would leave the
// folder. Both hosts serve the page through it (HTTP, and Electron's app:// protocol).
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';

/** `pathname` as it appears in the URL (percent-encoded); `/` is the page itself. */
export function resolveStaticPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname === '/' || pathname === '' ? '/index.html' : pathname);
  } catch {
    return null; // malformed %-escape
  }
  // A NUL or a backslash (a separator on Windows, never in our file names) has no business here.
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const base = resolve(root);
  const file = resolve(base, `.${normalize(`/${decoded}`)}`);
  const rel = relative(base, file);
  if (rel === '' || isAbsolute(rel) || rel.split(sep)[0] === '..') return null;
  return file;
}
