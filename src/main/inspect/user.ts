// The per-user interest inspector: rebuilds a finished run's best model and shows, for one
// test-day user, how the history splits into interests, what each interest retrieves and hits,
// and where the interests sit among the item embeddings (2-D PCA).
import * as tf from '@tensorflow/tfjs';
import { PCA } from 'ml-pca';
import { requireModelAction, type ModelAction } from '../../shared/run-actions.ts';
import type { UserInspection } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import { initBackend } from '../engine/backend.ts';
import { retrieve } from '../eval/retrieve.ts';
import { evalSet, type EvalSet } from '../eval/sets.ts';
import { getModel } from '../models/registry.ts';
import type { SeqRecModel } from '../models/types.ts';
import { rawItemIds, rawUserId } from '../store/datasets.ts';
import type { Db } from '../store/db.ts';
import { itemAttributeValues, listItemAttributes } from '../store/item-attributes.ts';
import { loadCheckpoint, requireRun } from '../store/runs.ts';
import { loadSplit } from '../store/splits.ts';
import { restoreBest } from '../train/checkpoint.ts';

/** Items drawn into the map besides the user's own, so the interests have a backdrop. */
const MAP_BACKDROP = 1500;

interface Loaded {
  split: SplitData;
  test: EvalSet;
  model: SeqRecModel;
  label: string;
  modelName: string;
  datasetId: number;
}

/** Rebuilds the model of a finished run from its best checkpoint, for `action`. */
export async function loadRunModel(db: Db, runId: number, action: ModelAction = 'inspect'): Promise<Loaded> {
  const run = requireRun(db, runId);
  requireModelAction(run, action);
  const best = loadCheckpoint(db, runId, 'best');
  if (run.status !== 'done' || !best) throw new Error(`run ${runId} has not finished (status ${run.status}); ${action === 'inspect' ? 'the inspector' : 'exporting embeddings'} needs a finished run`);
  await initBackend((process.env.CMI_STUDIO_BACKEND as 'auto' | undefined) ?? 'auto');
  const split = loadSplit(db, run.splitId);
  const model = getModel(run.model).create({ numItems: split.numItems, config: run.config, seed: run.seed, itemCounts: split.itemCounts });
  restoreBest(model, best);
  return { split, test: evalSet(split, 'test', Number(run.config.maxlen)), model, label: run.label, modelName: run.model, datasetId: run.datasetId };
}

function rows(t: tf.Tensor, width: number): number[][] {
  const data = Array.from(t.dataSync());
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += width) out.push(data.slice(i, i + width));
  return out;
}

export async function inspectUser(db: Db, runId: number, uid: number, k = 50): Promise<UserInspection> {
  const loaded = await loadRunModel(db, runId);
  try {
    return inspectLoaded(db, runId, loaded, uid, k);
  } finally {
    loaded.model.dispose();
  }
}

