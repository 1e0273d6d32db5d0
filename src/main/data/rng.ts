// A seeded PRNG whose whole state is four uint32 numbers, so a sampler (or a bootstrap) can be
// checkpointed as JSON and resumed on exactly the same stream.
//
// Generator: sfc32, Chris Doty-Humphrey's "Small Fast Counting" generator from the PractRand
// suite (passes PractRand and BigCrush). Seeding: the 32-bit seed is expanded with splitmix32
// (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) and
// the generator is warmed up 12 rounds, as PractRand recommends for sfc.

export type RngState = [number, number, number, number];

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix32 = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = 1; // sfc's counter
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). Multiply-shift mapping: its bias (< n / 2^32) is negligible
   *  for the catalogue and sequence sizes here, and it costs one draw, which keeps streams aligned. */
  int(n: number): number {
    return Math.floor((this.nextU32() / 4294967296) * n);
  }

  /**
   * out[i] = next() < rate ? 0 : scale for every i, drawing exactly as that loop would (so the
   * stream and the values are the same), with the state in locals: a dropout mask is millions of
   * draws, and the per-call property traffic of next() was a third of a DSSRec step.
   */
  fillDropoutMask(out: Float32Array, rate: number, scale: number): void {
    // next() < rate  <=>  u < rate * 2^32 exactly (u / 2^32 and the product are exact doubles).
    const threshold = rate * 4294967296;
    // Signed int32 locals (| 0) hold the same bits as the uint32 fields and stay unboxed; with
    // >>> 0 V8 kept them as heap numbers here, ~70 ns a draw.
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < out.length; i++) {
      const t = (a + b + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      out[i] = t >>> 0 < threshold ? 0 : scale;
    }
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
  }

  getState(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new Error(`invalid RNG state ${JSON.stringify(state)}: expected four uint32 numbers`);
    }
    [this.a, this.b, this.c, this.d] = state;
  }
}
