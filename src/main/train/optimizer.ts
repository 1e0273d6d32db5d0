// Adam with torch.optim.Adam's semantics (the authors' optimiser): weight decay is L2 added to
// the gradient, eps 1e-8 outside the bias-corrected square root. Written out rather than using
// tf.train.adam because TF.js's Adam keys its slots by position and by process-local variable
// names, and checkpoints need state keyed by the model's stable variable names (saved and restored by
// checkpoint.ts).
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../models/types.ts';

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
