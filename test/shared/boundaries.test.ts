// src/shared/ is compiled into the renderer and the preload bundle: it must import nothing from
// src/main/ (nor anything else outside itself), or core code would leak into those bundles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SHARED = resolve('src/shared');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|svelte)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

test('src/shared/ imports only from src/shared/ (types included)', () => {
  const files = sourceFiles(SHARED);
  assert.ok(files.length > 0, 'src/shared has sources');
  const outside: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (relative(SHARED, target).startsWith('..')) outside.push(`${relative('.', file)} imports ${spec}`);
    }
  }
  assert.deepEqual(outside, [], 'no import leaves src/shared');
});
