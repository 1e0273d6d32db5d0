// npm run bench:scale [-- --shapes wechat,takatak] [--json] [--steps 3] [--reps 2] [--models measure|docs]
// Real scale, end to end, on this machine: generates WeChat-shaped and TakaTak-shaped data once
// into .bench/, then per shape, in a child process of its own: the import (the real CLI under
// GNU time), the split (ensureSplit), one CMI training step at the default config on real
// batches of that split (median after a warm-up), one full validation pass through the real
// evaluation path (all valid users, k = 200) and, in the same run, the bare sgemm of that pass's
// products (the users' interest vectors times the item table, in the same tiles and threads)
// beside the retrieval kernel alone on the same vectors (interleaved, best of --reps), peak RSS, and the projected hours of one CMI run to its earliest early stop and of the
// 10-model comparison. --json: one JSON line per shape on stdout.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { writeFeedInfo, writeUserActions } from '../test/import/fixtures/wechat-gen.ts';
import { writeTakatak } from './bench-scale-gen.ts';
import { initBackend } from '../src/main/engine/backend.ts';
import { nativeBlas } from '../src/main/engine/blas.ts';
import { openDb } from '../src/main/store/db.ts';
import { getDataset } from '../src/main/store/datasets.ts';
import { ensureSplit, loadSplit } from '../src/main/store/splits.ts';
import { evalSet, type EvalSet } from '../src/main/eval/sets.ts';
import { evaluate } from '../src/main/eval/evaluate.ts';
import { fusedRetrieval } from '../src/main/eval/retrieve.ts';
import { models } from '../src/main/models/registry.ts';
import type { ModelDef, SeqRecModel } from '../src/main/models/types.ts';
import { resolveConfig } from '../src/main/models/config.ts';
import { evalInterval } from '../src/main/train/schedule.ts';
import { createOptimizer } from '../src/main/train/optimizer.ts';
import { trainStep } from '../src/main/train/step.ts';
import { runSampler } from '../src/main/train/run-sampler.ts';
import { toTensors } from '../src/main/data/batch.ts';
import type { SplitData } from '../src/main/data/split.ts';

const DIR = resolve('.bench');
const BIN = resolve('bin/cmi-studio.mjs');
const TIME = '/usr/bin/time';
const K = 200;
/** Evaluations of the shortest run early stopping allows: the first, then `patience` (10)
 *  without improvement. */
const EVALS_TO_STOP = 11;

interface Shape {
  name: string;
  /** Files to import and the CLI flags that import them. */
  files: string[];
  flags: string[];
  generate(): Promise<void>;
}

const WECHAT_GEN = { users: 20_000, feeds: 100_000, rows: 7_300_000, days: 14, seed: 2021 };
const TAKATAK_GEN = { users: 50_000, items: 158_000, rows: 34_000_000, days: 28, seed: 2022 };

/** Written under a temporary name first, so an interrupted generation is never reused. */
async function once(final: string[], write: (tmp: string[]) => Promise<unknown>): Promise<void> {
  if (final.every((f) => existsSync(f))) return;
  mkdirSync(DIR, { recursive: true });
  const tmp = final.map((f) => f + '.tmp');
  await write(tmp);
  tmp.forEach((t, i) => renameSync(t, final[i]));
}

const SHAPES: Shape[] = [
  {
    name: 'wechat',
    files: [join(DIR, 'user_action.csv'), join(DIR, 'feed_info.csv')],
    flags: ['--preset', 'wechat'],
    generate() {
      return once(this.files, async ([actions, feeds]) => writeUserActions(actions, WECHAT_GEN, await writeFeedInfo(feeds, WECHAT_GEN)));
    },
  },
  {
    name: 'takatak',
    files: [join(DIR, 'takatak.csv')],
    flags: ['--preset', 'csv', '--map', 'user=user_id,item=item_id,day=day', '--delimiter', ','],
    generate() {
      return once(this.files, ([file]) => writeTakatak(file, TAKATAK_GEN));
    },
  },
];

interface Timed {
  seconds: number;
  cpu: number;
}

