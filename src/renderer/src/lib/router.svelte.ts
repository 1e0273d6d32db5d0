// Hash routing (#/screen/param...?key=value): works the same from file:// in Electron and over
// HTTP. The query after the path holds a screen's filters, so a reload or a shared link
// restores them.
export interface Route {
  screen: string;
  params: string[];
  query: Record<string, string>;
}

function parse(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const cut = body.indexOf('?');
  const path = cut < 0 ? body : body.slice(0, cut);
  const [screen = '', ...params] = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(cut < 0 ? '' : body.slice(cut + 1)));
  return { screen: screen || 'datasets', params, query };
}

export const route: Route = $state(parse(location.hash));

window.addEventListener('hashchange', () => {
  const next = parse(location.hash);
  route.screen = next.screen;
  route.params = next.params;
  route.query = next.query;
});

export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
}

export function go(...parts: (string | number)[]): void {
  location.hash = href(...parts);
}

/** Replaces the current address's query (empty values dropped) without a history entry per
 *  keystroke; the route follows at once. */
export function setQuery(query: Record<string, string>): void {
  const kept = Object.entries(query).filter(([, v]) => v !== '');
  const path = location.hash.replace(/\?.*$/, '') || '#/';
  const search = new URLSearchParams(kept).toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${path}${search ? `?${search}` : ''}`);
  route.query = Object.fromEntries(kept);
}
