// Strict TypeScript end to end is part of the contract: the core, tests and scripts (tsc) and
// the Svelte renderer (svelte-check) must type-check cleanly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

test('tsc --noEmit finds no type errors', () => {
  const r = spawnSync(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('svelte-check finds no errors in the renderer', () => {
  const r = spawnSync(bin('svelte-check'), ['--tsconfig', 'src/renderer/tsconfig.json', '--output', 'machine'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
