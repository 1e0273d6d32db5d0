// SQL lives in src/main/store/ and the import pipeline's writer and transaction (src/main/import/):
// one place to read when the schema changes. A statement anywhere else is a store function missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ALLOWED = ['src/main/store/', 'src/main/import/'];
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('no SQL statement outside src/main/store/ and the import writer', () => {
  const outside: string[] = [];
  for (const file of sources('src')) {
    const rel = relative('.', file).split('\\').join('/');
    if (ALLOWED.some((dir) => rel.startsWith(dir))) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/\.(prepare|exec)\(\s*['"`]|\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET|CREATE (TABLE|INDEX))\b/.test(line)) outside.push(`${rel}:${i + 1}`);
    });
  }
  assert.deepEqual(outside, [], 'SQL only in the store');
});