function inspectLoaded(db: Db, runId: number, loaded: Loaded, uid: number, k: number): UserInspection {
  const { split, test, model } = loaded;
  const row = test.users.indexOf(uid);
  if (row < 0) throw new Error(`user ${uid} is not evaluated on the test day of run ${runId}`);
  const maxlen = test.maxlen;
  const history = test.histories.subarray(row * maxlen, (row + 1) * maxlen);
  const firstReal = history.findIndex((v) => v !== 0);
  const real = firstReal < 0 ? new Int32Array(0) : history.subarray(firstReal);
  const m = model.numInterests;

  // Soft/hard assignment and interest weights, where the model defines them.
  let soft: number[][] | null = null;
  let hard: number[] | null = null;
  let weights: number[] | null = null;
  if (model.inspect) {
    const h = tf.tensor2d(history, [1, maxlen], 'int32');
    const ins = model.inspect(h);
    if (ins.assignment) soft = rows(ins.assignment, m).slice(firstReal < 0 ? maxlen : firstReal);
    if (ins.hard) hard = Array.from(ins.hard.dataSync()).slice(firstReal < 0 ? maxlen : firstReal);
    if (ins.weights) weights = Array.from(ins.weights.dataSync());
    tf.dispose([h, ...[ins.assignment, ins.hard, ins.weights].filter((t) => t !== undefined)]);
  }

  const got = retrieve(model, history, 1, maxlen, k);
  const targets = test.targets[row];
  const vocab = split.vocab;
  const rawOf = (items: ArrayLike<number>) => rawItemIds(db, loaded.datasetId, Array.from(items, (i) => vocab[i]));
  const attributes = itemAttributeValues(db, loaded.datasetId, [...real, ...got.items, ...test.targets[row]].map((i) => vocab[i]));
  const attrs = (item: number): Record<string, string> => attributes.get(vocab[item]) ?? {};

  const listed = Array.from(got.items).filter((i) => i !== 0);
  const listedRaw = rawOf(listed);
  const retrieved = listed.map((item, j) => ({
    item,
    raw: listedRaw[j] ?? String(vocab[item]),
    attributes: attrs(item),
    score: got.scores[j],
    interest: got.interest[j],
    hit: targets.has(item),
  }));
  const hits = retrieved.filter((r) => r.hit).length;
  const perInterest = Array.from({ length: m }, (_, l) => ({
    interest: l,
    retrieved: retrieved.filter((r) => r.interest === l).length,
    hits: retrieved.filter((r) => r.interest === l && r.hit).length,
  }));
  let dcg = 0;
  retrieved.forEach((r, j) => {
    if (r.hit) dcg += 1 / Math.log2(j + 2);
  });
  let idcg = 0;
  for (let j = 0; j < Math.min(targets.size, k); j++) idcg += 1 / Math.log2(j + 2);

  const historyRaw = rawOf(real);
  const targetList = [...targets];
  const targetRaw = rawOf(targetList);
  const argmax = (p: number[]) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);

  return {
    runId,
    model: loaded.modelName,
    label: loaded.label,
    uid,
    raw: rawUserId(db, loaded.datasetId, uid) ?? String(uid),
    k,
    numInterests: m,
    attributeNames: listItemAttributes(db, loaded.datasetId).map((a) => a.name),
    history: Array.from(real, (item, j) => ({
      item,
      raw: historyRaw[j] ?? String(vocab[item]),
      attributes: attrs(item),
      soft: soft ? soft[j] : null,
      category: soft ? argmax(soft[j]) : null,
      hard: hard ? hard[j] : null,
    })),
    weights,
    retrieved,
    targets: targetList.map((item, j) => ({ item, raw: targetRaw[j] ?? String(vocab[item]), attributes: attrs(item) })),
    perInterest,
    metrics: {
      [`recall@${k}`]: targets.size ? hits / targets.size : 0,
      [`hitrate@${k}`]: hits > 0 ? 1 : 0,
      [`ndcg@${k}`]: idcg > 0 ? dcg / idcg : 0,
    },
    map: interestMap(model, history, real, retrieved, targets),
  };
}

/** PCA of the item table; the user's items, a seeded backdrop sample and the interests projected. */
function interestMap(
  model: SeqRecModel,
  history: Int32Array,
  real: Int32Array,
  retrieved: Array<{ item: number; hit: boolean }>,
  targets: ReadonlySet<number>,
): UserInspection['map'] {
  const table = model.itemTable();
  const [numItems, d] = table.shape;
  const flat = table.dataSync() as Float32Array;
  const h = tf.tensor2d(history, [1, history.length], 'int32');
  const u = model.interests(h);
  const interestRows = rows(u, d);
  tf.dispose([table, h, u]);

  const item = (i: number) => Array.from(flat.subarray(i * d, (i + 1) * d));
  const pca = new PCA(Array.from({ length: numItems - 1 }, (_, i) => item(i + 1)), { method: 'covarianceMatrix' });
  const ev = pca.getExplainedVariance();
  const project = (v: number[]) => {
    const p = pca.predict([v], { nComponents: 2 }).getRow(0);
    return { x: p[0], y: p[1] };
  };

  const role = new Map<number, 'history' | 'retrieved' | 'target' | 'hit' | 'other'>();
  // Evenly spaced backdrop: deterministic and spread over the whole catalogue.
  const step = Math.max(1, Math.floor((numItems - 1) / MAP_BACKDROP));
  for (let i = 1; i < numItems; i += step) role.set(i, 'other');
  for (const t of targets) role.set(t, 'target');
  for (const r of retrieved) role.set(r.item, r.hit ? 'hit' : 'retrieved');
  for (const i of real) role.set(i, 'history');
  return {
    explained: [ev[0] ?? 0, ev[1] ?? 0],
    items: [...role].map(([i, r]) => ({ item: i, role: r, ...project(item(i)) })),
    interests: interestRows.map((v, l) => ({ interest: l, ...project(v) })),
  };
}
