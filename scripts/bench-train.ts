// npm run bench:train [-- --steps 3 --shapes small,paper-2k,paper-100k,kuairand --backends wasm,cpu
//                         --budget 240 --stock --compare-blas --no-torch]
// npm run bench:train -- --json [--shapes kuairand --threads 1,2 --rounds 2 --models cmi,re4]
// --json: one line per shape, model and thread count, {"shape","threads","project_s","torch_s",
// "ratio", ...} with CPU seconds beside wall seconds; the PyTorch reference (CMI only) and the
// project's wasm step run interleaved, `--rounds` times each, medians reported.
// Seconds per CMI training step (forward, backward, Adam, projection) on each backend, at the
// paper's shape and a small one, with realistic random batches. Every configuration runs in
// its own child process (a fresh wasm heap each time). The reference is an equivalent PyTorch
// step (same shapes and losses, written here, not the authors' code) timed in the same run when
// python3-torch is importable, else the quoted figure for the authors' code on this machine.
// --stock adds wasm with TF.js's own kernels, to show what the engine's kernels save;
// --compare-blas adds wasm with our kernels but TF.js's matMul instead of the OpenBLAS addon.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../src/main/engine/backend.ts';
import { cmi } from '../src/main/models/cmi.ts';
import { getModel } from '../src/main/models/registry.ts';
import { toTensors } from '../src/main/data/batch.ts';
import { kuairandSampler, kuairandSplit, writeViews } from './bench-kuairand.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainBatch } from '../src/main/models/types.ts';
import { resolveConfig } from '../src/main/models/config.ts';
import { createOptimizer } from '../src/main/train/optimizer.ts';
import { trainStep } from '../src/main/train/step.ts';

interface Shape {
  name: string;
  batch: number;
  maxlen: number;
  items: number;
  /** Real batches from the bundled KuaiRand slice with the model's default config (batch,
   *  maxlen and items then come from the config and the split). */
  real?: boolean;
}
const SHAPES: Shape[] = [
  { name: 'kuairand', batch: 1024, maxlen: 100, items: 0, real: true },
  { name: 'small', batch: 256, maxlen: 50, items: 2000 },
  { name: 'paper-2k', batch: 1024, maxlen: 100, items: 2000 },
  { name: 'paper-100k', batch: 1024, maxlen: 100, items: 100_000 },
];
/** The authors' code, batch 512, on this 2-core machine (quoted in the task; not re-measured). */
const QUOTED_TORCH = { seconds: 2.0, batch: 512 };

interface Job {
  backend: BackendChoice;
  stock: boolean;
  /** false: CMI_STUDIO_BLAS=0 (TF.js's own matMul even where the OpenBLAS addon is built). */
  blas: boolean;
  shape: Shape;
  steps: number;
  budget: number;
  /** The model to time (CMI unless --models says otherwise). */
  model?: string;
}
interface Result {
  backend: string;
  device: string;
  seconds: number[];
  /** CPU seconds (user + system, all threads) per timed step. */
  cpuSeconds?: number[];
  error?: string;
}

/** xorshift32: fast, seedable, good enough for synthetic ids. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/**
 * A batch shaped like real micro-video logs: item popularity is Zipf-like (exponent ~1), history
 * pools have lognormal lengths (median ~40, capped at 2·maxlen), views are two disjoint random
 * halves of the pool cut to maxlen, negatives avoid the pool.
 */
