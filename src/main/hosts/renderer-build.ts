// The browser host serves the built renderer (out/renderer). It builds the page itself when the
// build is missing or older than any renderer or shared source, so `cmi-studio serve` works on a
// fresh checkout and never serves a stale UI.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) newest = Math.max(newest, await newestMtime(p));
    else if (d.isFile()) newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/** Sources whose change makes the built page stale. */
function sourceDirs(projectRoot: string): string[] {
  return [join(projectRoot, 'src/renderer'), join(projectRoot, 'src/shared')];
}

export async function rendererIsStale(projectRoot: string): Promise<boolean> {
  const built = await stat(join(projectRoot, 'out/renderer/index.html')).catch(() => null);
  if (!built) return true;
  for (const dir of sourceDirs(projectRoot)) if ((await newestMtime(dir)) > built.mtimeMs) return true;
  return false;
}

/** Builds out/renderer with Vite when stale; returns the folder to serve. */
export async function ensureRendererBuilt(projectRoot: string, log: (line: string) => void): Promise<string> {
  const outDir = join(projectRoot, 'out/renderer');
  if (!(await rendererIsStale(projectRoot))) return outDir;
  log('building the renderer (out/renderer) ...');
  // Vite and the Svelte plugin are build tools: load them only when a build is due.
  const [{ build }, { rendererConfig }] = await Promise.all([import('vite'), import('../../renderer/vite.renderer.ts')]);
  await build({ ...rendererConfig(projectRoot), configFile: false, logLevel: 'warn' });
  return outDir;
}
