// What the Electron window may show, load and open, as plain functions (no electron import, so
// they are unit-tested under Node): our page's origin, the app:// protocol's file lookup, and
// which external links open in the system browser without asking.
import { resolveStaticPath } from './static-path.ts';

/** The page is served from app://studio/ (a privileged standard scheme), not file://, so it
 *  has an origin of its own and file:// keeps no special rights. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_PAGE_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Whether a URL belongs to our page: the dev server's origin under `electron-vite dev`, else
 * app://studio. Origins are compared parsed (scheme, host, port), never by prefix: a prefix
 * test passes `http://localhost:5173.evil.example` and `http://localhost:51730`.
 */
export function appPageMatcher(devUrl: string | undefined): (url: string) => boolean {
  if (devUrl !== undefined) {
    const dev = parse(devUrl);
    if (!dev || (dev.protocol !== 'http:' && dev.protocol !== 'https:')) throw new Error(`ELECTRON_RENDERER_URL is not an http(s) address: '${devUrl}'`);
    return (url) => {
      const u = parse(url);
      return u !== null && u.origin === dev.origin && u.username === '' && u.password === '';
    };
  }
  // app: is not a special scheme to WHATWG URL, so its `origin` is 'null': compare the parts.
  return (url) => {
    const u = parse(url);
    return u !== null && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
  };
}

const isAppUrl = appPageMatcher(undefined);

/** The renderer file an app:// request asks for, or null (another host, or outside `root`). */
export function appFileFor(root: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  const u = new URL(url);
  return resolveStaticPath(root, u.pathname);
}

/** Sites the studio and its docs link to (the papers' DOIs and preprints, the code). */
export const EXTERNAL_HOSTS = ['doi.org', 'arxiv.org', 'github.com', 'dl.acm.org', 'openreview.net'];

/**
 * What to do with a link the page tries to open: `open` (https to a listed site or one of its
 * subdomains), `ask` (another https site: the user confirms), `refuse` (anything else: http,
 * file:, custom schemes that launch programs, credentials in the URL).
 */
export function externalLinkVerdict(url: string): 'open' | 'ask' | 'refuse' {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username !== '' || u.password !== '') return 'refuse';
  const host = u.hostname.toLowerCase();
  const listed = EXTERNAL_HOSTS.some((h) => host === h || host.endsWith(`.${h}`));
  return listed && u.port === '' ? 'open' : 'ask';
}