function makeBatch(shape: Shape, r: () => number): TrainBatch {
  const { batch: B, maxlen: L, items: N } = shape;
  const zipf = (): number => Math.min(N - 1, Math.floor(Math.exp(r() * Math.log(N)))); // P(k) ~ 1/k
  const history = new Int32Array(B * L), v0 = new Int32Array(B * L), v1 = new Int32Array(B * L);
  const pos = new Int32Array(B), neg = new Int32Array(B), n0 = new Int32Array(B), n1 = new Int32Array(B);
  const place = (out: Int32Array, row: number, seq: number[]): void => {
    const kept = seq.slice(-L);
    out.set(kept, row * L + L - kept.length);
  };
  for (let b = 0; b < B; b++) {
    const gauss = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const len = Math.max(2, Math.min(2 * L, Math.round(Math.exp(Math.log(40) + 0.9 * gauss))));
    const pool = Array.from({ length: len }, zipf);
    place(history, b, pool);
    const order = pool.map((_, i) => i).sort(() => r() - 0.5);
    const half = new Set(order.slice(0, len >> 1));
    place(v0, b, len <= 6 ? pool : pool.filter((_, i) => half.has(i)));
    place(v1, b, len <= 6 ? pool : pool.filter((_, i) => !half.has(i)));
    pos[b] = zipf();
    const seen = new Set(pool);
    const negative = (): number => {
      let x = 1 + Math.floor(r() * (N - 1));
      while (seen.has(x)) x = 1 + Math.floor(r() * (N - 1));
      return x;
    };
    neg[b] = negative();
    n0[b] = negative();
    n1[b] = negative();
  }
  const t2 = (a: Int32Array): tf.Tensor2D => tf.tensor2d(a, [B, L], 'int32');
  const t1 = (a: Int32Array): tf.Tensor1D => tf.tensor1d(a, 'int32');
  return { size: B, history: t2(history), pos: t1(pos), neg: t1(neg), future: tf.tensor2d(pos, [B, 1], 'int32'), views: [t2(v0), t2(v1)], viewNegs: [t1(n0), t1(n1)] };
}

