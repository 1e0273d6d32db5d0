// Builds the optional OpenBLAS addon (native/blas) with npm's own node-gyp. Runs after
// `npm install` and never fails it: without OpenBLAS the pure backends keep TF.js's matMul,
// and the run's device line says so. Usage: node scripts/build-native.mjs [--quiet]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native', 'blas');
const say = (text) => process.stderr.write(`cmi-studio native/blas: ${text}\n`);

const headers = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'];
if (!headers.some((h) => existsSync(h))) {
  say('skipped, OpenBLAS headers not found (Debian/Ubuntu: apt-get install libopenblas-dev, then npm run build:native)');
  process.exit(0);
}

/** npm's bundled node-gyp: npm names it in lifecycle scripts; otherwise find it beside npm. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && existsSync(c));
}

const gyp = nodeGyp();
if (!gyp) {
  say('skipped, node-gyp not found (it ships with npm)');
  process.exit(0);
}
// Node's own headers when installed beside it (as Debian's nodejs does), so nothing is downloaded.
const args = [gyp, 'rebuild'];
const prefix = resolve(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
if (r.status === 0) say('built (matrix products of the wasm and cpu backends run on OpenBLAS)');
else say(`build failed, training falls back to TF.js's own matMul:\n${(r.stderr || r.stdout || '').split('\n').filter((l) => /error/i.test(l)).slice(0, 8).join('\n')}`);
