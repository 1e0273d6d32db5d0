// Adam with torch.optim.Adam's semantics (the authors' optimiser): weight decay is L2 added to
// the gradient, eps 1e-8 outside the bias-corrected square root. Written out rather than using
// tf.train.adam because TF.js's Adam keys its slots by position and by process-local variable
// names, and checkpoints need state keyed by the model's stable variable names.
import * as tf from '@tensorflow/tfjs';
import type { Config, SeqRecModel } from '../models/types.ts';
import type { SavedTensor, SavedTensors } from './pack.ts';
import { fusedAdam } from '../engine/fused.ts';


interface Slots {
  m: tf.Variable;
  v: tf.Variable;
}

export class Adam {
  readonly beta1 = 0.9;
  readonly beta2 = 0.999;
  readonly epsilon = 1e-8;
  /** Updates applied so far (t in the bias corrections). */
  step = 0;
  readonly slots = new Map<string, Slots>();

  constructor(
    readonly lr: number,
    readonly weightDecay: number,
  ) {}

  private slotsFor(name: string, v: tf.Variable): Slots {
    let s = this.slots.get(name);
    if (!s) {
      s = { m: tf.variable(tf.zerosLike(v), false), v: tf.variable(tf.zerosLike(v), false) };
      this.slots.set(name, s);
    }
    return s;
  }

  /** One update of every variable that has a gradient; grads are keyed like `variables`. */
  apply(variables: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step += 1;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(variables)) {
        const raw = grads[name];
        if (!raw) continue;
        const s = this.slotsFor(name, p);
        // One native pass where the backend has it: the same operations, bit for bit.
        const fused = fusedAdam(p, s.m, s.v, raw, {
          b1: this.beta1, omb1: 1 - this.beta1, b2: this.beta2, omb2: 1 - this.beta2,
          sqrtBc2: Math.sqrt(bc2), eps: this.epsilon, stepSize: this.lr / bc1, wd: this.weightDecay,
        });
        if (fused) {
          p.assign(fused[0]), s.m.assign(fused[1]), s.v.assign(fused[2]);
          continue;
        }
        const g = this.weightDecay > 0 ? tf.add(raw, tf.mul(p, this.weightDecay)) : raw;
        s.m.assign(tf.add(tf.mul(s.m, this.beta1), tf.mul(g, 1 - this.beta1)));
        s.v.assign(tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.div(tf.sqrt(s.v), Math.sqrt(bc2)), this.epsilon);
        p.assign(tf.sub(p, tf.mul(tf.div(s.m, denom), this.lr / bc1)));
      }
    });
  }

  /** Back to the state of a new optimiser: no moments, step 0. */
  reset(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v]);
    this.slots.clear();
    this.step = 0;
  }

  dispose(): void {
    this.reset();
  }
}

export function createOptimizer(config: Config): Adam {
  const lr = config.lr;
  const wd = config.weightDecay;
  if (typeof lr !== 'number' || typeof wd !== 'number') throw new Error('createOptimizer: lr and weightDecay must be numbers');
  return new Adam(lr, wd);
}

function save(t: tf.Tensor): SavedTensor {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

function checked(state: SavedTensors, name: string, shape: number[]): tf.Tensor {
  const s = state[name];
  if (!s) throw new Error(`checkpoint has no tensor '${name}'`);
  if (s.shape.length !== shape.length || s.shape.some((n, i) => n !== shape[i])) {
    throw new Error(`checkpoint tensor '${name}' has shape [${s.shape}], the model expects [${shape}]`);
  }
  return tf.tensor(s.data, shape, 'float32');
}

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

/** The model's weights by its stable variable names. */
export function modelWeights(model: SeqRecModel): SavedTensors {
  return Object.fromEntries(Object.entries(model.variables).map(([name, v]) => [name, save(v)]));
}

/** Loads weights saved by modelWeights into a model of the same shape. */
export function restoreWeights(model: SeqRecModel, state: SavedTensors): void {
  for (const [name, v] of Object.entries(model.variables)) {
    const t = checked(state, name, v.shape);
    v.assign(t);
    t.dispose();
  }
}