async function child(job: Job): Promise<Result> {
  const info = await initBackend(job.backend);
  const { shape } = job;
  const def = job.model ? getModel(job.model) : cmi;
  const split = shape.real ? await kuairandSplit() : null;
  const config = resolveConfig(def, shape.real ? {} : { batchSize: shape.batch, maxlen: shape.maxlen, viewLen: shape.maxlen });
  const model = split
    ? def.create({ numItems: split.numItems, config, seed: 1, itemCounts: split.itemCounts })
    : def.create({ numItems: shape.items, config, seed: 1, itemCounts: new Int32Array(shape.items) });
  const sampler = split ? kuairandSampler(split, config, model.needs, REAL_SEED) : null;
  const opt = createOptimizer(config);
  const r = rng(7);
  const seconds: number[] = [];
  const cpuSeconds: number[] = [];
  const started = performance.now();
  // One untimed warm-up step (allocations, kernel setup), then timed steps within the budget.
  for (let s = 0; s <= job.steps; s++) {
    const batch = sampler ? toTensors(sampler.next()) : makeBatch(shape, r);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    trainStep(model, opt, batch, s);
    const c = process.cpuUsage(c0);
    if (s > 0) {
      seconds.push((performance.now() - t0) / 1000);
      cpuSeconds.push((c.user + c.system) / 1e6);
    }
    tf.dispose(Object.values(batch).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    tf.dispose([...(batch.views ?? []), ...(batch.viewNegs ?? [])]);
    if ((performance.now() - started) / 1000 > job.budget && seconds.length > 0) break;
  }
  return { backend: info.backend, device: info.device, seconds, cpuSeconds };
}

/** The sampler seed of the real batches, shared by the project's child and the reference. */
const REAL_SEED = 3;

/** Times an equivalent PyTorch CMI step (same shapes and losses) when torch is importable. */
function torchRun(python: string, shape: Shape, steps: number, threads: number, data?: { file: string; items: number }): { seconds: number; cpu: number } | null {
  const script = String.raw`
import sys, time, math, numpy, torch, torch.nn as nn, torch.nn.functional as F
B, L, N, d, m, steps = ${shape.batch}, ${shape.maxlen}, ${data?.items ?? shape.items}, 64, 8, ${steps}
torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[1]))
# Real batches (bench-kuairand.ts writeViews): per batch views [2, B, L], pos [B], view negatives [2, B].
real = numpy.fromfile(sys.argv[2], dtype=numpy.int32).reshape(-1, 2 * B * L + 3 * B) if len(sys.argv) > 2 else None
item = nn.Parameter(torch.empty(N, d).uniform_(-1/math.sqrt(d), 1/math.sqrt(d)))
cat = nn.Parameter(torch.empty(m, d).uniform_(-1/math.sqrt(d), 1/math.sqrt(d)))
gru = nn.GRU(d, d, bias=False, batch_first=True)
mlp = nn.Sequential(nn.Linear(d, d), nn.ReLU())
params = [item, cat, *gru.parameters(), *mlp.parameters()]
opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-4)
def ids(shape): return torch.randint(1, N, shape)
def step(k):
    with torch.no_grad():
        item.copy_(F.normalize(item, dim=-1)); cat.copy_(F.normalize(cat, dim=-1))
    if real is None:
        seq = ids((2 * B, L)); seq[:, : L // 3] = 0
        pos = ids((B,)); negs = ids((2 * B,))
    else:
        row = torch.from_numpy(real[k].astype(numpy.int64))
        seq = row[: 2 * B * L].reshape(2 * B, L); pos = row[2 * B * L : 2 * B * L + B]; negs = row[2 * B * L + B :]
    mask = (seq > 0).float()
    v = item[seq]
    p = torch.softmax(v @ cat.t() / 0.1, -1) * mask.unsqueeze(-1)
    u = F.normalize(p.transpose(1, 2) @ v, dim=-1)
    w = p.sum(1)
    u = torch.where(w.unsqueeze(-1) > 0, u, cat.unsqueeze(0).expand_as(u))
    out, _ = gru(v)
    g = F.normalize(mlp(out[:, -1]), dim=-1)
    u = F.normalize(u + g.unsqueeze(1), dim=-1)
    cand = torch.cat([pos, negs])
    logits = (u.reshape(-1, d) @ item[cand].t()).reshape(2 * B, m, -1).max(1)[0] / 0.1
    main = F.cross_entropy(logits, torch.arange(B).repeat(2))
    a, b = u[:B].reshape(-1, d), u[B:].reshape(-1, d)
    lab = torch.arange(a.shape[0])
    ab = a @ b.t() / 0.1  # cross-view InfoNCE, both directions (the authors' form, CMI's default)
    cl = F.cross_entropy(ab, lab) + F.cross_entropy(ab.t(), lab)
    orth = ((cat @ cat.t() - torch.eye(m)) ** 2).sum() / m / m * 10
    usage = p.reshape(-1, m).sum(0) / mask.sum()
    loss = main + 0.01 * cl + orth + usage.std() / usage.mean()
    opt.zero_grad(); loss.backward(); opt.step()
step(0)
t, c = time.perf_counter(), time.process_time()
for k in range(steps): step(k + 1)
print((time.perf_counter() - t) / steps, (time.process_time() - c) / steps)
`;
  const r = spawnSync(python, ['-c', script, String(threads), ...(data ? [data.file] : [])], { encoding: 'utf8', timeout: 1800_000 });
  const [wall, cpu] = r.status === 0 ? (r.stdout.trim().split('\n').pop() ?? '').split(' ').map(Number) : [NaN, NaN];
  return Number.isFinite(wall) ? { seconds: wall, cpu } : null;
}

/** One thread and all cores: on a busy machine either can be faster; the reference is the best. */
function torchStep(python: string, shape: Shape, steps: number): { seconds: number; threads: number } | null {
  let best: { seconds: number; threads: number } | null = null;
  for (const threads of [...new Set([1, cpus().length])]) {
    const v = torchRun(python, shape, steps, threads);
    if (v && (!best || v.seconds < best.seconds)) best = { seconds: v.seconds, threads };
  }
  return best;
}

/** The first Python that imports torch (Debian's python3-torch lives in /usr/bin/python3,
 *  which a pyenv shim can hide), with torch's version. */
function findTorch(): { python: string; about: string } | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, about: `PyTorch ${r.stdout.trim()}` };
  }
  return null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      steps: { type: 'string', default: '3' },
      shapes: { type: 'string', default: SHAPES.map((s) => s.name).join(',') },
      backends: { type: 'string', default: 'tensorflow-gpu,tensorflow,wasm,cpu' },
      budget: { type: 'string', default: '240' },
      stock: { type: 'boolean', default: false },
      'compare-blas': { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      threads: { type: 'string', default: '1,2' },
      rounds: { type: 'string', default: '2' },
      models: { type: 'string', default: 'cmi' },
    },
  });
  if (values.child) {
    const job = JSON.parse(values.child) as Job;
    const result = await child(job).catch((e: unknown): Result => ({ backend: job.backend, device: '', seconds: [], error: String(e instanceof Error ? e.message : e) }));
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const steps = Number(values.steps);
  const budget = Number(values.budget);
  if (values.json) {
    const shapes = (process.argv.includes('--shapes') ? values.shapes : 'kuairand').split(',');
    const threads = values.threads.split(',').map(Number);
    await jsonMain(shapes.map(shapeNamed), values.models.split(','), threads, steps, budget, Number(values.rounds), !values['no-torch']);
    return;
  }
  const shapes = (process.argv.includes('--shapes') ? values.shapes : SHAPES.filter((s) => !s.real).map((s) => s.name).join(',')).split(',').map((n) => {
    const s = SHAPES.find((x) => x.name === n);
    if (!s) throw new Error(`unknown shape '${n}'; known: ${SHAPES.map((x) => x.name).join(', ')}`);
    return s;
  });
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log('CMI step = forward + backward + Adam + projection; views on (2B rows), m=8, d=64, default losses\n');
  const torch = values['no-torch'] ? null : findTorch();
  const self = fileURLToPath(import.meta.url);
  for (const shape of shapes) {
    console.log(`## ${shape.name}: batch ${shape.batch}, maxlen ${shape.maxlen}, ${shape.items.toLocaleString('en')} items`);
    let reference: { seconds: number; label: string };
    const measured = torch ? (shape.real ? await realTorchStep(torch.python, shape, steps) : torchStep(torch.python, shape, steps)) : null;
    if (torch && measured) reference = { seconds: measured.seconds, label: `equivalent step in ${torch.about}, ${measured.threads} thread(s), same run` };
    else {
      const scaled = QUOTED_TORCH.seconds * (shape.batch / QUOTED_TORCH.batch);
      reference = { seconds: scaled, label: `authors' PyTorch code, quoted 2.0 s at batch 512, scaled by batch` };
    }
    console.log(`  reference ${reference.seconds.toFixed(2)} s/step  (${reference.label})`);
    const jobs: Job[] = values.backends.split(',').map((b) => ({ backend: b as BackendChoice, stock: false, blas: true, shape, steps, budget }));
    if (values['compare-blas']) jobs.push({ backend: 'wasm', stock: false, blas: false, shape, steps, budget });
    if (values.stock) jobs.push({ backend: 'wasm', stock: true, blas: false, shape, steps, budget });
    for (const job of jobs) {
      const name = `${job.backend}${job.stock ? ' (stock kernels)' : !job.blas ? ' (TF.js matMul)' : ''}`.padEnd(24);
      const res = runChild(self, job);
      if (res.error || res.seconds.length === 0) {
        console.log(`  ${name} skipped: ${res.error ?? 'no step timed'}`);
        continue;
      }
      const s = median(res.seconds);
      console.log(`  ${name} ${s.toFixed(2).padStart(7)} s/step  ${(1 / s).toFixed(3)} steps/s  x${(s / reference.seconds).toFixed(2)} reference  [${res.device}; ${res.seconds.length} timed]`);
    }
    console.log('');
  }
}