/** Wall and process CPU seconds (all threads, the native ones included) of `f`. */
function time<T>(f: () => T): Timed & { value: T } {
  const [t0, c0] = [performance.now(), process.cpuUsage()];
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The real CLI import into a fresh database, under GNU time (wall, CPU, peak RSS). */
function cliImport(shape: Shape, db: string): Promise<Timed & { peakRss: number }> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(db + suffix, { force: true });
  const report = join(DIR, `time-${shape.name}.txt`);
  const args = ['-f', '%e %U %S %M', '-o', report, process.execPath, BIN, 'import', ...shape.files, ...shape.flags, '--name', 'bench', '--db', db, '--json'];
  return new Promise((done, fail) => {
    const child = spawn(TIME, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', fail);
    child.on('exit', (code) => {
      if (code !== 0) return fail(new Error(`import exited with ${code}:\n${stderr}`));
      const [wall, user, sys, maxKb] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      done({ seconds: wall, cpu: user + sys, peakRss: maxKb * 1024 });
    });
  });
}

/** Seconds per training step of `def` at its defaults: one warm-up step, then the median of
 *  `steps` (wall and CPU). */
function stepSeconds(def: ModelDef, split: SplitData, steps: number): { wall: number; cpu: number; evalEvery: number } {
  const config = resolveConfig(def);
  const model = def.create({ numItems: split.numItems, config, seed: 1, itemCounts: split.itemCounts });
  const evalEvery = evalInterval(config, split.users.length);
  try {
    if (def.trainable === false) return { wall: 0, cpu: 0, evalEvery };
    const optimizer = createOptimizer(config);
    const sampler = runSampler(split, model.needs, config, 1);
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const batch = toTensors(sampler.next());
      const t = time(() => trainStep(model, optimizer, batch, s));
      tf.dispose([batch.history, batch.pos, batch.neg, batch.future, ...(batch.views ?? []), ...(batch.viewNegs ?? [])]);
      if (s > 0) walls.push(t.seconds), cpus.push(t.cpu);
    }
    optimizer.dispose();
    return { wall: median(walls), cpu: median(cpus), evalEvery };
  } finally {
    model.dispose();
  }
}

/** All valid users' interest vectors, [n·m, d], in the batches retrieval uses. */
function allInterests(model: SeqRecModel, set: EvalSet): { u: Float32Array; m: number } {
  const n = set.users.length;
  const parts: Float32Array[] = [];
  let m = 0;
  for (let start = 0; start < n; start += 1024) {
    const b = Math.min(1024, n - start);
    const u = tf.tidy(() => model.interests(tf.tensor2d(set.histories.subarray(start * set.maxlen, (start + b) * set.maxlen), [b, set.maxlen], 'int32')));
    m = u.shape[1];
    parts.push((u.dataSync() as Float32Array).slice());
    u.dispose();
  }
  const u = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (u.set(p, at), at + p.length), 0);
  return { u, m };
}

