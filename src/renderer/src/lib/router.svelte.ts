// Hash routing (#/screen/param...): works the same from file:// in Electron and over HTTP.
export interface Route {
  screen: string;
  params: string[];
}

function parse(hash: string): Route {
  const [screen = '', ...params] = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { screen: screen || 'datasets', params };
}

export const route: Route = $state(parse(location.hash));

window.addEventListener('hashchange', () => {
  const next = parse(location.hash);
  route.screen = next.screen;
  route.params = next.params;
});

export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
}

export function go(...parts: (string | number)[]): void {
  location.hash = href(...parts);
}
