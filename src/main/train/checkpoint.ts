// The one owner of checkpoints: what a run's checkpoint holds, how it is packed and how it is put
// back, for the trainer (resume, a multi-stage model's best weights, the final restore) and the
// inspector. Two kinds, stored by tag in the checkpoints table (SQL in store/runs.ts):
// - 'last', the resume point: model weights under `w/`, Adam's slots under `o/`, and the loop
//   state (step, stage, best so far, patience, time, sampler) as JSON;
// - 'best', the weights of the best validation step (or an untrained model's final ones) with
//   `{"stage": n}`.
// The format is stored data: tensor names, prefixes, the blob layout and the state's keys stay
// as they are (test/train/checkpoint-format.test.ts resumes a checkpoint written before this
// module existed).
import * as tf from '@tensorflow/tfjs';
import type { SamplerState } from '../data/sampler.ts';
import type { SeqRecModel } from '../models/types.ts';
import type { Checkpoint } from '../store/runs.ts';
import type { Adam } from './optimizer.ts';

/** A saved tensor: checkpoints store model weights and optimiser slots in this form. */
export interface SavedTensor {
  shape: number[];
  data: Float32Array;
}
export type SavedTensors = Record<string, SavedTensor>;

/** Everything besides tensors that a resumed run needs to continue exactly where it stopped. */
export interface LoopState {
  step: number;
  stage: number;
  bestMetric: number;
  bestStep: number | null;
  bestStage: number;
  evalsWithoutImprovement: number;
  seconds: number;
  sampler: SamplerState;
}

// ---- The blob: [u32 header length][JSON header, padded to 4 bytes][float32 data] ----

interface Entry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export function packTensors(tensors: SavedTensors): Buffer {
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const header = Buffer.from(JSON.stringify(entries), 'utf8');
  // Pad the header so the float data starts 4-byte aligned.
  const headerLen = Math.ceil(header.length / 4) * 4;
  const out = Buffer.alloc(4 + headerLen + offset * 4);
  out.writeUInt32LE(headerLen, 0);
  header.copy(out, 4);
  const data = new Float32Array(out.buffer, out.byteOffset + 4 + headerLen, offset);
  for (const e of entries) data.set(tensors[e.name].data, e.offset);
  return out;
}

export function unpackTensors(blob: Buffer): SavedTensors {
  const headerLen = blob.readUInt32LE(0);
  const entries = JSON.parse(blob.subarray(4, 4 + headerLen).toString('utf8').replace(/\0+$/, '')) as Entry[];
  const body = blob.subarray(4 + headerLen);
  const all = new Float32Array(body.byteLength / 4);
  new Uint8Array(all.buffer).set(body);
  const out: SavedTensors = {};
  for (const e of entries) out[e.name] = { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) };
  return out;
}

function prefixed(prefix: string, t: SavedTensors): SavedTensors {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [prefix + k, v]));
}

function unprefixed(prefix: string, t: SavedTensors): SavedTensors {
  return Object.fromEntries(
    Object.entries(t)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

function checked(state: SavedTensors, name: string, shape: number[]): tf.Tensor {
  const s = state[name];
  if (!s) throw new Error(`checkpoint has no tensor '${name}'`);
  if (s.shape.length !== shape.length || s.shape.some((n, i) => n !== shape[i])) {
    throw new Error(`checkpoint tensor '${name}' has shape [${s.shape}], the model expects [${shape}]`);
  }
  return tf.tensor(s.data, shape, 'float32');
}

// ---- Model weights ----

/** The model's weights by its stable variable names. */
export function modelWeights(model: SeqRecModel): SavedTensors {
  return Object.fromEntries(Object.entries(model.variables).map(([name, v]) => [name, { shape: [...v.shape], data: Float32Array.from(v.dataSync()) }]));
}

/** Loads weights saved by modelWeights into a model of the same shape. */
export function restoreWeights(model: SeqRecModel, state: SavedTensors): void {
  for (const [name, v] of Object.entries(model.variables)) {
    const t = checked(state, name, v.shape);
    v.assign(t);
    t.dispose();
  }
}

// ---- Adam's slots ----

/** Adam's state keyed `<variable>/m`, `<variable>/v`, plus `step` (a scalar). */
export async function optimizerState(opt: Adam): Promise<SavedTensors> {
  const out: SavedTensors = { step: { shape: [], data: Float32Array.of(opt.step) } };
  for (const [name, s] of opt.slots) {
    out[`${name}/m`] = { shape: [...s.m.shape], data: (await s.m.data()) as Float32Array };
    out[`${name}/v`] = { shape: [...s.v.shape], data: (await s.v.data()) as Float32Array };
  }
  return out;
}

/**
 * Puts saved Adam state back, so the next step continues exactly where the saved run was. Only
 * variables that have had a gradient have slots (a fine-tune stage under a fresh optimiser
 * leaves the pre-train-only ones without), so a missing slot is restored as missing; a slot
 * the model has no variable for means the checkpoint is another model's.
 */
export async function restoreOptimizer(opt: Adam, model: SeqRecModel, state: SavedTensors): Promise<void> {
  const step = state.step;
  if (!step || step.data.length !== 1) throw new Error("optimiser state has no 'step'");
  opt.reset();
  opt.step = step.data[0];
  for (const key of Object.keys(state)) {
    const name = key.replace(/\/[mv]$/, '');
    if (key !== 'step' && !(name in model.variables)) throw new Error(`optimiser state has '${key}', which is not a slot of this model's variables`);
  }
  for (const [name, v] of Object.entries(model.variables)) {
    if (!(`${name}/m` in state) && !(`${name}/v` in state)) continue;
    opt.slots.set(name, {
      m: tf.variable(checked(state, `${name}/m`, v.shape), false),
      v: tf.variable(checked(state, `${name}/v`, v.shape), false),
    });
  }
}

// ---- The two kinds of checkpoint ----

/** The resume point of a run at `state.step`. */
export async function resumePoint(model: SeqRecModel, optimizer: Adam, state: LoopState): Promise<Checkpoint> {
  const tensors = { ...prefixed('w/', modelWeights(model)), ...prefixed('o/', await optimizerState(optimizer)) };
  return { step: state.step, state: JSON.stringify(state), tensors: packTensors(tensors) };
}

/** Puts a resume point back into the model and the optimiser; returns the loop state to go on from. */
export async function resume(checkpoint: Checkpoint, model: SeqRecModel, optimizer: Adam): Promise<LoopState> {
  const state = JSON.parse(checkpoint.state) as LoopState;
  const tensors = unpackTensors(checkpoint.tensors);
  restoreWeights(model, unprefixed('w/', tensors));
  await restoreOptimizer(optimizer, model, unprefixed('o/', tensors));
  return state;
}

/** The model's weights at `step`, in training stage `stage` (the best checkpoint). */
export function weightsAt(model: SeqRecModel, step: number, stage: number): Checkpoint {
  return { step, state: JSON.stringify({ stage }), tensors: packTensors(modelWeights(model)) };
}

/** Loads a best checkpoint's weights and moves a multi-stage model to the stage they belong to. */
export function restoreBest(model: SeqRecModel, best: Checkpoint): void {
  restoreWeights(model, unpackTensors(best.tensors));
  const { stage } = JSON.parse(best.state) as { stage?: number };
  if (model.stages && stage !== undefined) model.stage = model.stages[stage];
}