async function child(shape: Shape, steps: number, reps: number, modelsFrom: 'measure' | 'docs'): Promise<Record<string, number | string>> {
  const say = (s: string) => process.stderr.write(`[${shape.name}] ${s}\n`);
  const dbPath = join(DIR, `scale-${shape.name}.sqlite`);
  const imported = await cliImport(shape, dbPath);
  say(`import ${imported.seconds.toFixed(1)} s (${imported.cpu.toFixed(1)} CPU-s, ${(imported.peakRss / 2 ** 30).toFixed(2)} GiB)`);
  const db = openDb(dbPath);
  const datasetId = getDataset(db, 'bench')!.id;
  const split = time(() => ensureSplit(db, datasetId));
  const loaded = time(() => loadSplit(db, split.value.id));
  const data = loaded.value;
  db.close();
  say(`split ${split.seconds.toFixed(1)} s, load ${loaded.seconds.toFixed(1)} s: ${data.users.length} users, ${data.numItems - 1} items`);

  const backend = await initBackend('wasm');
  const blas = nativeBlas().blas;
  if (!blas?.retrieveTopK || !fusedRetrieval()) throw new Error('native/blas with retrieveTopK is needed (npm run build:native)');
  const cmiDef = models.find((d) => d.name === 'cmi')!;
  const step = stepSeconds(cmiDef, data, steps);
  say(`CMI step ${step.wall.toFixed(2)} s (${step.cpu.toFixed(2)} CPU-s), evaluation every ${step.evalEvery} steps`);

  const config = resolveConfig(cmiDef);
  const model = cmiDef.create({ numItems: data.numItems, config, seed: 1, itemCounts: data.itemCounts });
  const set = evalSet(data, 'valid', Number(config.maxlen));
  const n = set.users.length;
  const interests = time(() => allInterests(model, set));
  const { u, m } = interests.value;
  const tableTensor = model.itemTable();
  const [numItems, d] = tableTensor.shape;
  const table = (tableTensor.dataSync() as Float32Array).slice();
  tableTensor.dispose();
  const threads = availableParallelism();
  // Interleaved, best of `reps` each: the load of a shared machine drifts within a minute.
  const [oi, os, ow] = [new Int32Array(n * K), new Float32Array(n * K), new Int32Array(n * K)];
  let sgemm: Timed = { seconds: Infinity, cpu: Infinity };
  let topk: Timed = { seconds: Infinity, cpu: Infinity };
  const best = (a: Timed, b: Timed): Timed => ({ seconds: Math.min(a.seconds, b.seconds), cpu: Math.min(a.cpu, b.cpu) });
  for (let rep = 0; rep < reps; rep++) {
    sgemm = best(sgemm, time(() => blas.retrieveTopK!(u, n, m, d, table, numItems, set.histories, set.maxlen, K, threads, null, null, null)));
    topk = best(topk, time(() => blas.retrieveTopK!(u, n, m, d, table, numItems, set.histories, set.maxlen, K, threads, oi, os, ow)));
  }
  const pass = time(() => evaluate(model, set));
  model.dispose();
  say(`validation pass ${pass.seconds.toFixed(1)} s (${pass.cpu.toFixed(1)} CPU-s) for ${n} users x ${m} interests x ${numItems} items: ` +
    `interests ${interests.seconds.toFixed(1)} s, scoring + top-${K} ${topk.seconds.toFixed(1)} s (${topk.cpu.toFixed(1)} CPU-s), ` +
    `bare sgemm ${sgemm.seconds.toFixed(1)} s (${sgemm.cpu.toFixed(1)} CPU-s): top-K / sgemm ${(topk.seconds / sgemm.seconds).toFixed(2)}x wall, ${(topk.cpu / sgemm.cpu).toFixed(2)}x CPU`);

  // Import (its own process), split, training step and validation pass; the comparison's
  // steps below (Re4 and DSSRec hold large wasm heaps) are reported apart.
  const peakRss = Math.max(imported.peakRss, process.resourceUsage().maxRSS * 1024);
  const runHours = (stepS: number, every: number) => (EVALS_TO_STOP * (every * stepS + pass.seconds)) / 3600;
  const cmiRun = runHours(step.wall, step.evalEvery);
  // The same from CPU seconds: what an otherwise idle machine would take at most (a step uses
  // about one core; the pass's CPU time spreads over two).
  const cmiRunAtCpu = (EVALS_TO_STOP * (step.evalEvery * step.cpu + pass.cpu)) / 3600;
  // Every model's run to its earliest stop, each with CMI's evaluation pass (the same scoring;
  // their forward passes differ, a small part of a run next to the training steps).
  let comparison = 0;
  const perModel: string[] = [];
  for (const def of models) {
    let hours: number;
    if (def.name === 'cmi') hours = cmiRun;
    else if (def.trainable === false) hours = pass.seconds / 3600;
    else if (modelsFrom === 'docs') hours = runHours(step.wall * (DOC_STEP_RATIO[def.name] ?? 1), step.evalEvery);
    else {
      const s = stepSeconds(def, data, 1);
      hours = runHours(s.wall, s.evalEvery);
      say(`${def.name} step ${s.wall.toFixed(2)} s, evaluation every ${s.evalEvery} steps`);
    }
    perModel.push(`${def.name} ${hours.toFixed(2)} h`);
    comparison += hours;
  }
  say(`projected: CMI run ${cmiRun.toFixed(2)} h; 10-model comparison ${comparison.toFixed(1)} h (${perModel.join(', ')}; steps ${modelsFrom === 'docs' ? 'from the ratios in docs/benchmarks.md' : 'measured, one each'})`);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    shape: shape.name,
    import_s: r3(imported.seconds),
    split_s: r3(split.seconds),
    step_s: r3(step.wall),
    eval_s: r3(pass.seconds),
    sgemm_eval_s: r3(sgemm.seconds),
    peak_rss_gb: r3(peakRss / 2 ** 30),
    cmi_run_h: r3(cmiRun),
    comparison_h: r3(comparison),
    cmi_run_h_at_cpu: r3(cmiRunAtCpu),
    topk_s: r3(topk.seconds),
    interests_s: r3(interests.seconds),
    import_cpu_s: r3(imported.cpu),
    step_cpu_s: r3(step.cpu),
    eval_cpu_s: r3(pass.cpu),
    topk_cpu_s: r3(topk.cpu),
    sgemm_eval_cpu_s: r3(sgemm.cpu),
    load_s: r3(loaded.seconds),
    comparison_peak_rss_gb: r3((process.resourceUsage().maxRSS * 1024) / 2 ** 30),
    comparison_steps: modelsFrom === 'docs' ? 'docs/benchmarks.md ratios' : 'measured',
    users: data.users.length,
    items: data.numItems - 1,
    valid_users: n,
    eval_every: step.evalEvery,
    load_avg: r3(loadavg()[0]),
    device: backend.device,
  };
}

