// Raw id -> dense id (1..n in order of first appearance). Ids are looked up once per positive,
// tens of millions of times, so small non-negative integer ids (all of WeChat's and KuaiRand's)
// index a typed array directly; a JS Map keyed by a parsed double costs ~10x more. Other ids
// fall back to Maps. A text id that is a canonical decimal integer ("123", not "0123") of at most
// 15 digits takes the integer path: String(n) gives back exactly its text, so no two raw ids can
// collide. Longer integers (beyond a double's 2^53) are keyed by their exact text.

/** Keys below this index the table; 2^24 entries is at most 64 MiB of Int32. */
const TABLE_LIMIT = 1 << 24;

export class DenseIds {
  /** raw[id - 1] is the raw id of dense id `id`. */
  readonly raw: string[] = [];
  private table = new Int32Array(1 << 12);
  private readonly bigInts = new Map<number, number>();
  private readonly texts = new Map<string, number>();

  get size(): number {
    return this.raw.length;
  }

  /** The dense id of integer `key`, assigned on first sight. */
  ofInt(key: number): number {
    if (key >= 0 && key < TABLE_LIMIT) {
      if (key >= this.table.length) this.growTo(key);
      const id = this.table[key];
      if (id !== 0) return id;
      return (this.table[key] = this.raw.push(String(key)));
    }
    let id = this.bigInts.get(key);
    if (id === undefined) {
      id = this.raw.push(String(key));
      this.bigInts.set(key, id);
    }
    return id;
  }

  /** The dense id of the text in buf[s, e) (`escaped`: quoted with "" inside). */
  ofField(b: Buffer, s: number, e: number, escaped: boolean): number {
    const n = e - s;
    if (!escaped && n > 0 && n <= 15 && (b[s] !== 48 || n === 1)) {
      let v = 0;
      let i = s;
      for (; i < e; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === e) return this.ofInt(v);
    }
    const text = b.toString('utf8', s, e);
    return this.ofText(escaped ? text.replaceAll('""', '"') : text);
  }

  /** The dense id of an id given by its text (text ids; integer ids too long for a double). */
  ofText(text: string): number {
    let id = this.texts.get(text);
    if (id === undefined) {
      id = this.raw.push(text);
      this.texts.set(text, id);
    }
    return id;
  }

  private growTo(key: number): void {
    let n = this.table.length;
    while (n <= key) n *= 2;
    const bigger = new Int32Array(Math.min(n, TABLE_LIMIT));
    bigger.set(this.table);
    this.table = bigger;
  }
}

/** Integer key -> number, NaN when absent (feed_info's video length by feedid). */
export class IntKeyedNumbers {
  private table = new Float64Array(1 << 12).fill(NaN);
  private readonly big = new Map<number, number>();
  /** Integer keys too long for a double, by their exact text. */
  private readonly bigText = new Map<string, number>();

  set(key: number, value: number): void {
    if (key >= 0 && key < TABLE_LIMIT) {
      if (key >= this.table.length) {
        let n = this.table.length;
        while (n <= key) n *= 2;
        const bigger = new Float64Array(Math.min(n, TABLE_LIMIT)).fill(NaN);
        bigger.set(this.table);
        this.table = bigger;
      }
      this.table[key] = value;
    } else {
      this.big.set(key, value);
    }
  }

  get(key: number): number {
    if (key >= 0 && key < TABLE_LIMIT) return key < this.table.length ? this.table[key] : NaN;
    return this.big.get(key) ?? NaN;
  }

  setText(key: string, value: number): void {
    this.bigText.set(key, value);
  }

  getText(key: string): number {
    return this.bigText.get(key) ?? NaN;
  }
}