function shapeNamed(n: string): Shape {
  const s = SHAPES.find((x) => x.name === n);
  if (!s) throw new Error(`unknown shape '${n}'; known: ${SHAPES.map((x) => x.name).join(', ')}`);
  return s;
}

/** One configuration in its own process (a fresh wasm heap), with `threads` for OpenBLAS and
 *  the addon's training kernels (unset: the project's default, one). */
function runChild(self: string, job: Job, threads?: number): Result {
  const env: NodeJS.ProcessEnv = { ...process.env, CMI_STUDIO_STOCK_KERNELS: job.stock ? '1' : '0', CMI_STUDIO_BLAS: job.blas ? '1' : '0' };
  if (threads) env.OPENBLAS_NUM_THREADS = String(threads);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(job)], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  // A child that dies without a result ran out of memory (wasm's heap is 4 GB).
  if (!line) return { backend: job.backend, device: '', seconds: [], error: `crashed (exit ${r.status}): ${(r.stderr.match(/\w*Error: [^\n]*/) ?? [''])[0]}` };
  return JSON.parse(line.slice(7)) as Result;
}

/** The real batches the project's CMI child draws (same split, config and seed), written for
 *  the PyTorch reference. */
async function realBatchesFile(steps: number): Promise<{ file: string; items: number; dir: string }> {
  const split = await kuairandSplit();
  const sampler = kuairandSampler(split, resolveConfig(cmi, {}), { views: true }, REAL_SEED);
  const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
  const file = join(dir, 'views.bin');
  writeViews(file, Array.from({ length: steps + 1 }, () => sampler.next()));
  return { file, items: split.numItems, dir };
}

