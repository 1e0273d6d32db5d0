// One folder of the file picker (the browser host has no native dialog): sub-folders first,
// then files with their sizes, and the parent to go up to.
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { DirEntry, DirListing } from '../../shared/api.ts';

/** Lists `path` (the home folder when absent). */
export async function listDir(path?: string): Promise<DirListing> {
  const dir = resolve(path ?? homedir());
  const dirents = await readdir(dir, { withFileTypes: true });
  const entries: DirEntry[] = [];
  for (const d of dirents) {
    const full = join(dir, d.name);
    // Follow symlinks so a linked data folder browses like a real one; skip dangling links.
    const info = await stat(full).catch(() => null);
    if (!info || (!info.isFile() && !info.isDirectory())) continue;
    entries.push({ name: d.name, path: full, kind: info.isDirectory() ? 'dir' : 'file', size: info.isFile() ? info.size : null });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = dirname(dir);
  return { path: dir, parent: parent === dir ? null : parent, entries };
}