/** Step time relative to CMI's, from the per-model figures of docs/benchmarks.md (Training:
 *  real data, defaults, CMI 2.7 s; OPAL's fine-tune stage, DSSRec's and Re4's after their
 *  speed-ups; GRU4Rec, not listed there, taken as MIND's). */
const DOC_STEP_RATIO: Record<string, number> = {
  mind: 0.7 / 2.7,
  'comirec-sa': 1.7 / 2.7,
  'comirec-dr': 2.3 / 2.7,
  octopus: 2.2 / 2.7,
  opal: 1.9 / 2.7,
  re4: 6.5 / 2.7,
  dssrec: 8 / 2.7,
  gru4rec: 0.7 / 2.7,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shapes: { type: 'string', default: 'wechat,takatak' },
      json: { type: 'boolean', default: false },
      steps: { type: 'string', default: '3' },
      reps: { type: 'string', default: '2' },
      models: { type: 'string', default: 'measure' },
      child: { type: 'string' },
    },
  });
  const modelsFrom = values.models === 'docs' ? 'docs' : 'measure';
  if (values.child) {
    const shape = SHAPES.find((s) => s.name === values.child)!;
    const result = await child(shape, Math.max(1, Number(values.steps)), Math.max(1, Number(values.reps)), modelsFrom);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  if (!existsSync(TIME)) throw new Error(`${TIME} is needed (apt-get install time)`);
  const shapes = values.shapes.split(',').map((name) => {
    const s = SHAPES.find((x) => x.name === name);
    if (!s) throw new Error(`unknown shape '${name}'; known: ${SHAPES.map((x) => x.name).join(', ')}`);
    return s;
  });
  process.stderr.write(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  for (const shape of shapes) {
    process.stderr.write(`[${shape.name}] data in ${DIR} (generated once)…\n`);
    await shape.generate();
    // A child per shape: a fresh wasm heap, and its own peak RSS.
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', shape.name, '--steps', values.steps, '--reps', values.reps, '--models', modelsFrom], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 26,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`[${shape.name}] failed (exit ${r.status})`);
    const result = JSON.parse(line.slice(7)) as Record<string, number | string>;
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      for (const [k, v] of Object.entries(result)) process.stdout.write(`  ${k.padEnd(18)} ${v}\n`);
      process.stdout.write('\n');
    }
  }
}

await main();
