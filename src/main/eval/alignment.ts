// Agreement between two labellings of the same items (a run's interest per history item and an
// item attribute's label): normalised mutual information and purity. No maintained npm package
// computes NMI (docs/dependencies.md); these follow scikit-learn's definitions exactly
// (normalized_mutual_info_score with average_method='arithmetic', natural logs, the same limit
// cases), so figures can be checked against it.

/** Counts of (cluster, class) pairs; labels are small non-negative integers. */
function contingency(clusters: ArrayLike<number>, classes: ArrayLike<number>): { joint: Map<number, number>; a: Map<number, number>; b: Map<number, number>; n: number; width: number } {
  if (clusters.length !== classes.length) throw new Error(`labellings of different lengths (${clusters.length} and ${classes.length})`);
  let width = 1;
  for (let i = 0; i < classes.length; i++) width = Math.max(width, classes[i] + 1);
  const joint = new Map<number, number>();
  const a = new Map<number, number>();
  const b = new Map<number, number>();
  for (let i = 0; i < clusters.length; i++) {
    const key = clusters[i] * width + classes[i];
    joint.set(key, (joint.get(key) ?? 0) + 1);
    a.set(clusters[i], (a.get(clusters[i]) ?? 0) + 1);
    b.set(classes[i], (b.get(classes[i]) ?? 0) + 1);
  }
  return { joint, a, b, n: clusters.length, width };
}

function entropy(counts: Map<number, number>, n: number): number {
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
  return h;
}

/**
 * NMI(U, V) = MI(U, V) / ((H(U) + H(V)) / 2). As scikit-learn: 1 when both labellings put
 * everything in one group (or there are no items), 0 when the mutual information is 0.
 */
export function nmi(clusters: ArrayLike<number>, classes: ArrayLike<number>): number {
  const { joint, a, b, n, width } = contingency(clusters, classes);
  if ((a.size === 1 && b.size === 1) || n === 0) return 1;
  let mi = 0;
  for (const [key, c] of joint) {
    const ca = a.get(Math.floor(key / width)) as number;
    const cb = b.get(key % width) as number;
    mi += (c / n) * Math.log((c * n) / (ca * cb));
  }
  if (Math.abs(mi) < Number.EPSILON) return 0;
  return mi / ((entropy(a, n) + entropy(b, n)) / 2);
}

/** Purity = (1/N) Σ_clusters max_class |cluster ∩ class|: the share of items whose class is
 *  their cluster's most common one. 1 for no items. */
export function purity(clusters: ArrayLike<number>, classes: ArrayLike<number>): number {
  const { joint, n, width } = contingency(clusters, classes);
  if (n === 0) return 1;
  const best = new Map<number, number>();
  for (const [key, c] of joint) {
    const cluster = Math.floor(key / width);
    best.set(cluster, Math.max(best.get(cluster) ?? 0, c));
  }
  let sum = 0;
  for (const c of best.values()) sum += c;
  return sum / n;
}