async function realTorchStep(python: string, shape: Shape, steps: number): Promise<{ seconds: number; threads: number } | null> {
  const data = await realBatchesFile(steps);
  try {
    let best: { seconds: number; threads: number } | null = null;
    for (const threads of [...new Set([1, cpus().length])]) {
      const v = torchRun(python, shape, steps, threads, data);
      if (v && (!best || v.seconds < best.seconds)) best = { seconds: v.seconds, threads };
    }
    return best;
  } finally {
    rmSync(data.dir, { recursive: true, force: true });
  }
}

/** --json: per shape, model and thread count, the reference and the project interleaved
 *  (reference, project, reference, project, ...), medians of wall and CPU seconds per step. */
async function jsonMain(shapes: Shape[], modelNames: string[], threadCounts: number[], steps: number, budget: number, rounds: number, withTorch: boolean): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const torch = withTorch ? findTorch() : null;
  for (const shape of shapes) {
    const data = torch && shape.real ? await realBatchesFile(steps) : null;
    try {
      for (const model of modelNames) {
        for (const threads of threadCounts) {
          const ours: Result[] = [];
          const ref: Array<{ seconds: number; cpu: number }> = [];
          for (let k = 0; k < rounds; k++) {
            if (torch && model === 'cmi') {
              const v = torchRun(torch.python, shape, steps, threads, data ?? undefined);
              if (v) ref.push(v);
            }
            ours.push(runChild(self, { backend: 'wasm', stock: false, blas: true, shape, steps, budget, model }, threads));
          }
          const ok = ours.filter((r) => !r.error && r.seconds.length > 0);
          const project = ok.length ? median(ok.flatMap((r) => r.seconds)) : null;
          const projectCpu = ok.length ? median(ok.flatMap((r) => r.cpuSeconds ?? [])) : null;
          const torchS = ref.length ? median(ref.map((r) => r.seconds)) : null;
          const line = {
            shape: shape.name,
            ...(model === 'cmi' ? {} : { model }),
            threads,
            project_s: round(project),
            torch_s: round(torchS),
            ratio: project !== null && torchS !== null ? round(project / torchS) : null,
            project_cpu_s: round(projectCpu),
            torch_cpu_s: round(ref.length ? median(ref.map((r) => r.cpu)) : null),
            steps: ok.reduce((n, r) => n + r.seconds.length, 0),
            ...(ok.length < ours.length ? { error: ours.find((r) => r.error)?.error } : {}),
          };
          console.log(JSON.stringify(line));
        }
      }
    } finally {
      if (data) rmSync(data.dir, { recursive: true, force: true });
    }
  }
}

const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

await main();
